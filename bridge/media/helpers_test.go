package media

import (
	"bytes"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

// waitLimit bounds every wait; no test passes or fails on timing.
const waitLimit = 5 * time.Second

// fakeTransport records what the endpoint sends and lets the test inject what it receives.
type fakeTransport struct {
	h        endpoint.Handler
	activity atomic.Int64

	mu     sync.Mutex
	rtp    [][]byte
	rtcp   [][]byte
	remote endpoint.Remote
	closed bool
}

func (t *fakeTransport) WriteRTP(b []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rtp = append(t.rtp, bytes.Clone(b))
	return true
}

func (t *fakeTransport) WriteRTCP(b []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rtcp = append(t.rtcp, bytes.Clone(b))
	return true
}

func (t *fakeTransport) LastActivity() int64 { return t.activity.Load() }

func (t *fakeTransport) SetRemote(r endpoint.Remote) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remote = r
	return nil
}

func (t *fakeTransport) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
}

// take returns and forgets what was sent so far.
func (t *fakeTransport) take() (rtpOut, rtcpOut [][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rtpOut, rtcpOut, t.rtp, t.rtcp = t.rtp, t.rtcp, nil, nil
	return rtpOut, rtcpOut
}

// fixture is a conference of fake-transport endpoints with a manual clock. With manual
// egress the test drains the queues itself, so every step is deterministic.
type fixture struct {
	t       testing.TB
	p       *Plane
	c       *Conference
	clock   atomic.Int64 // ns
	wall    atomic.Int64
	trs     map[string]*fakeTransport
	eps     map[string]*Endpoint
	cfg     []router.EndpointConfig
	expired chan string
	pending string // id of the endpoint being created
	// wrap, when set, wraps each new fake transport (extra interfaces under test).
	wrap func(*fakeTransport) Transport
}

func newFixture(t testing.TB, manual bool) *fixture {
	f := &fixture{t: t, trs: map[string]*fakeTransport{}, eps: map[string]*Endpoint{}, expired: make(chan string, 16)}
	f.clock.Store(1e9)
	f.p = NewPlane(nil, nil, nil, Options{
		Clock: f.clock.Load, WallClock: f.wall.Load, Housekeeping: time.Hour, manualEgress: manual,
		Transports: func(_ ice.Credentials, h endpoint.Handler) (Transport, error) {
			tr := &fakeTransport{h: h}
			f.trs[f.pending] = tr
			if f.wrap != nil {
				return f.wrap(tr), nil
			}
			return tr, nil
		},
		OnExpire: func(_, ep, reason string) { f.expired <- ep + ": " + reason },
	})
	f.c = f.p.Conference("conf1")
	t.Cleanup(func() {
		for _, e := range f.eps {
			e.Close()
		}
		f.p.Close()
	})
	return f
}

// jicofoEndpoint is an endpoint with Jicofo's default media (media.md §2.1) and the given
// audio SSRC base, plus 3-layer simulcast with RTX when video is set.
func jicofoEndpoint(id string, base uint32, video bool) router.EndpointConfig {
	ec := router.EndpointConfig{ID: id,
		PayloadTypes: []router.PayloadType{
			{PT: 111, Kind: router.KindAudio, Name: "opus", ClockRate: 48000, APT: -1, TransportCC: true},
			{PT: 100, Kind: router.KindVideo, Name: "VP8", ClockRate: 90000, APT: -1, NACK: true, PLI: true, FIR: true, TransportCC: true},
			{PT: 96, Kind: router.KindVideo, Name: "rtx", ClockRate: 90000, APT: 100},
		},
		HeaderExtensions: []router.HeaderExtension{{ID: 1, URI: router.URIAudioLevel}, {ID: 3, URI: router.URIAbsSendTime},
			{ID: 5, URI: router.URITransportCC}, {ID: 10, URI: router.URIMID}},
		Audio: []router.AudioSource{{Name: id + "-a0", SSRC: base}},
	}
	if video {
		ec.Video = []router.VideoSource{{Name: id + "-v0", Encodings: []router.Encoding{
			{SSRC: base + 1, RTX: base + 11}, {SSRC: base + 2, RTX: base + 12}, {SSRC: base + 3, RTX: base + 13}}}}
	}
	return ec
}

// add creates an endpoint and publishes the configuration with it.
func (f *fixture) add(ec router.EndpointConfig) *Endpoint {
	f.t.Helper()
	f.pending = ec.ID
	e, err := f.c.NewEndpoint(ec.ID, ice.NewCredentials(""))
	if err != nil {
		f.t.Fatal(err)
	}
	f.eps[ec.ID] = e
	f.cfg = append(f.cfg, ec)
	f.publish()
	return e
}

func (f *fixture) publish() {
	f.c.Update(router.Config{Endpoints: append([]router.EndpointConfig(nil), f.cfg...)}, 0xfeed)
}

func (f *fixture) advance(d time.Duration) { f.clock.Add(int64(d)) }

// sendFrames has src send n frames of s (the first a keyframe) 33 ms apart, draining egress
// after each, and returns what the endpoint rx was sent meanwhile.
func (f *fixture) sendFrames(t *testing.T, src *Endpoint, s *simulcastSender, rx string, n int) []parsed {
	t.Helper()
	var sent []parsed
	for i := range n {
		for _, p := range s.next(i == 0) {
			src.OnRTP(p)
		}
		f.advance(33 * time.Millisecond)
		f.drain()
		out, _ := f.trs[rx].take()
		for _, raw := range out {
			sent = append(sent, parseOut(t, raw))
		}
	}
	return sent
}

// drain runs the (manual) egress workers on the test goroutine until nothing is queued.
func (f *fixture) drain() {
	for progress := true; progress; {
		progress = false
		for _, w := range f.p.workers {
			if w.round() {
				progress = true
			}
		}
	}
}

// rtpPkt describes an RTP packet a test endpoint sends.
type rtpPkt struct {
	ssrc    uint32
	pt      uint8
	seq     uint16
	ts      uint32
	marker  bool
	exts    []rtp.Ext // one-byte form
	payload []byte
}

func (p rtpPkt) bytes() []byte {
	b := []byte{0x80, p.pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if p.marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.seq)
	binary.BigEndian.PutUint32(b[4:], p.ts)
	binary.BigEndian.PutUint32(b[8:], p.ssrc)
	if len(p.exts) > 0 {
		b[0] |= 0x10
		var blk []byte
		for _, e := range p.exts {
			blk = append(blk, e.ID<<4|uint8(len(e.Data)-1))
			blk = append(blk, e.Data...)
		}
		for len(blk)%4 != 0 {
			blk = append(blk, 0)
		}
		b = binary.BigEndian.AppendUint16(b, rtp.ProfileOneByte)
		b = binary.BigEndian.AppendUint16(b, uint16(len(blk)/4))
		b = append(b, blk...)
	}
	return append(b, p.payload...)
}

// vp8Payload is a VP8 payload with a 15-bit picture ID, TL0PICIDX and TID 0; a keyframe
// carries the start code and a size (RFC 6386 §9.1). tag ends the payload, so tests can tell
// which encoding a forwarded packet came from.
func vp8Payload(pic uint16, tl0 uint8, key bool, w, h uint16, tag byte, size int) []byte {
	b := []byte{0x90, 0xe0, byte(0x80 | pic>>8), byte(pic), tl0, 0x00}
	if key {
		b = append(b, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w>>8), byte(h), byte(h>>8))
	} else {
		b = append(b, 0x11)
	}
	for len(b) < size-1 {
		b = append(b, 0xaa)
	}
	return append(b, tag)
}

// simulcastSender produces 3-layer VP8 simulcast frames of an endpoint's video source.
type simulcastSender struct {
	base  uint32
	frame int
	seq   [3]uint16
	tcc   uint16
}

var layerSizes = [3][2]uint16{{320, 180}, {640, 360}, {1280, 720}}

// next returns the packets of the next frame on every encoding (one packet each).
func (s *simulcastSender) next(key bool) [3][]byte {
	s.frame++
	var out [3][]byte
	for e := range 3 {
		s.seq[e]++
		s.tcc++
		out[e] = rtpPkt{ssrc: s.base + 1 + uint32(e), pt: 100, seq: 1000*uint16(e) + s.seq[e],
			ts: uint32(e)*100000 + uint32(s.frame)*3000, marker: true,
			exts:    []rtp.Ext{{ID: 5, Data: []byte{byte(s.tcc >> 8), byte(s.tcc)}}, {ID: 10, Data: []byte("1")}},
			payload: vp8Payload(uint16(e)*5000+uint16(s.frame), uint8(e*40+s.frame), key, layerSizes[e][0], layerSizes[e][1], byte(e), 300),
		}.bytes()
	}
	return out
}

// parsed is a received RTP packet's header, VP8 picture ID and encoding tag.
type parsed struct {
	ssrc uint32
	pt   uint8
	seq  uint16
	ts   uint32
	pic  uint16
	tag  byte
	exts map[uint8][]byte
}

func parseOut(t *testing.T, b []byte) parsed {
	t.Helper()
	var p rtp.Packet
	if r := p.Parse(b); r != rtp.DropNone {
		t.Fatalf("sent RTP does not parse: %v", r)
	}
	out := parsed{ssrc: p.SSRC(), pt: p.PayloadType(), seq: p.Seq(), ts: p.Timestamp(), exts: map[uint8][]byte{}}
	it := p.Extensions()
	for id, d, ok := it.Next(); ok; id, d, ok = it.Next() {
		out.exts[id] = bytes.Clone(d)
	}
	if pl := p.Payload(); len(pl) > 0 {
		out.tag = pl[len(pl)-1]
		var d rtp.VP8Descriptor
		if p.PayloadType() == 100 && d.Parse(pl) == rtp.DropNone {
			out.pic = d.PictureID
		}
	}
	return out
}

// rtcpTypes lists the (type, fmt) of every packet in the compound packets.
func rtcpTypes(pkts [][]byte) [][2]uint8 {
	var out [][2]uint8
	for _, b := range pkts {
		it := rtp.NewRTCPIter(b)
		for h, _, ok := it.Next(); ok; h, _, ok = it.Next() {
			out = append(out, [2]uint8{h.Type, h.Count})
		}
	}
	return out
}
