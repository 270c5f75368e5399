package media

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/selector"
	"github.com/cityjitsi/videobridge/bridge/sender"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

func TestAudioGoesToEveryOtherEndpoint(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	f.add(jicofoEndpoint("b", 2000, true))
	f.add(jicofoEndpoint("c", 3000, false))
	for i := range 3 {
		a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: uint16(500 + i), ts: uint32(960 * i),
			exts:    []rtp.Ext{{ID: 1, Data: []byte{0x80 | 20}}, {ID: 5, Data: []byte{0, byte(i)}}, {ID: 10, Data: []byte("0")}},
			payload: []byte("opus-frame")}.bytes())
	}
	f.drain()
	for _, id := range []string{"b", "c"} {
		out, _ := f.trs[id].take()
		var got []parsed
		for _, b := range out {
			got = append(got, parseOut(t, b))
		}
		// SSRC, sequence numbers and timestamps unchanged (classic mode); the audio level is
		// kept, mid and the sender's transport-wide number are stripped (media.md §2.2).
		lvl := map[uint8][]byte{1: {0x80 | 20}}
		want := []parsed{
			{ssrc: 1000, pt: 111, seq: 500, ts: 0, tag: 'e', exts: lvl},
			{ssrc: 1000, pt: 111, seq: 501, ts: 960, tag: 'e', exts: lvl},
			{ssrc: 1000, pt: 111, seq: 502, ts: 1920, tag: 'e', exts: lvl},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s got\n %+v\nwant %+v", id, got, want)
		}
	}
	if out, _ := f.trs["a"].take(); len(out) != 0 {
		t.Errorf("a got its own audio back: %d packets", len(out))
	}
}

// TestVideoFollowsConstraints: no video before constraints (JVB's initial 0); 180p gets
// encoding 0, 720p switches to encoding 2 at its keyframe, all on the first SIM SSRC with
// continuous sequence numbers and picture IDs.
func TestVideoFollowsConstraints(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	c := f.add(jicofoEndpoint("c", 3000, true))
	s := simulcastSender{base: 1000}
	sendFrame := func(key bool) {
		for _, p := range s.next(key) {
			a.OnRTP(p)
		}
		f.advance(33 * time.Millisecond)
		f.drain()
	}
	sendFrame(true)
	if out, _ := f.trs["b"].take(); len(out) != 0 {
		t.Fatalf("video before constraints: %d packets", len(out))
	}
	f.trs["c"].take()
	f.trs["a"].take()

	b.SetConstraints(180, nil)
	c.SetConstraints(-1, map[string]int{"a-v0": 720})
	sendFrame(false)
	// Both need a keyframe: one PLI reaches a (the source limit allows one per 200 ms).
	_, rtcpA := f.trs["a"].take()
	if n := countPLI(rtcpA); n != 1 {
		t.Errorf("a got %d PLIs, want 1: %v", n, rtcpTypes(rtcpA))
	}
	for range 3 {
		sendFrame(true)
		sendFrame(false)
	}
	check := func(id string, wantTag byte) {
		out, _ := f.trs[id].take()
		if len(out) == 0 {
			t.Fatalf("%s got no video", id)
		}
		var prev parsed
		for i, raw := range out {
			p := parseOut(t, raw)
			if p.ssrc != 1001 || p.pt != 100 {
				t.Errorf("%s packet %d on ssrc %d pt %d, want the first SIM SSRC 1001", id, i, p.ssrc, p.pt)
			}
			if i > 0 && (p.seq != prev.seq+1 || p.pic != prev.pic+1 || int32(p.ts-prev.ts) <= 0) {
				t.Errorf("%s discontinuity: %+v after %+v", id, p, prev)
			}
			if len(p.exts[5]) != 2 || len(p.exts) != 1 {
				t.Errorf("%s extensions %v, want only the bridge's transport-cc", id, p.exts)
			}
			prev = p
		}
		if prev.tag != wantTag {
			t.Errorf("%s ends on encoding %d, want %d", id, prev.tag, wantTag)
		}
	}
	check("b", 0)
	check("c", 2)
	st := c.Stats()
	if st.EgressDrops[sender.DropReason(selector.DropNotTargetEncoding)] == 0 {
		t.Errorf("c dropped nothing as not_target_encoding: %+v", st.EgressDrops)
	}
}

func countPLI(pkts [][]byte) int {
	n := 0
	for _, tf := range rtcpTypes(pkts) {
		if tf == [2]uint8{rtp.TypePSFB, rtp.FmtPLI} {
			n++
		}
	}
	return n
}

func TestIngressDropsCounted(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, false))
	audio := func(ssrc uint32, seq uint16) []byte {
		return rtpPkt{ssrc: ssrc, pt: 111, seq: seq, payload: []byte("x")}.bytes()
	}
	a.OnRTP([]byte{0x80, 111, 0})                                           // malformed
	a.OnRTP(audio(4242, 1))                                                 // unknown SSRC
	a.OnRTP(audio(2000, 1))                                                 // b's SSRC from a
	a.OnRTP(audio(1000, 7))                                                 // forwarded
	a.OnRTP(audio(1000, 7))                                                 // duplicate
	a.OnRTP(rtpPkt{ssrc: 1011, pt: 96, seq: 1, payload: []byte{0}}.bytes()) // RTX probe
	a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: 8}.bytes())                    // padding only
	f.cfg[0].ForceMuteAudio = true
	f.publish()
	a.OnRTP(audio(1000, 9)) // force-muted
	f.drain()
	var want [numDropReasons]uint64
	want[DropMalformed], want[DropUnknownSSRC], want[DropForeignSSRC], want[DropDuplicate] = 1, 1, 1, 1
	want[DropRTXPadding], want[DropPadding], want[DropForceMuted] = 1, 1, 1
	if got := a.Stats().IngressDrops; got != want {
		t.Errorf("drops %v, want %v", got, want)
	}
	if out, _ := f.trs["b"].take(); len(out) != 1 {
		t.Errorf("b got %d packets, want the one valid packet", len(out))
	}
	if st := a.Stats(); st.RTPReceived != 8 {
		t.Errorf("RTPReceived %d", st.RTPReceived)
	}
	var stats Stats
	stats.IngressDrops = want
	if d := stats.Drops(); len(d) != 7 || d[0].Stage != "ingress" {
		t.Errorf("Drops() = %+v", d)
	}
	_ = b
}

func TestNACKAnsweredWithRTX(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	b.SetConstraints(180, nil)
	s := simulcastSender{base: 1000}
	sent := f.sendFrames(t, a, &s, "b", 5)
	if len(sent) < 3 {
		t.Fatalf("b got %d packets", len(sent))
	}
	lost := sent[1].seq
	// b lost two packets: PID lost, BLP bit 1 (lost+2).
	b.OnRTCP(rtp.AppendNACK(nil, 2000, 1001, []uint16{lost, lost + 2}))
	f.drain()
	out, _ := f.trs["b"].take()
	if len(out) != 2 {
		t.Fatalf("got %d retransmissions, want 2", len(out))
	}
	for i, raw := range out {
		var p rtp.Packet
		if p.Parse(raw) != rtp.DropNone {
			t.Fatal("RTX does not parse")
		}
		osn, _ := p.RTXOriginalSeq()
		want := []uint16{lost, lost + 2}[i]
		if p.SSRC() != 1011 || p.PayloadType() != 96 || p.Seq() != uint16(i+1) || osn != want {
			t.Errorf("RTX %d: ssrc %d pt %d seq %d osn %d, want 1011/96/%d/%d", i, p.SSRC(), p.PayloadType(), p.Seq(), osn, i+1, want)
		}
	}
	if st := b.Stats(); st.Retransmissions != 2 {
		t.Errorf("retransmissions %d", st.Retransmissions)
	}
}

// TestKeyframeRequestsThrottled: PLIs from a receiver reach the source's owner as PLI on the
// encoding being sent, within the limits of media.md §2.6.
func TestKeyframeRequestsThrottled(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	b.SetConstraints(180, nil)
	s := simulcastSender{base: 1000}
	for i := range 3 {
		for _, p := range s.next(i == 0) {
			a.OnRTP(p)
		}
		f.advance(33 * time.Millisecond)
		f.drain()
	}
	f.advance(time.Second)
	f.trs["a"].take()
	var got []int
	for range 10 { // one PLI every 100 ms
		b.OnRTCP(rtp.AppendPLI(nil, 2000, 1001))
		f.drain()
		_, rtcp := f.trs["a"].take()
		got = append(got, countPLI(rtcp))
		f.advance(100 * time.Millisecond)
	}
	// The first went, then every other one (200 ms apart), until 3 in 10 s. (The selector
	// needed no request of its own: the first packet b was sent was a keyframe.)
	want := []int{1, 0, 1, 0, 1, 0, 0, 0, 0, 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PLIs reaching a: %v, want %v", got, want)
	}
	if st := b.Stats(); st.KeyframesThrottled == 0 {
		t.Error("nothing counted as throttled")
	}
}

func TestSenderReportTranslated(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	f.add(jicofoEndpoint("c", 3000, true)) // sent nothing yet: gets no SR
	b.SetConstraints(180, nil)
	s := simulcastSender{base: 1000}
	for i := range 3 {
		for _, p := range s.next(i == 0) {
			a.OnRTP(p)
		}
		f.drain()
	}
	f.trs["b"].take()
	f.trs["c"].take()
	sr := rtp.AppendSR(nil, rtp.SenderInfo{SSRC: 1001, NTPTime: 0xabcdef, RTPTime: 3000 * 3, PacketCount: 77, OctetCount: 7777},
		rtp.ReportBlock{SSRC: 42})
	a.OnRTCP(sr)
	f.drain()
	_, rtcp := f.trs["b"].take()
	if len(rtcp) != 1 {
		t.Fatalf("b got %d RTCP packets", len(rtcp))
	}
	got, r := rtp.ParseSR(rtcp[0])
	want := rtp.SenderInfo{SSRC: 1001, NTPTime: 0xabcdef, RTPTime: 3000 * 3, PacketCount: 3, OctetCount: 3 * 300}
	if r != rtp.DropNone || got.SenderInfo != want || got.Reports.Len() != 0 {
		t.Errorf("SR %+v (%d blocks), want %+v without blocks", got.SenderInfo, got.Reports.Len(), want)
	}
	if _, rtcp := f.trs["c"].take(); len(rtcp) != 0 {
		t.Errorf("c got %d RTCP packets before any media", len(rtcp))
	}
	_ = b
}

// TestUpstreamFeedback: the bridge NACKs a gap at once, reports every 500 ms and sends
// transport-cc feedback (on a marker packet, 20 ms after the last), all to the sender.
func TestUpstreamFeedback(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	f.add(jicofoEndpoint("b", 2000, true))
	s := simulcastSender{base: 1000}
	a.OnRTP(s.next(true)[0])
	f.drain()
	_, rtcp := f.trs["a"].take()
	if got := rtcpTypes(rtcp); !reflect.DeepEqual(got, [][2]uint8{{rtp.TypeRR, 1}}) {
		t.Errorf("after the first packet: %v, want the first RR", got)
	}
	f.advance(10 * time.Millisecond)
	s.next(false) // lost
	a.OnRTP(s.next(false)[0])
	f.drain()
	_, rtcp = f.trs["a"].take()
	if got := rtcpTypes(rtcp); !reflect.DeepEqual(got, [][2]uint8{{rtp.TypeRTPFB, rtp.FmtNACK}}) {
		t.Fatalf("after a gap: %v, want one NACK", got)
	}
	n, _ := rtp.ParseNACK(rtcp[0])
	it := n.Lost()
	if seq, ok := it.Next(); !ok || seq != 2 || n.MediaSSRC != 1001 || n.SenderSSRC != 0xfeed {
		t.Errorf("NACK for %d on %d from %x", seq, n.MediaSSRC, n.SenderSSRC)
	}
	f.advance(20 * time.Millisecond)
	a.OnRTP(s.next(false)[0])
	f.drain()
	_, rtcp = f.trs["a"].take()
	if got := rtcpTypes(rtcp); !reflect.DeepEqual(got, [][2]uint8{{rtp.TypeRTPFB, rtp.FmtTransportCC}}) {
		t.Errorf("30 ms later: %v, want transport-cc feedback", got)
	}
	f.advance(500 * time.Millisecond)
	a.OnRTP(s.next(false)[0])
	f.drain()
	_, rtcp = f.trs["a"].take()
	// The lost packet is asked for again (every 150 ms, up to 10 times).
	want := [][2]uint8{{rtp.TypeRTPFB, rtp.FmtNACK}, {rtp.TypeRR, 1}, {rtp.TypeRTPFB, rtp.FmtTransportCC}}
	if got := rtcpTypes(rtcp); !reflect.DeepEqual(got, want) {
		t.Errorf("after 530 ms: %v, want the NACK again, an RR with one block and transport-cc feedback", got)
	}
}

func TestLiveness(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	c := f.add(jicofoEndpoint("c", 3000, true))
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-f.expired:
			if got != want {
				t.Errorf("expired %q, want %q", got, want)
			}
		default:
			t.Errorf("nothing expired, want %q", want)
		}
	}
	minute := int64(time.Minute)
	a.OnICEState(0) // new: nothing
	a.checkLiveness(2*minute - 1)
	b.OnICEState(2) // connected
	b.OnICEState(4) // failed: at once
	expect("b: ICE failed")
	a.checkLiveness(2 * minute)
	expect("a: ICE did not connect")
	a.checkLiveness(3 * minute) // once only
	c.OnICEState(2)
	f.trs["c"].activity.Store(5 * minute)
	c.checkLiveness(6*minute - 1)
	c.checkLiveness(6 * minute)
	expect("c: inactive")
	select {
	case got := <-f.expired:
		t.Errorf("unexpected expiry %q", got)
	default:
	}
}

func TestSenderSSRCsAreBigEndian(t *testing.T) {
	// Guard the test helpers themselves: the fixture's packets carry what they say.
	b := rtpPkt{ssrc: 0x01020304, pt: 100, seq: 0x0506}.bytes()
	if binary.BigEndian.Uint32(b[8:]) != 0x01020304 || binary.BigEndian.Uint16(b[2:]) != 0x0506 {
		t.Fatal("helper packet layout")
	}
}

// TestRTTFromReceiverReports: a receiver's RR naming an SR the bridge forwarded to it gives
// its RTT, which then holds back retransmissions within it and shows in the plane's
// rtt_aggregate; RTX histories idle for sender.HistoryIdle are released by the sweep.
func TestRTTFromReceiverReports(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	b.SetConstraints(180, nil)
	s := simulcastSender{base: 1000}
	sent := f.sendFrames(t, a, &s, "b", 3)
	if len(sent) == 0 {
		t.Fatal("b was sent nothing")
	}
	const ntp = uint64(0xe000_1234_5678_0000)
	a.OnRTCP(rtp.AppendSR(nil, rtp.SenderInfo{SSRC: 1001, NTPTime: ntp, RTPTime: 9000}))
	f.drain()
	if _, rtcp := f.trs["b"].take(); len(rtcp) != 1 {
		t.Fatalf("b got %d RTCP packets, want the SR", len(rtcp))
	}
	if b.rtt.Load() != 0 {
		t.Fatal("RTT known before any report")
	}
	// b reports 80 ms after the SR left, having held it 30 ms: 50 ms round trip. Its first
	// block names an SSRC the bridge never reported on.
	f.advance(80 * time.Millisecond)
	b.OnRTCP(rtp.AppendRR(nil, 2000, rtp.ReportBlock{SSRC: 4242, LSR: 0x77},
		rtp.ReportBlock{SSRC: 1001, LSR: uint32(ntp >> 16 & 0xffff_ffff), DLSR: 30 << 16 / 1000}))
	if rtt := b.rtt.Load(); rtt < 49e6 || rtt > 51e6 {
		t.Fatalf("RTT %d ns, want about 50 ms", rtt)
	}
	var k keeper
	f.p.housekeep(&k)
	if got := f.p.Rates().RTTAggregateMs; got < 49 || got > 51 {
		t.Errorf("rtt_aggregate %.2f ms, want about 50", got)
	}

	// A NACK right after a packet went out is held back; 50 ms later it is answered.
	for _, p := range s.next(false) {
		a.OnRTP(p)
	}
	f.drain()
	out, _ := f.trs["b"].take()
	if len(out) == 0 {
		t.Fatal("b was sent nothing of the new frame")
	}
	nack := rtp.AppendNACK(nil, 2000, 1001, []uint16{parseOut(t, out[0]).seq})
	b.OnRTCP(nack)
	f.drain()
	if out, _ := f.trs["b"].take(); len(out) != 0 {
		t.Errorf("%d retransmissions within the RTT", len(out))
	}
	if n := b.Stats().EgressDrops[sender.DropRetransmittedRecently]; n != 1 {
		t.Errorf("retransmitted_recently drops %d, want 1", n)
	}
	f.advance(50 * time.Millisecond)
	b.OnRTCP(nack)
	f.drain()
	if out, _ := f.trs["b"].take(); len(out) != 1 {
		t.Errorf("%d retransmissions after the RTT, want 1", len(out))
	}

	// a stops sending. The sweep before sender.HistoryIdle keeps b's history; the one after
	// releases it, and a NACK then finds nothing.
	f.advance(time.Duration(sender.HistoryIdle) - 100*time.Millisecond)
	f.p.housekeep(&k)
	f.drain()
	if n := b.Stats().HistoriesExpired; n != 0 {
		t.Fatalf("%d histories expired early", n)
	}
	f.advance(time.Second)
	k.swept = 0 // sweep on this tick
	f.p.housekeep(&k)
	f.drain()
	if n := b.Stats().HistoriesExpired; n != 1 {
		t.Fatalf("histories expired %d, want 1 (b's of a's video)", n)
	}
	b.OnRTCP(rtp.AppendNACK(nil, 2000, 1001, []uint16{sent[0].seq}))
	f.drain()
	if out, _ := f.trs["b"].take(); len(out) != 0 {
		t.Errorf("%d retransmissions from an expired history", len(out))
	}
	if n := b.Stats().EgressDrops[sender.DropNotInHistory]; n != 1 {
		t.Errorf("not_in_history drops %d, want 1", n)
	}
}

// TestPreemptiveKeyframe: the delay follows the RTTs (media.md §2.6), and the request reaches
// the speaker as a PLI on its first video SSRC (FIR without PLI support), within the source's
// limit only.
func TestPreemptiveKeyframe(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	c := f.add(jicofoEndpoint("c", 3000, false))
	if d := a.PreemptiveKeyframeDelay(); d != 10*time.Millisecond {
		t.Errorf("delay with no RTT known %v, want 10ms", d)
	}
	a.rtt.Store(int64(30 * time.Millisecond))
	b.rtt.Store(int64(80 * time.Millisecond))
	c.rtt.Store(int64(50 * time.Millisecond))
	for e, want := range map[*Endpoint]time.Duration{a: 60 * time.Millisecond, b: -20 * time.Millisecond,
		c: 40 * time.Millisecond} {
		if d := e.PreemptiveKeyframeDelay(); d != want {
			t.Errorf("delay for %s %v, want %v", e.ID(), d, want)
		}
	}
	f.drain()
	f.trs["a"].take()
	// The first goes; the second is within the source's 200 ms; the third is after it.
	var got []bool
	for _, step := range []time.Duration{0, 100 * time.Millisecond, 100 * time.Millisecond} {
		f.advance(step)
		got = append(got, a.RequestKeyframe())
	}
	if want := []bool{true, false, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("requests queued %v, want %v", got, want)
	}
	f.drain()
	_, rtcp := f.trs["a"].take()
	if len(rtcp) != 2 {
		t.Fatalf("a got %d RTCP packets, want 2 PLIs", len(rtcp))
	}
	for _, raw := range rtcp {
		if pli, r := rtp.ParsePLI(raw); r != rtp.DropNone || pli.MediaSSRC != 1001 {
			t.Errorf("request %x: %+v %v, want a PLI for 1001", raw, pli, r)
		}
	}
	if c.RequestKeyframe() {
		t.Error("a request for an endpoint without video was queued")
	}

	// An owner that signaled no PLI gets a FIR.
	ec := jicofoEndpoint("d", 4000, true)
	ec.PayloadTypes[1].PLI = false
	d := f.add(ec)
	f.drain()
	f.trs["d"].take()
	if !d.RequestKeyframe() {
		t.Fatal("request to d not queued")
	}
	f.drain()
	_, rtcp = f.trs["d"].take()
	if len(rtcp) != 1 {
		t.Fatalf("d got %d RTCP packets, want a FIR", len(rtcp))
	}
	if fir, r := rtp.ParseFIR(rtcp[0]); r != rtp.DropNone || fir.Len() != 1 || fir.Entry(0).SSRC != 4001 {
		t.Errorf("request to d %x: %v, want a FIR for 4001", rtcp[0], r)
	}
}

// TestNewEndpointPublishes: a new endpoint changes the routing snapshot only when the
// configuration already lists it; otherwise the next Update adds it.
func TestNewEndpointPublishes(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	before := a.view.Load()
	b, err := f.c.NewEndpoint("b", ice.NewCredentials(""))
	if err != nil {
		t.Fatal(err)
	}
	if a.view.Load() != before || b.view.Load() != nil {
		t.Error("an endpoint the configuration does not list made a new snapshot")
	}
	// Listed first (as after a failed creation that the control plane still has), then created.
	f.cfg = append(f.cfg, jicofoEndpoint("c", 3000, true))
	f.publish()
	c, err := f.c.NewEndpoint("c", ice.NewCredentials(""))
	if err != nil {
		t.Fatal(err)
	}
	if v := c.view.Load(); v == nil || v.snap.eps[v.idx] != c {
		t.Error("an endpoint the configuration lists got no view when created")
	}
	// Unlisted again: c loses its view, a keeps one.
	f.cfg = f.cfg[:1]
	f.publish()
	if c.view.Load() != nil || a.view.Load() == nil {
		t.Errorf("after c left the configuration: c's view %v, a's %v", c.view.Load(), a.view.Load())
	}
	b.Close()
	c.Close()
}
