package receiver

import (
	"math/bits"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// Constants of RFC 3550 Appendix A.1.
const (
	// maxDropout is the forward jump beyond which the numbers skipped are
	// not counted as lost: the source restarted or jumped, as RFC 3550
	// A.1 treats a jump of more than MAX_DROPOUT.
	maxDropout = 3000
)

// seqCycle is the span of 16-bit sequence numbers.
const seqCycle = 1 << 16

// Stream is the reception state of one incoming media SSRC (after RTX
// unwrapping, so a primary SSRC): unwrapping to 64 bits, the duplicate
// window, and the RFC 3550 §6.4.1 / Appendix A statistics a receiver report
// needs. The zero Stream is not ready: use NewStream.
type Stream struct {
	ssrc      uint32
	clockRate uint32 // RTP clock rate in Hz, for jitter; 0 disables it

	seq rtp.SeqUnwrapper
	// seqBase is added to the unwrapper's values; it moves the numbers of
	// a restarted source ahead of everything seen before (a multiple of
	// 2^16, so truncating still gives the wire value).
	seqBase uint64
	ts      rtp.TSUnwrapper
	dup     dupWindow
	// badSeq is RFC 3550 A.1's bad_seq: the wire number that, arriving
	// next, confirms a restart; valid when hasBadSeq.
	badSeq    uint16
	hasBadSeq bool

	// RFC 3550 A.3 counters over unwrapped numbers.
	started       bool
	baseSeq       uint64 // lowest number received
	maxSeq        uint64 // highest number received
	skipped       uint64 // numbers jumped over by restarts and jumps > maxDropout
	received      uint64 // packets accepted (duplicates excluded)
	expectedPrior uint64
	receivedPrior uint64

	// RFC 3550 A.8 jitter, in timestamp units scaled by 16, computed over
	// in-order packets only (as libwebrtc does: a late packet's transit time
	// says nothing about the network's variation).
	jitter      uint64
	lastArrival int64
	lastTS      uint64
	hasTransit  bool

	// Last SR from this SSRC (RFC 3550 §6.4.1 LSR and DLSR).
	lastSR        uint32
	lastSRArrival int64
	hasSR         bool

	bytes, duplicates, tooOld, restarts uint64
	lastActivity                        int64
}

// NewStream returns the state of ssrc with the given RTP clock rate (90000
// for video, 48000 for Opus).
func NewStream(ssrc, clockRate uint32) Stream {
	return Stream{ssrc: ssrc, clockRate: clockRate}
}

// SSRC is the stream's SSRC.
func (s *Stream) SSRC() uint32 { return s.ssrc }

// Receive records one packet of size bytes arriving at now (ns) and returns
// its unwrapped sequence number and timestamp, and DropNone or why the
// packet must not be forwarded (DropDuplicate, DropTooOld). Rejected packets
// do not count in the statistics, except in their own counters; a DropTooOld
// packet's timestamp is not unwrapped (ts64 is 0).
//
// rtx says that the packet arrived as an RTX retransmission (unwrapped by
// UnwrapRTX). Retransmissions give no jitter sample, since their delay is the
// repair's and not the network's (libwebrtc excludes them too), and cannot
// signal a restart.
//
// A packet far behind the highest number (beyond the duplicate window) is
// dropped, unless the next wire number follows it: two in a row mean the
// source restarted its sequence numbers (RFC 3550 A.1's bad_seq rule), and
// numbering restarts ahead of everything seen before. Only packets on the
// media SSRC itself count for this: Chrome's RTX probes resend old packets.
func (s *Stream) Receive(seq uint16, ts uint32, size int, now int64, rtx bool) (seq64, ts64 uint64, r DropReason) {
	seq64 = s.seq.Unwrap(seq) + s.seqBase
	if r = s.dup.mark(seq64); r == DropTooOld {
		if rtx || !s.hasBadSeq || seq != s.badSeq {
			if !rtx {
				s.badSeq, s.hasBadSeq = seq+1, true
			}
			s.tooOld++
			return seq64, 0, DropTooOld
		}
		seq64 = s.restart(seq)
		r = s.dup.mark(seq64)
	}
	ts64 = s.ts.Unwrap(ts)
	if r == DropDuplicate {
		s.duplicates++
		return seq64, ts64, r
	}
	if !rtx {
		s.hasBadSeq = false
	}
	s.count(seq64, ts64, size, now, rtx)
	return seq64, ts64, DropNone
}

// restart re-anchors the unwrapper so that seq continues two cycles above
// the highest number so far, and returns seq's new 64-bit value.
func (s *Stream) restart(seq uint16) uint64 {
	target := (s.maxSeq/seqCycle+2)*seqCycle | uint64(seq)
	s.seq.Reset()
	s.seqBase = target - s.seq.Unwrap(seq)
	s.restarts++
	return target
}

// count updates the RFC 3550 counters and the jitter for an accepted packet.
func (s *Stream) count(seq64, ts64 uint64, size int, now int64, rtx bool) {
	s.received++
	s.bytes += uint64(max(size, 0))
	s.lastActivity = now
	switch {
	case !s.started:
		s.started, s.baseSeq, s.maxSeq = true, seq64, seq64
	case seq64 > s.maxSeq:
		if gap := seq64 - s.maxSeq; gap > maxDropout {
			s.skipped += gap - 1
		}
		s.maxSeq = seq64
	case seq64 < s.baseSeq:
		s.baseSeq = seq64 // reordered before the first packet
		return
	default:
		return // late: no jitter sample
	}
	if !rtx {
		s.updateJitter(ts64, now)
	}
}

// maxJitterGap bounds the arrival gap used for a jitter sample, so that the
// conversion to timestamp units cannot overflow after a long pause.
const maxJitterGap = int64(3600e9)

// updateJitter applies RFC 3550 A.8: J += (|D| - J) / 16, with D the change
// in transit time between this in-order packet and the previous one.
func (s *Stream) updateJitter(ts64 uint64, now int64) {
	prevArrival, prevTS, had := s.lastArrival, s.lastTS, s.hasTransit
	s.lastArrival, s.lastTS, s.hasTransit = now, ts64, true
	if !had || s.clockRate == 0 {
		return
	}
	gap := now - prevArrival
	if gap < 0 || gap > maxJitterGap {
		return
	}
	hi, lo := bits.Mul64(uint64(gap), uint64(s.clockRate))
	q, _ := bits.Div64(hi, lo, 1e9) // hi < 1e9 given maxJitterGap: no overflow
	arrivalUnits := int64(q)
	d := arrivalUnits - int64(ts64-prevTS)
	if d < 0 {
		d = -d
	}
	// Integer form from A.8: jitter holds J*16.
	s.jitter += uint64(d) - (s.jitter+8)>>4
}

// ReceiveSR records a sender report from this SSRC: the middle 32 bits of
// its NTP time become the LSR of the next report blocks, and now the
// reference for DLSR.
func (s *Stream) ReceiveSR(ntp uint64, now int64) {
	s.lastSR, s.lastSRArrival, s.hasSR = rtp.LSR(ntp), now, true
}

// ReportBlock returns the RFC 3550 §6.4.1 report block for this SSRC at now
// and starts a new interval for the fraction lost, so call it once per
// report sent.
func (s *Stream) ReportBlock(now int64) rtp.ReportBlock {
	expected := s.expected()
	expInterval := expected - s.expectedPrior
	recvInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	if expInterval > 0 && recvInterval < expInterval {
		fraction = uint8((expInterval - recvInterval) << 8 / expInterval)
	}
	rb := rtp.ReportBlock{
		SSRC:         s.ssrc,
		FractionLost: fraction,
		TotalLost:    int32(min(max(int64(expected)-int64(s.received), -0x800000), 0x7fffff)),
		HighestSeq:   uint32(s.maxSeq - seqCycle), // the first number sits in cycle 1
		Jitter:       uint32(min(s.jitter>>4, 0xffffffff)),
	}
	if s.hasSR {
		rb.LSR = s.lastSR
		// DLSR counts 1/65536 s.
		rb.DLSR = uint32(min(max(now-s.lastSRArrival, 0)*65536/1e9, 0xffffffff))
	}
	return rb
}

// expected is RFC 3550 A.3's expected count, minus the numbers skipped by
// restarts and large jumps.
func (s *Stream) expected() uint64 {
	if !s.started {
		return 0
	}
	return s.maxSeq - s.baseSeq + 1 - s.skipped
}

// Stats is a snapshot of a Stream's counters.
type Stats struct {
	SSRC       uint32
	Packets    uint64 // accepted packets
	Bytes      uint64 // their sizes as passed to Receive
	Duplicates uint64
	TooOld     uint64
	Restarts   uint64
	// HighestSeq is the highest unwrapped sequence number; valid when
	// Packets > 0.
	HighestSeq uint64
	Expected   uint64
	Lost       int64 // Expected - Packets; negative with duplicates beyond the window
	Jitter     uint32
	// LastActivity is the arrival time of the newest accepted packet (ns).
	LastActivity int64
}

// Stats returns the counters.
func (s *Stream) Stats() Stats {
	return Stats{
		SSRC: s.ssrc, Packets: s.received, Bytes: s.bytes, Duplicates: s.duplicates,
		TooOld: s.tooOld, Restarts: s.restarts, HighestSeq: s.maxSeq, Expected: s.expected(),
		Lost: int64(s.expected()) - int64(s.received), Jitter: uint32(min(s.jitter>>4, 0xffffffff)),
		LastActivity: s.lastActivity,
	}
}

// LastActivity is the arrival time of the newest accepted packet, 0 before
// the first.
func (s *Stream) LastActivity() int64 { return s.lastActivity }
