package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cityjitsi/videobridge/bench/traffic"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// Run loop timing.
const (
	senderTick   = 5 * time.Millisecond  // media generation and pacing
	receiverTick = 20 * time.Millisecond // RTCP only (transport-cc's shortest interval)
	// pacingFactor is Chrome's pacer: it drains at 2.5 × the target rate, so a keyframe burst
	// spreads over some tens of milliseconds instead of leaving in one go.
	pacingFactor = 2.5
	// burstInterval and maxBurstBytes bound the media debt of libwebrtc's burst pacer
	// (PacingController::kDefaultBurstInterval and kMaxBurstSize): it sends back to back
	// while the debt would drain within 40 ms at the pacing rate, and never more than 63 kB.
	burstInterval = 40 * time.Millisecond
	maxBurstBytes = 63000
	rtxHistory    = 256 // packets kept per video SSRC for NACKs (about 1.7 s of 720p)
)

// queued is one packet waiting in the pacer or the delay line.
type queued struct {
	buf  *udp.Buffer
	n    int
	off  traffic.Offsets
	enc  int // video encoding, -1 for audio
	rtx  bool
	due  int64 // delay line: Unix ns when it may leave
	ssrc uint32
}

// historyEntry is a sent video packet kept for retransmission (plain RTP).
type historyEntry struct {
	seq uint16
	n   int
	buf [traffic.MaxPacket]byte
}

// sender is the run loop's state: everything here belongs to the run goroutine.
type sender struct {
	video     *traffic.Video
	audio     *traffic.Audio
	streams   [3]traffic.RTPStream
	audioSt   traffic.RTPStream
	rtxSeq    [3]uint16
	history   [3][]historyEntry
	frames    []traffic.Frame
	aframes   []traffic.AudioFrame
	pacer     []queued
	budget    float64 // PacerInterval: bytes the pacer may send now
	debt      float64 // PacerBurst: bytes sent and not yet drained at the pacing rate
	rate      float64 // pacing rate, bytes per second
	tccSeq    uint16
	rng       *rand.Rand
	delayLine []queued
	// Per SSRC for SRs: packets, octets, last RTP timestamp and its capture time.
	sr map[uint32]*srState
}

type srState struct {
	packets, octets uint32
	ts              uint32
	at              time.Duration
	clock           int
}

func (c *Client) newSender() *sender {
	s := &sender{rng: rand.New(rand.NewPCG(c.cfg.Seed^0xabcdef, uint64(c.cfg.Index))), sr: map[uint32]*srState{}}
	sc := c.cfg.Send
	if sc == nil {
		return s
	}
	s.audio = traffic.NewAudio(sc.Talker, sc.Member, c.cfg.Seed^uint64(c.cfg.Index)<<8)
	s.audioSt = traffic.RTPStream{SSRC: sc.SSRCs.Audio, PT: traffic.PTOpus, Seq: uint16(s.rng.Uint32())}
	s.sr[sc.SSRCs.Audio] = &srState{clock: traffic.ClockAudio}
	if !sc.NoVideo {
		vc := sc.Video
		if vc.Seed == 0 {
			vc.Seed = c.cfg.Seed ^ uint64(c.cfg.Index)<<16 | 1
		}
		s.video = traffic.NewVideo(vc)
		total := 0
		for e, enc := range s.video.Encodings() {
			if e >= len(s.streams) {
				break
			}
			total += enc.Bitrate
			s.streams[e] = traffic.RTPStream{SSRC: sc.SSRCs.Video[e], PT: traffic.PTVP8, Seq: uint16(s.rng.Uint32())}
			s.history[e] = make([]historyEntry, rtxHistory)
			s.rtxSeq[e] = uint16(s.rng.Uint32())
			s.sr[sc.SSRCs.Video[e]] = &srState{clock: traffic.ClockVideo}
		}
		s.rate = pacingFactor * float64(total) / 8
	}
	return s
}

// run is the endpoint's run loop: media generation, pacing, retransmissions and RTCP.
func (c *Client) run(ctx context.Context) {
	defer c.wg.Done()
	s := c.newSender()
	tick := receiverTick
	if c.cfg.Send != nil {
		tick = senderTick
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	fb := newFeedback(c)
	for {
		select {
		case <-ctx.Done():
			s.drop()
			return
		case <-t.C:
		}
		now := time.Now()
		el := now.Sub(c.start)
		if c.cfg.Send != nil {
			c.serveNACKs(s)
			c.generate(s, el)
			c.pace(s, tick)
		}
		c.sendRTCP(s, fb, now)
		c.flushDelayLine(s, now.UnixNano())
	}
}

// drop returns queued buffers to the pool at shutdown.
func (s *sender) drop() {
	for _, q := range s.pacer {
		udp.PutBuffer(q.buf, q.n)
	}
	for _, q := range s.delayLine {
		udp.PutBuffer(q.buf, q.n)
	}
	s.pacer, s.delayLine = nil, nil
}

// generate produces the frames captured up to el: audio leaves at once (Chrome does not pace
// audio behind video), video packets join the pacer queue.
func (c *Client) generate(s *sender, el time.Duration) {
	s.aframes = s.audio.Due(el, s.aframes[:0])
	for i := range s.aframes {
		f := &s.aframes[i]
		buf := udp.GetBuffer()
		n, off := traffic.WriteOpus(buf[:], &s.audioSt, f, c.cfg.Index)
		s.noteSR(s.audioSt.SSRC, f.Timestamp, f.Time, n-traffic.HeaderLen)
		c.transmit(s, queued{buf: buf, n: n, off: off, enc: -1, ssrc: s.audioSt.SSRC})
	}
	if s.video == nil {
		return
	}
	if k := c.ctl.keyframes.Swap(0); k != 0 {
		for e := range s.streams {
			if k&(1<<e) != 0 {
				s.video.RequestKeyframe(e)
			}
		}
	}
	s.frames = s.video.Due(el, s.frames[:0])
	for i := range s.frames {
		f := &s.frames[i]
		if f.Encoding >= len(s.streams) {
			continue
		}
		if f.Keyframe {
			c.counter.KeyframesSent.Add(1)
		}
		st := &s.streams[f.Encoding]
		n := traffic.VP8Packets(f.Size)
		for p := 0; p < n; p++ {
			buf := udp.GetBuffer()
			l, off := traffic.WriteVP8(buf[:], st, f, p, n, c.cfg.Index)
			s.noteSR(st.SSRC, f.Timestamp, f.Time, l-traffic.HeaderLen)
			s.pacer = append(s.pacer, queued{buf: buf, n: l, off: off, enc: f.Encoding, ssrc: st.SSRC})
		}
	}
}

func (s *sender) noteSR(ssrc uint32, ts uint32, at time.Duration, payload int) {
	if st := s.sr[ssrc]; st != nil {
		st.packets++
		st.octets += uint32(payload)
		st.ts, st.at = ts, at
	}
}

// pace sends the queued video that the pacer releases this tick.
func (c *Client) pace(s *sender, tick time.Duration) {
	n := s.release(c.cfg.Pacer, tick)
	for _, q := range s.pacer[:n] {
		c.transmit(s, q)
	}
	s.pacer = append(s.pacer[:0], s.pacer[n:]...)
}

// release is the pacer's accounting for one tick: it returns how many of the queued packets
// leave now and charges them to the budget (PacerInterval) or the debt (PacerBurst).
func (s *sender) release(model Pacer, tick time.Duration) int {
	n := 0
	switch model {
	case PacerInterval:
		s.budget = min(s.budget+s.rate*tick.Seconds(), s.rate*0.05) // at most a 50 ms burst
		for ; n < len(s.pacer) && s.budget > 0; n++ {
			s.budget -= float64(s.pacer[n].n)
		}
		if n == len(s.pacer) {
			s.budget = min(s.budget, 0)
		}
	default:
		s.debt = max(0, s.debt-s.rate*tick.Seconds())
		limit := min(s.rate*burstInterval.Seconds(), maxBurstBytes)
		for ; n < len(s.pacer) && s.debt < limit; n++ {
			s.debt += float64(s.pacer[n].n)
		}
	}
	return n
}

// transmit stamps, records, encrypts and sends (or delays, or drops) one packet.
func (c *Client) transmit(s *sender, q queued) {
	pkt := q.buf[:q.n]
	s.tccSeq++
	traffic.SetTransportSeq(pkt, q.off, s.tccSeq)
	now := time.Now()
	traffic.SetAbsSendTime(pkt, q.off, time.Duration(now.UnixNano()))
	if !q.rtx {
		traffic.PutSentNs(pkt, now.UnixNano())
	}
	if q.enc >= 0 && !q.rtx {
		c.remember(s, q.enc, pkt)
	}
	c.counter.RTPSent.Add(1)
	c.counter.RTPSentBytes.Add(uint64(q.n))
	if c.cfg.SendLoss > 0 && s.rng.Float64() < c.cfg.SendLoss {
		c.counter.InducedSendLoss.Add(1)
		udp.PutBuffer(q.buf, q.n)
		return
	}
	out, err := c.txRTP.EncryptRTP(q.buf[:0], pkt)
	if err != nil || len(out) > len(q.buf) {
		udp.PutBuffer(q.buf, q.n)
		return
	}
	q.n = copy(q.buf[:], out) // a no-op when encrypted in place, as it is with room for the tag
	c.send(s, q, now.UnixNano())
}

// send hands an encrypted datagram to the socket, through the delay line when configured.
func (c *Client) send(s *sender, q queued, now int64) {
	if c.cfg.SendDelay > 0 {
		q.due = now + int64(c.cfg.SendDelay)
		s.delayLine = append(s.delayLine, q)
		return
	}
	dst := c.dst.Load()
	if !c.sock.Enqueue(q.buf, q.n, *dst) {
		c.counter.SendQueueDrops.Add(1)
	}
}

func (c *Client) flushDelayLine(s *sender, now int64) {
	i := 0
	dst := c.dst.Load()
	for ; i < len(s.delayLine) && s.delayLine[i].due <= now; i++ {
		q := s.delayLine[i]
		if !c.sock.Enqueue(q.buf, q.n, *dst) {
			c.counter.SendQueueDrops.Add(1)
		}
	}
	s.delayLine = append(s.delayLine[:0], s.delayLine[i:]...)
}

func (c *Client) remember(s *sender, e int, pkt []byte) {
	h := s.history[e]
	seq := uint16(pkt[2])<<8 | uint16(pkt[3])
	slot := &h[int(seq)%len(h)]
	slot.seq, slot.n = seq, copy(slot.buf[:], pkt)
	c.videoSeq[e].Store(uint32(seq))
}

// serveNACKs answers the bridge's NACKs with RTX (RFC 4588) from the history.
func (c *Client) serveNACKs(s *sender) {
	for {
		var req nackReq
		select {
		case req = <-c.ctl.nacks:
		default:
			return
		}
		if req.enc < 0 || req.enc >= len(s.history) || s.history[req.enc] == nil {
			continue
		}
		for _, seq := range req.seqs[:req.n] {
			slot := &s.history[req.enc][int(seq)%rtxHistory]
			if slot.n == 0 || slot.seq != seq {
				c.counter.RTXMissed.Add(1)
				continue
			}
			buf := udp.GetBuffer()
			n := rtp.WrapRTX(buf[:], slot.buf[:slot.n], c.cfg.Send.SSRCs.RTX[req.enc], traffic.PTVP8RTX, s.rtxSeq[req.enc])
			if n == 0 {
				udp.PutBuffer(buf, 0)
				continue
			}
			s.rtxSeq[req.enc]++
			c.counter.RTXSent.Add(1)
			// The RTX header keeps the original's extension block, so its offsets still hold.
			c.transmit(s, queued{buf: buf, n: n, off: traffic.VideoOffsets(), enc: req.enc, rtx: true})
		}
	}
}
