package sender

import (
	"sync/atomic"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// The round-trip time to a receiver comes from its reception reports (RFC 3550 §6.4.1), as
// JVB's EndpointConnectionStats measures it: the bridge notes when it sends each SR (the SRs
// it forwards, translated, are the only ones a receiver gets from it), and a report block
// naming that SR (LSR, the middle 32 bits of its NTP time) with the receiver's delay since
// (DLSR) gives RTT = arrival − sent − DLSR.
const (
	// reportLogSize SRs are remembered per receiver. A receiver's report names the last SR
	// of each SSRC, for video at most about 1.5 s old (Chrome: an SR per video SSRC every
	// 0.5–1.5 s); with reportLogGap between the SRs noted, 64 slots cover at least 1.6 s
	// however many sources are forwarded. Audio SRs are sparser (about every 5 s): in a large
	// audio-only conference a report may name an SR already forgotten, and gives no sample.
	// One matching block per report is enough.
	reportLogSize       = 64
	reportLogGap  int64 = 25e6
	// MaxRTT bounds a plausible sample: anything longer is a stale or forged LSR.
	MaxRTT int64 = 10e9
)

// ReportLog is the record of SRs sent to one receiver. Sent has a single writer (the
// receiver's egress); RoundTrip may run on any goroutine (the socket reader).
type ReportLog struct {
	// slots hold LSR<<32 | send time in 1/65536 s, written and read whole.
	slots  [reportLogSize]atomic.Uint64
	next   int
	lastAt int64 // when the last SR was noted, if noted
	noted  bool
}

// Sent notes an SR with NTP time ntp sent at now (clock ns), unless one was noted less than
// reportLogGap before.
func (l *ReportLog) Sent(ntp uint64, now int64) {
	if l.noted && now-l.lastAt < reportLogGap {
		return
	}
	l.lastAt, l.noted = now, true
	l.slots[l.next].Store(uint64(rtp.LSR(ntp))<<32 | uint64(shortTime(now)))
	l.next = (l.next + 1) % reportLogSize
}

// RoundTrip is the RTT that report block b, arriving at now, gives: ok is false when b names
// no SR noted here, or the result is implausible.
func (l *ReportLog) RoundTrip(b *rtp.ReportBlock, now int64) (rtt int64, ok bool) {
	if b.LSR == 0 {
		return 0, false // no SR received on that SSRC yet
	}
	for i := range l.slots {
		v := l.slots[i].Load()
		if v != 0 && uint32(v>>32) == b.LSR {
			return roundTrip(uint32(v), shortTime(now), b.DLSR)
		}
	}
	return 0, false
}

// roundTrip computes arrival − sent − dlsr, all in 1/65536 s modulo 2^32, as nanoseconds. A
// slightly negative result (the units' rounding) is 0; beyond MaxRTT either way is not a
// sample.
func roundTrip(sent, arrival, dlsr uint32) (int64, bool) {
	d := int64(int32(arrival - sent - dlsr))
	ns := d * 1e9 >> 16
	switch {
	case ns > MaxRTT || ns < -int64(1e6):
		return 0, false
	case ns < 0:
		return 0, true
	}
	return ns, true
}

// shortTime is clock ns in the unit of LSR and DLSR (1/65536 s), modulo 2^32.
func shortTime(ns int64) uint32 {
	sec, frac := ns/1e9, ns%1e9
	return uint32(sec<<16 | frac<<16/1e9)
}

// RetransmitDue reports whether a packet last (re)sent sinceSent ago may be sent again on a
// NACK, given the receiver's RTT (0: unknown): not within min(0.9·RTT, RTT − 5 ms) of the
// last send, which the NACK may well have crossed on its way (JVB's NackHandler, media.md
// §2.6).
func RetransmitDue(sinceSent, rtt int64) bool {
	if rtt <= 0 {
		return true
	}
	return sinceSent >= min(rtt*9/10, rtt-5e6)
}
