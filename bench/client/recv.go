package client

import (
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/bench/stats"
	"github.com/cityjitsi/videobridge/bench/traffic"
	"github.com/cityjitsi/videobridge/bridge/bwe"
	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// Receive-side limits.
const (
	maxStreams = 512 // SSRCs tracked per endpoint; more are counted as unknown
	maxPending = 256 // sequence numbers awaiting a NACK answer per stream
	// nackGapLimit: a jump this large resets instead of NACKing (JVB and libwebrtc do alike).
	nackGapLimit = 100
)

// recvStream is what a receiver knows about one incoming SSRC.
type recvStream struct {
	ssrc    uint32
	kind    Kind
	origin  Origin
	known   bool // origin from the registry or a verified sample
	loss    stats.Loss
	frames  stats.Frames
	jitter  stats.Jitter
	packets uint64
	bytes   uint64
	sampleN uint64
	// layers counts verified samples per encoding the sender used (StreamVideo0+e).
	layers    [4]uint64
	lastLayer int8
	// RR state.
	lastSR         uint32 // middle 32 bits of the last SR's NTP time
	lastSRAt       int64
	prevExpected   uint64
	prevReceived   uint64
	pending        []pendingNACK
	nacked         uint64 // distinct sequence numbers NACKed
	recovered      uint64 // NACKed numbers that arrived later
	unrecoverable  uint64
	lastPLI        int64
	wantPLI        bool
	lastKeyframeAt int64
}

type pendingNACK struct {
	seq   uint64
	tries uint8
	last  int64 // ns of the last NACK for it, 0: not yet sent
}

// latencyHists are the latency samples since the last Snapshot.
type latencyHists struct {
	audio, video stats.Histogram
}

// recvState is guarded by Client.mu.
type recvState struct {
	streams     map[uint32]*recvStream
	twcc        bwe.FeedbackGenerator
	twccPending bool
	rng         *rand.Rand
	lossRate    float64
	sampleEvery uint64
	reg         *Registry
	rtt         stats.Histogram // from RRs about our streams (senders)
	rttLast     time.Duration
	unknown     uint64 // packets of SSRCs beyond maxStreams
	// lastVideoSSRC is the media SSRC transport-cc feedback names (libwebrtc names the
	// latest media stream; the bridge does not use it).
	lastVideoSSRC uint32
}

func (rs *recvState) init(cfg Config, seed uint64) {
	rs.streams = map[uint32]*recvStream{}
	rs.rng = rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))
	rs.lossRate = cfg.RecvLoss
	rs.sampleEvery = uint64(cfg.SampleEvery)
	rs.reg = cfg.Registry
}

// stream returns the state for ssrc, creating it on first sight.
func (rs *recvState) stream(ssrc uint32, pt uint8) *recvStream {
	if s := rs.streams[ssrc]; s != nil {
		return s
	}
	if len(rs.streams) >= maxStreams {
		return nil
	}
	s := &recvStream{ssrc: ssrc, lastLayer: -1}
	if o, ok := rs.reg.Lookup(ssrc); ok {
		s.origin, s.kind, s.known = o, o.Kind, true
	} else {
		// SSRC-rewriting mode (or a foreign bridge): classify by payload type, learn the
		// origin from the first verified sample.
		switch pt {
		case traffic.PTOpus:
			s.kind = KindAudio
		case traffic.PTVP8:
			s.kind = KindVideo
		case traffic.PTVP8RTX:
			s.kind = KindRTX
		}
	}
	clock := traffic.ClockVideo
	if s.kind == KindAudio {
		clock = traffic.ClockAudio
	}
	s.jitter = stats.NewJitter(clock)
	rs.streams[ssrc] = s
	return s
}

func (c *Client) onRTP(b []byte, now int64) {
	rx := c.rx.Load()
	if rx == nil {
		c.counter.NotReady.Add(1)
		return
	}
	h, ok := parseClearHeader(b, traffic.ExtTransportCC)
	if !ok {
		c.counter.Malformed.Add(1)
		return
	}
	c.firstRTP.CompareAndSwap(0, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := &c.rs
	if rs.lossRate > 0 && rs.rng.Float64() < rs.lossRate {
		c.counter.InducedRecvLoss.Add(1)
		return
	}
	c.counter.RTPRecv.Add(1)
	c.counter.RTPRecvBytes.Add(uint64(len(b)))
	if h.hasTWCC {
		rs.twcc.Record(h.twcc, now, h.marker)
		rs.twccPending = true
	}
	s := rs.stream(h.ssrc, h.pt)
	if s == nil {
		rs.unknown++
		return
	}
	s.packets++
	s.bytes += uint64(len(b))
	if s.kind == KindRTX || h.pt == traffic.PTVP8RTX {
		c.counter.RTXRecv.Add(1)
		c.onRTX(rx, b, now)
		return
	}
	switch s.kind {
	case KindAudio:
		c.counter.AudioRecv.Add(1)
	case KindVideo:
		c.counter.VideoRecv.Add(1)
		rs.lastVideoSSRC = h.ssrc
	}
	prevHighest, started := s.loss.Highest(), s.loss.Expected() > 0
	if !s.loss.Record(h.seq) {
		return // duplicate or too late
	}
	s.jitter.Record(h.ts, now)
	if s.kind == KindVideo {
		s.frames.Record(h.ts, now)
		if started {
			s.notePending(prevHighest, s.loss.Highest(), &c.rs)
		}
	}
	s.sampleN++
	if s.sampleN%rs.sampleEvery == 1 || rs.sampleEvery == 1 || !s.known {
		c.sample(rx, s, b, now)
	}
}

// notePending queues the numbers a jump skipped for NACK (video only, as Chrome NACKs video).
func (s *recvStream) notePending(prev, cur uint64, rs *recvState) {
	if cur <= prev+1 {
		return
	}
	if cur-prev > nackGapLimit {
		s.pending = s.pending[:0]
		return
	}
	for x := prev + 1; x < cur; x++ {
		if len(s.pending) >= maxPending {
			s.pending = s.pending[1:]
		}
		s.pending = append(s.pending, pendingNACK{seq: x})
	}
}

// sample decrypts one packet (in place: the reader's buffer is ours during the call) and
// verifies it: a valid RTP packet whose payload ends with our stamp, a parseable VP8
// descriptor on video, the audio level kept on audio. The stamp gives the forwarding latency
// and the encoding the bridge chose.
func (c *Client) sample(rx rxContext, s *recvStream, b []byte, now int64) {
	c.counter.Sampled.Add(1)
	out, err := rx.DecryptRTP(b[:0], b)
	if err != nil {
		c.counter.DecryptErrors.Add(1)
		return
	}
	var p rtp.Packet
	if p.Parse(out) != rtp.DropNone {
		c.counter.VerifyErrors.Add(1)
		return
	}
	pl := p.Payload()
	st, ok := traffic.ParseStamp(pl)
	if !ok {
		c.counter.VerifyErrors.Add(1)
		return
	}
	if !s.known {
		s.origin = Origin{Sender: st.Sender, Kind: s.kind}
		s.known = true
	}
	lat := time.Duration(now - st.SentNs)
	switch {
	case st.Stream == traffic.StreamAudio:
		if lvl := p.Extension(traffic.ExtAudioLevel); len(lvl) != 1 {
			c.counter.VerifyErrors.Add(1) // the bridge must keep ssrc-audio-level (media.md §2.2)
		}
		c.latency.audio.Record(lat)
	default:
		var d rtp.VP8Descriptor
		if d.Parse(pl[:len(pl)-traffic.StampLen]) != rtp.DropNone {
			c.counter.VerifyErrors.Add(1)
			return
		}
		e := int(st.Stream - traffic.StreamVideo0)
		if e >= 0 && e < len(s.layers) {
			s.layers[e]++
			s.lastLayer = int8(e)
		}
		c.latency.video.Record(lat)
	}
}

// rxContext is the part of srtp.Context a receiver uses.
type rxContext interface {
	DecryptRTP(dst, src []byte) ([]byte, error)
	DecryptRTCP(dst, src []byte) ([]byte, error)
}

// onRTX decrypts a retransmission (RFC 4588: the original sequence number leads the
// payload) and credits the repaired stream.
func (c *Client) onRTX(rx rxContext, b []byte, now int64) {
	out, err := rx.DecryptRTP(b[:0], b)
	if err != nil {
		c.counter.DecryptErrors.Add(1)
		return
	}
	var p rtp.Packet
	if p.Parse(out) != rtp.DropNone || p.PayloadLen() < 2 {
		c.counter.VerifyErrors.Add(1)
		return
	}
	pl := p.Payload()
	osn := uint16(pl[0])<<8 | uint16(pl[1])
	var primary uint32
	if o, ok := c.rs.reg.Lookup(p.SSRC()); ok && o.Kind == KindRTX {
		primary = o.Primary
	}
	s := c.rs.streams[primary]
	if s == nil {
		return
	}
	s.loss.Record(osn) // the run loop credits the repair when it next looks at the NACK
}

func (c *Client) onRTCP(b []byte, now int64) {
	rx := c.rx.Load()
	if rx == nil {
		c.counter.NotReady.Add(1)
		return
	}
	out, err := rx.DecryptRTCP(b[:0], b)
	if err != nil {
		c.counter.DecryptErrors.Add(1)
		return
	}
	c.counter.RTCPRecv.Add(1)
	it := rtp.NewRTCPIter(out)
	for {
		h, pkt, ok := it.Next()
		if !ok {
			break
		}
		c.onRTCPPacket(h, pkt, now)
	}
	if it.Reason() != rtp.DropNone {
		c.counter.VerifyErrors.Add(1)
	}
}

func (c *Client) onRTCPPacket(h rtp.RTCPHeader, pkt []byte, now int64) {
	switch {
	case h.Type == rtp.TypeSR:
		if sr, r := rtp.ParseSR(pkt); r == rtp.DropNone {
			c.mu.Lock()
			if s := c.rs.streams[sr.SSRC]; s != nil {
				s.lastSR, s.lastSRAt = uint32(sr.NTPTime>>16), now
			}
			c.mu.Unlock()
		}
	case h.Type == rtp.TypeRR:
		if rr, r := rtp.ParseRR(pkt); r == rtp.DropNone {
			c.onReportBlocks(rr.Reports, now)
		}
	case h.Type == rtp.TypePSFB && h.Count == rtp.FmtPLI:
		if pli, r := rtp.ParsePLI(pkt); r == rtp.DropNone {
			c.counter.PLIRecv.Add(1)
			c.ctl.requestKeyframe(c.encodingOf(pli.MediaSSRC))
		}
	case h.Type == rtp.TypePSFB && h.Count == rtp.FmtFIR:
		if fir, r := rtp.ParseFIR(pkt); r == rtp.DropNone {
			c.counter.PLIRecv.Add(1)
			for i := 0; i < fir.Len(); i++ {
				c.ctl.requestKeyframe(c.encodingOf(fir.Entry(i).SSRC))
			}
		}
	case h.Type == rtp.TypeRTPFB && h.Count == rtp.FmtNACK:
		if n, r := rtp.ParseNACK(pkt); r == rtp.DropNone {
			c.counter.NACKRecv.Add(1)
			c.ctl.postNACK(c.encodingOf(n.MediaSSRC), n)
		}
	case h.Type == rtp.TypeRTPFB && h.Count == rtp.FmtTransportCC:
		c.counter.TWCCRecv.Add(1)
	}
}

// onReportBlocks measures the round trip from the bridge's RRs about our streams
// (RFC 3550 §6.4.1: now - LSR - DLSR, in 1/65536 s).
func (c *Client) onReportBlocks(rb rtp.ReportBlocks, now int64) {
	if c.cfg.Send == nil {
		return
	}
	mid := ntpMiddle(now)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < rb.Len(); i++ {
		b := rb.At(i)
		if b.LSR == 0 {
			continue
		}
		d := int32(mid - b.LSR - b.DLSR)
		if d < 0 {
			continue
		}
		rtt := time.Duration(int64(d) * int64(time.Second) >> 16)
		c.rs.rtt.Record(rtt)
		c.rs.rttLast = rtt
	}
}

// encodingOf maps one of our video SSRCs to its encoding, -1 when it is not ours.
func (c *Client) encodingOf(ssrc uint32) int {
	if c.cfg.Send == nil {
		return -1
	}
	for e, v := range c.cfg.Send.SSRCs.Video {
		if v == ssrc {
			return e
		}
	}
	return -1
}

// control carries requests about our own streams from the reader goroutine to the run loop.
type control struct {
	keyframes atomic.Uint32 // bit e: keyframe wanted on encoding e
	nacks     chan nackReq
}

type nackReq struct {
	enc  int
	n    int
	seqs [64]uint16
}

func (k *control) init() { k.nacks = make(chan nackReq, 64) }

func (k *control) requestKeyframe(e int) {
	if e < 0 || e >= 32 {
		return
	}
	for {
		old := k.keyframes.Load()
		if k.keyframes.CompareAndSwap(old, old|1<<e) {
			return
		}
	}
}

func (k *control) postNACK(e int, n rtp.NACK) {
	if e < 0 {
		return
	}
	req := nackReq{enc: e}
	it := n.Lost()
	for req.n < len(req.seqs) {
		seq, ok := it.Next()
		if !ok {
			break
		}
		req.seqs[req.n] = seq
		req.n++
	}
	select {
	case k.nacks <- req:
	default: // the run loop is behind: the bridge will ask again
	}
}
