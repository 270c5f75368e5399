package client

import (
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// RTCP timing of a browser toward the bridge.
const (
	reportInterval = time.Second // RR and SR (Chrome: about 1 s for video)
	// twccInterval is libwebrtc's transport-cc feedback period (RemoteEstimatorProxy's
	// default send interval). The bridge's own generator (bridge/bwe) also answers marker
	// packets after 20 ms, as JVB does; a browser does not, and three times the feedback
	// would load the bridge's ingress with RTCP no real client sends.
	twccInterval = 100 * time.Millisecond
	nackRetry    = 100 * time.Millisecond // resend a NACK while the packet is missing
	nackMaxTries = 10
	pliInterval  = time.Second // at most one PLI per stream and second
	maxRRBlocks  = 31          // RFC 3550: the 5-bit report count
	// maxRTCPDatagram leaves room for SRTCP's index and tag within our packet size.
	maxRTCPDatagram = 1200
)

// feedback is the run loop's RTCP state.
type feedback struct {
	scratch    []byte
	lost       []uint16
	blocks     []rtp.ReportBlock
	lastReport time.Time
	lastTWCC   time.Time
}

func newFeedback(c *Client) *feedback {
	return &feedback{scratch: make([]byte, 0, 4*udp.MTU), lost: make([]uint16, 0, maxPending),
		blocks: make([]rtp.ReportBlock, 0, maxRRBlocks)}
}

// ntpTime is the 64-bit NTP timestamp (RFC 5905) of a Unix time in ns.
func ntpTime(ns int64) uint64 {
	sec := uint64(ns/1e9) + 2208988800
	frac := (uint64(ns%1e9) << 32) / 1e9
	return sec<<32 | frac
}

// ntpMiddle is the middle 32 bits of the NTP time, the unit of LSR and round trips in RRs.
func ntpMiddle(ns int64) uint32 { return uint32(ntpTime(ns) >> 16) }

// sendRTCP builds and sends whatever RTCP is due: transport-cc feedback (bwe's timing, as a
// browser answers the bridge's transport-wide numbers), NACKs and PLIs, then RR (and SR for a
// sender) every reportInterval. The packets are packed into SRTCP datagrams of at most
// maxRTCPDatagram bytes.
func (c *Client) sendRTCP(s *sender, fb *feedback, now time.Time) {
	ns := now.UnixNano()
	out := fb.scratch[:0]
	report := now.Sub(fb.lastReport) >= reportInterval
	if report {
		fb.lastReport = now
	}
	c.mu.Lock()
	rs := &c.rs
	if rs.twccPending && now.Sub(fb.lastTWCC) >= twccInterval {
		fb.lastTWCC = now
		rs.twccPending = false
		before := len(out)
		out = rs.twcc.Append(out, c.rtcpSSRC, rs.lastVideoSSRC, ns)
		if len(out) > before {
			c.counter.TWCCSent.Add(1)
		}
	}
	for _, st := range rs.streams {
		if st.kind == KindVideo && (len(st.pending) > 0 || st.wantPLI) {
			out = c.appendNACKs(out, fb, st, ns)
		}
	}
	if report {
		out = c.appendRRs(out, fb, ns)
	}
	c.mu.Unlock()
	if report && c.cfg.Send != nil {
		out = s.appendSRs(out, now.Sub(c.start), ns)
	}
	// Pack whole RTCP packets into datagrams.
	it := rtp.NewRTCPIter(out)
	start, end := 0, 0
	for {
		_, pkt, ok := it.Next()
		if !ok {
			break
		}
		if end > start && end-start+len(pkt) > maxRTCPDatagram {
			c.sendRTCPPacket(s, out[start:end], ns)
			start = end
		}
		end += len(pkt)
	}
	if end > start {
		c.sendRTCPPacket(s, out[start:end], ns)
	}
	fb.scratch = out[:0]
}

// appendNACKs adds a NACK for every missing packet that is due and a PLI when a packet could
// not be repaired (the decoder would need a keyframe).
func (c *Client) appendNACKs(out []byte, fb *feedback, st *recvStream, now int64) []byte {
	fb.lost = fb.lost[:0]
	keep := st.pending[:0]
	for _, p := range st.pending {
		switch {
		case !st.loss.Missing(p.seq):
			if p.tries > 0 && p.seq <= st.loss.Highest() && st.loss.Highest()-p.seq < 1024 {
				st.recovered++
				c.counter.Recovered.Add(1)
			}
			continue
		case p.tries >= nackMaxTries:
			st.unrecoverable++
			st.wantPLI = true
			continue
		case p.last == 0 || now-p.last >= int64(nackRetry):
			if p.tries == 0 {
				st.nacked++
				c.counter.NACKedSeqs.Add(1)
			}
			p.tries++
			p.last = now
			fb.lost = append(fb.lost, uint16(p.seq))
		}
		keep = append(keep, p)
	}
	st.pending = keep
	if len(fb.lost) > 0 {
		out = rtp.AppendNACK(out, c.rtcpSSRC, st.ssrc, fb.lost)
		c.counter.NACKSent.Add(1)
	}
	if st.wantPLI && now-st.lastPLI >= int64(pliInterval) {
		st.wantPLI, st.lastPLI = false, now
		out = rtp.AppendPLI(out, c.rtcpSSRC, st.ssrc)
		c.counter.PLISent.Add(1)
	}
	return out
}

// appendRRs reports every received media stream (RFC 3550 §6.4.2), 31 blocks per packet.
func (c *Client) appendRRs(out []byte, fb *feedback, now int64) []byte {
	fb.blocks = fb.blocks[:0]
	flush := func() {
		if len(fb.blocks) > 0 {
			out = rtp.AppendRR(out, c.rtcpSSRC, fb.blocks...)
			c.counter.RRSent.Add(1)
			fb.blocks = fb.blocks[:0]
		}
	}
	for _, st := range c.rs.streams {
		if st.kind == KindRTX || st.packets == 0 {
			continue
		}
		exp, rec := st.loss.Expected(), st.loss.Received()
		ei, ri := exp-st.prevExpected, rec-st.prevReceived
		st.prevExpected, st.prevReceived = exp, rec
		var frac uint8
		if ei > 0 && ei > ri {
			frac = uint8((ei - ri) << 8 / ei)
		}
		var dlsr uint32
		if st.lastSR != 0 {
			dlsr = uint32((now - st.lastSRAt) * 65536 / 1e9)
		}
		fb.blocks = append(fb.blocks, rtp.ReportBlock{SSRC: st.ssrc, FractionLost: frac,
			TotalLost: int32(min(st.loss.Lost(), 0x7fffff)), HighestSeq: uint32(st.loss.Highest()),
			Jitter: st.jitter.Value(), LSR: st.lastSR, DLSR: dlsr})
		if len(fb.blocks) == maxRRBlocks {
			flush()
		}
	}
	flush()
	return out
}

// appendSRs writes a sender report for each of our SSRCs that has sent, with the RTP time of
// now extrapolated from the latest frame (the bridge translates and forwards them, media.md
// §2.7).
func (s *sender) appendSRs(out []byte, el time.Duration, now int64) []byte {
	ntp := ntpTime(now)
	for ssrc, st := range s.sr {
		if st.packets == 0 {
			continue
		}
		rtpNow := st.ts + uint32(int64(el-st.at)*int64(st.clock)/int64(time.Second))
		out = rtp.AppendSR(out, rtp.SenderInfo{SSRC: ssrc, NTPTime: ntp, RTPTime: rtpNow,
			PacketCount: st.packets, OctetCount: st.octets})
	}
	return out
}

func (c *Client) sendRTCPPacket(s *sender, pkt []byte, now int64) {
	if len(pkt) == 0 || len(pkt) > udp.MTU-32 {
		return
	}
	buf := udp.GetBuffer()
	n := copy(buf[:], pkt)
	out, err := c.txRTCP.EncryptRTCP(buf[:0], buf[:n])
	if err != nil || len(out) > len(buf) {
		udp.PutBuffer(buf, n)
		return
	}
	c.counter.RTCPSent.Add(1)
	c.send(s, queued{buf: buf, n: copy(buf[:], out)}, now)
}
