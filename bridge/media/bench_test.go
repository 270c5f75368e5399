package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/srtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

type fakeExporter struct{}

func (fakeExporter) ExportKeyingMaterial(_ string, _ []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(i * 7)
	}
	return out, nil
}

// srtpTransport is the send half of endpoint.Transport without ICE: SRTP encryption into a
// pooled datagram buffer and the non-blocking hand-over to the socket's writer goroutine.
type srtpTransport struct {
	tx      *srtp.Context
	sock    *udp.Socket
	dst     netip.AddrPort
	dropped int
}

func (t *srtpTransport) write(pkt []byte, rtcp bool) bool {
	buf := udp.GetBuffer()
	var out []byte
	var err error
	if rtcp {
		out, err = t.tx.EncryptRTCP(buf[:0], pkt)
	} else {
		out, err = t.tx.EncryptRTP(buf[:0], pkt)
	}
	if err != nil {
		udp.PutBuffer(buf, udp.MTU)
		return false
	}
	if t.sock == nil { // encryption only: the buffer goes straight back to the pool
		udp.PutBuffer(buf, len(out))
		return true
	}
	if !t.sock.Enqueue(buf, len(out), t.dst) {
		t.dropped++
		return false
	}
	return true
}

// PrefetchSend hints as endpoint.Transport's does (media's fan-out prefetch pipeline).
func (t *srtpTransport) PrefetchSend(stage int, b *prefetch.Batch) {
	switch stage {
	case 0:
		b.Add(unsafe.Pointer(t), unsafe.Sizeof(*t))
	case 1:
		t.tx.PrefetchEncrypt(false, b)
	case 2:
		t.tx.PrefetchEncrypt(true, b)
	}
}

func (t *srtpTransport) WriteRTP(pkt []byte) bool        { return t.write(pkt, false) }
func (t *srtpTransport) WriteRTCP(pkt []byte) bool       { return t.write(pkt, true) }
func (t *srtpTransport) LastActivity() int64             { return 0 }
func (t *srtpTransport) SetRemote(endpoint.Remote) error { return nil }
func (t *srtpTransport) Close()                          {}
func (t *srtpTransport) OnRTP([]byte)                    {}
func (t *srtpTransport) OnICEState(endpoint.ICEState)    {}
func (t *srtpTransport) OnDTLSState(endpoint.DTLSState)  {}
func (t *srtpTransport) HandleRTCP([]byte)               {}
func (t *srtpTransport) keysOrFail(b testing.TB, p srtp.Profile) {
	keys, err := srtp.KeysFromDTLS(fakeExporter{}, p, false)
	if err != nil {
		b.Fatal(err)
	}
	if t.tx, err = srtp.NewOutbound(keys); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkForward measures the whole forward path for one 1200-byte VP8 packet: ingress of
// the decrypted packet (parse, routing lookup, receive state, transport-wide arrival, layer
// tracking, one copy into a packet.Buf, fan-out to 10 receivers' queues), then each
// receiver's egress (selector decision, rewrite with a new transport-wide sequence number and
// picture ID, RTX history, SRTP encryption, enqueue to the socket writer). The egress runs
// on the benchmark goroutine, so ns/op is the CPU of one incoming packet forwarded 10 times
// (kernel sends excluded: the socket's writer goroutine does those).
func BenchmarkForward(b *testing.B) {
	for _, prof := range []srtp.Profile{srtp.ProfileAEADAES128GCM, srtp.ProfileAES128CMHMACSHA1_80} {
		b.Run(prof.String(), func(b *testing.B) { benchForward(b, prof, true, 10) })
	}
	// Without the socket: the same path up to and including SRTP, the encrypted datagram
	// going back to the pool instead of to the writer goroutine (which competes for the CPUs
	// in the runs above).
	b.Run(srtp.ProfileAEADAES128GCM.String()+"/no-socket", func(b *testing.B) {
		benchForward(b, srtp.ProfileAEADAES128GCM, false, 10)
	})
	// A lecture's fan-out: every receiver's egress state is cold by the time the next
	// packet reaches it.
	b.Run(srtp.ProfileAEADAES128GCM.String()+"/no-socket/100-receivers", func(b *testing.B) {
		benchForward(b, srtp.ProfileAEADAES128GCM, false, 100)
	})
	// The same with the caches flushed between packets (timer stopped), as the kernel's
	// sends and other receivers' state flush them in the running bridge: this is where the
	// fan-out's prefetch hints (hint.go) pay.
	b.Run(srtp.ProfileAEADAES128GCM.String()+"/no-socket/100-receivers/evicted", func(b *testing.B) {
		benchForwardOpts(b, srtp.ProfileAEADAES128GCM, false, 100, true)
	})
}

// evictBytes is more than a core's L2 and the shared L3 (1 MiB and 32 MiB on these EPYC
// machines): the state then comes from memory. Evicting only L2 leaves it in L3, where the
// misses cost little; in the running bridge perf annotate shows them costing much more.
const evictBytes = 64 << 20

var evictBuf = make([]byte, evictBytes)

// evictCaches overwrites evictBytes of memory, pushing the forward path's state out of the
// core's private caches.
func evictCaches() {
	for i := 0; i < len(evictBuf); i += 64 {
		evictBuf[i]++
	}
}

// benchConference is a conference of one sender and n receivers on SRTP
// transports writing to a real socket, with manual egress and clock.
type benchConference struct {
	clock     atomic.Int64 // ns; the plane's housekeeping goroutine reads it too
	p         *Plane
	src       *Endpoint
	receivers []*Endpoint
	trs       []*srtpTransport
}

func newBenchConference(b testing.TB, prof srtp.Profile, withSocket bool, n int) *benchConference {
	var sock *udp.Socket
	if withSocket {
		var err error
		if sock, err = udp.Listen(0, udp.Options{Addr: netip.MustParseAddr("127.0.0.1")}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sock.Close() })
	}
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sink.Close() })
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	bc := &benchConference{}
	bc.clock.Store(1e9)
	p := NewPlane(nil, nil, nil, Options{manualEgress: true, Clock: bc.clock.Load,
		Transports: func(ice.Credentials, endpoint.Handler) (Transport, error) {
			t := &srtpTransport{sock: sock, dst: dst}
			t.keysOrFail(b, prof)
			bc.trs = append(bc.trs, t)
			return t, nil
		}})
	b.Cleanup(p.Close)
	bc.p = p
	c := p.Conference("bench")
	var cfg router.Config
	for i := range n + 1 {
		ec := jicofoEndpoint(string(rune('a'+i)), uint32(1000*(i+1)), true)
		e, err := c.NewEndpoint(ec.ID, ice.NewCredentials(""))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(e.Close)
		cfg.Endpoints = append(cfg.Endpoints, ec)
		e.SetConstraints(720, nil)
		if i == 0 {
			bc.src = e
		} else {
			bc.receivers = append(bc.receivers, e)
		}
	}
	c.Update(cfg, 0xfeed)
	return bc
}

func benchForward(b *testing.B, prof srtp.Profile, withSocket bool, n int) {
	benchForwardOpts(b, prof, withSocket, n, false)
}

func benchForwardOpts(b *testing.B, prof srtp.Profile, withSocket bool, n int, evict bool) {
	bc := newBenchConference(b, prof, withSocket, n)
	step := bc.stepper(b, false)
	for range 2000 { // warm up: pools, streams, senders, full RTX histories
		step()
	}
	// Sent, or handed to a full socket queue (the writer goroutine shares the CPUs).
	if st := bc.receivers[0].Stats(); st.RTPSent+st.WriteFailed < 1990 {
		b.Fatalf("receiver was forwarded %d of 2000 packets: %+v", st.RTPSent+st.WriteFailed, st)
	}
	b.ReportAllocs()
	b.SetBytes(1200)
	b.ResetTimer()
	for b.Loop() {
		if evict {
			b.StopTimer()
			evictCaches()
			b.StartTimer()
		}
		step()
	}
	b.StopTimer()
	// Every packet must have been forwarded to every receiver (sent, or refused by a full
	// socket queue), or the figure measures drops.
	for _, r := range bc.receivers {
		if st := r.Stats(); st.RTPSent+st.WriteFailed != uint64(2000+b.N) {
			b.Fatalf("forwarded %d of %d: %+v", st.RTPSent+st.WriteFailed, 2000+b.N, st)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/forwarded")
	dropped := 0
	for _, t := range bc.trs {
		dropped += t.dropped
	}
	b.ReportMetric(float64(dropped)/float64(b.N*n), "sendq-drops/forwarded")
}

// stepper returns a function that sends the conference's source one 1200-byte VP8 packet
// (a keyframe first, then inter frames; with audio, an Opus packet before it) and runs the
// workers' rounds, as one packet of a frame burst would be forwarded.
func (bc *benchConference) stepper(tb testing.TB, audio bool) func() {
	pkt := rtpPkt{ssrc: 1001, pt: 100, marker: true,
		exts:    []rtp.Ext{{ID: 5, Data: []byte{0, 0}}, {ID: 10, Data: []byte("1")}},
		payload: vp8Payload(0, 0, true, 320, 180, 0, 1200-24)}.bytes()
	if pkt[30] != 0x10 {
		tb.Fatalf("payload layout changed: VP8 header byte %#x", pkt[30])
	}
	opus := rtpPkt{ssrc: 1000, pt: 111, exts: []rtp.Ext{{ID: 1, Data: []byte{0x80 | 30}}},
		payload: make([]byte, 120)}.bytes()
	var seq, pic uint16
	var ts uint32
	return func() {
		seq++
		ts += 3000 // wraps as RTP does, independently of seq
		pic = (pic + 1) & 0x7fff
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		binary.BigEndian.PutUint16(pkt[17:], seq) // the transport-cc element's data
		binary.BigEndian.PutUint16(pkt[26:], 0x8000|pic)
		bc.clock.Add(1e6)
		if audio {
			binary.BigEndian.PutUint16(opus[2:], seq)
			binary.BigEndian.PutUint32(opus[4:], uint32(seq)*960)
			bc.src.OnRTP(opus)
		}
		bc.src.OnRTP(pkt)
		pkt[30] |= 0x01 // inter frames (P=1) after the first, a keyframe
		for _, w := range bc.p.workers {
			w.round()
		}
	}
}

// TestForwardPathAllocs checks that the whole forward path allocates nothing per packet:
// ingress, the round's regrouping of audio and video, the hints (20 receivers), the
// selector, the rewrite and SRTP encryption.
func TestForwardPathAllocs(t *testing.T) {
	bc := newBenchConference(t, srtp.ProfileAEADAES128GCM, false, 20)
	step := bc.stepper(t, true)
	for range 600 { // warm up: pools, streams, senders, full RTX histories
		step()
	}
	if st := bc.receivers[0].Stats(); st.RTPSent < 1000 {
		t.Fatalf("receiver was forwarded %d packets of 600 audio and 600 video: %+v", st.RTPSent, st)
	}
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items); make test runs without it")
	}
	if n := testing.AllocsPerRun(500, step); n != 0 {
		t.Errorf("%.1f allocations per audio and video packet forwarded to 20 receivers", n)
	}
}
