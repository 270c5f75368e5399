package bwe

import (
	"encoding/binary"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// Feedback timing, as JVB's TccGeneratorNode (media.md §2.7 and §6). Chrome's
// first bandwidth probe depends on it: feedback only every 100 ms made the
// probe fail about one run in four, the extra feedback on marker packets
// made that rare (environment.md §6).
const (
	// FeedbackInterval is the longest time between two feedbacks while
	// packets arrive.
	FeedbackInterval int64 = 100e6
	// MarkerInterval is the shortest time between two feedbacks when the
	// newest packet has the marker bit (the end of a video frame).
	MarkerInterval int64 = 20e6
	// MaxFeedbackSize bounds one feedback packet, so that it fits a
	// datagram with SRTCP overhead and IP/UDP headers; more becomes
	// several packets.
	MaxFeedbackSize = 1200
	// History is the number of transport-wide sequence numbers remembered;
	// packets further behind the newest are neither recorded nor reported.
	History = 4096
)

// Wire units of transport-cc feedback.
const (
	refTimeUnit   int64 = 64e6  // reference time: 64 ms
	deltaUnit     int64 = 250e3 // receive deltas: 250 µs
	ticksPerRef         = refTimeUnit / deltaUnit
	fbHeaderLen         = 20 // RTCP header, two SSRCs, base, count, reference time, fb count
	maxChunks           = (MaxFeedbackSize - fbHeaderLen) / 2
	maxDeltaBytes       = MaxFeedbackSize - fbHeaderLen
	largeDeltaMin       = -1 << 15
	largeDeltaMax       = 1<<15 - 1
	historyMask         = History - 1
	// chunkSlack bounds the chunks one status can add: a lost run of up to
	// History statuses (at most one run chunk per 8191, plus the emit of
	// what was buffered before it) and the received status after it.
	chunkSlack = 4
)

type arrivalSlot struct {
	seq uint64 // unwrapped sequence number held; 0 means empty (numbers start at 2^16)
	at  int64
}

// FeedbackGenerator records the transport-wide sequence numbers and arrival
// times of the packets one endpoint sends and builds its transport-cc
// feedback. The zero value is ready to use.
//
// Packets arriving after the feedback that reported them lost are reported
// again, with everything after them, in the next feedback (libwebrtc's
// RemoteEstimatorProxy does the same), so a sender learns about reordering.
type FeedbackGenerator struct {
	unwrap  rtp.SeqUnwrapper
	ring    [History]arrivalSlot
	started bool
	next    uint64 // first sequence number the next feedback reports
	highest uint64
	pending bool  // a packet at or after next arrived since the last feedback
	marker  bool  // the newest recorded packet had the marker bit
	last    int64 // time of the last feedback; the first packet's arrival before it
	fbCount uint8

	// Scratch space for the packet being built: chunks and deltas go after
	// the header in this order, but are only known together. A trial may
	// emit a few chunks past what fits before it is rejected: hence the
	// slack.
	chunks [maxChunks + chunkSlack]uint16
	deltas [maxDeltaBytes]byte
}

// Record notes that the packet with transport-wide sequence number seq
// arrived at arrival (ns; any epoch, as long as it is the clock that Due
// and Append get). marker is the packet's RTP marker bit. A second arrival
// of the same number keeps the first.
func (g *FeedbackGenerator) Record(seq uint16, arrival int64, marker bool) {
	s := g.unwrap.Unwrap(seq)
	if !g.started {
		// The first feedback waits one interval after the first packet.
		g.started, g.next, g.highest, g.last = true, s, s, arrival
	}
	if s+History <= g.highest {
		return // too old to keep
	}
	slot := &g.ring[s&historyMask]
	if slot.seq == s {
		return
	}
	*slot = arrivalSlot{seq: s, at: arrival}
	g.highest = max(g.highest, s)
	g.next = min(g.next, s)
	if g.highest-g.next >= History {
		g.next = g.highest - History + 1
	}
	g.pending = true
	g.marker = marker
}

// Due reports whether a feedback should be sent at now: something arrived
// since the last one, and FeedbackInterval has passed since it, or
// MarkerInterval when the newest packet ended a frame. It also says yes when
// half the history awaits a report, so nothing falls out of it unreported.
//
// JVB evaluates this on every packet; a caller may also ask from a timer,
// which lets the last packets of a burst be reported without waiting for
// the next one.
func (g *FeedbackGenerator) Due(now int64) bool {
	if !g.pending {
		return false
	}
	since := now - g.last
	return since >= FeedbackInterval || (g.marker && since >= MarkerInterval) ||
		g.highest-g.next >= History/2
}

// Append appends the feedback for everything recorded since the last one to
// dst, as one or more transport-cc packets (PT 205, FMT 15) from senderSSRC
// about mediaSSRC, and records now as the time of this feedback. It appends
// nothing when nothing is pending. Each packet is at most MaxFeedbackSize
// bytes; 100 ms of a few Mbps fit in one. With enough capacity in dst it
// does not allocate.
func (g *FeedbackGenerator) Append(dst []byte, senderSSRC, mediaSSRC uint32, now int64) []byte {
	if !g.pending {
		return dst
	}
	for g.next <= g.highest {
		dst = g.appendPacket(dst, senderSSRC, mediaSSRC)
	}
	g.pending, g.last = false, now
	return dst
}

// received returns the arrival time of seq, and false when it is not known.
func (g *FeedbackGenerator) received(seq uint64) (int64, bool) {
	slot := &g.ring[seq&historyMask]
	return slot.at, slot.seq == seq
}

// appendPacket appends one feedback packet covering g.next up to, at most,
// g.highest, and advances g.next past what it covered. The packet ends with
// a received packet: trailing losses belong to the next feedback, where
// later arrivals may still fill them.
func (g *FeedbackGenerator) appendPacket(dst []byte, sender, media uint32) []byte {
	base := g.next
	first := base
	for ; first <= g.highest; first++ {
		if _, ok := g.received(first); ok {
			break
		}
	}
	if first > g.highest {
		g.next = first // nothing received left (cannot happen: highest is)
		return dst
	}
	at, _ := g.received(first)
	ref := floorDiv(at, refTimeUnit)
	prev := ref * ticksPerRef

	var enc, trial chunkEncoder
	nDeltas, end := 0, base // end: one past the last status included
	for s := first; s <= g.highest; s++ {
		at, ok := g.received(s)
		if !ok {
			continue
		}
		ticks := floorDiv(at, deltaUnit)
		d := ticks - prev
		sym, size := rtp.TWCCSmallDelta, 1
		if d < 0 || d > 0xff {
			sym, size = rtp.TWCCLargeDelta, 2
		}
		if d < largeDeltaMin || d > largeDeltaMax {
			break // the next packet starts here, with a new reference time
		}
		trial = enc
		trial.addRun(rtp.TWCCNotReceived, int(s-end), &g.chunks)
		trial.addRun(sym, 1, &g.chunks)
		// Two more chunks cover the symbols still buffered; 3 bytes of padding.
		if fbHeaderLen+2*(trial.n+2)+nDeltas+size+3 > MaxFeedbackSize || s-base >= 0xffff {
			break
		}
		enc = trial
		if size == 1 {
			g.deltas[nDeltas] = byte(d)
		} else {
			binary.BigEndian.PutUint16(g.deltas[nDeltas:], uint16(int16(d)))
		}
		nDeltas += size
		prev, end = ticks, s+1
	}
	enc.flush(&g.chunks)
	g.next = end
	return g.write(dst, sender, media, uint16(base), uint16(end-base), uint32(ref), enc.n, nDeltas)
}

// write appends the packet whose chunks and deltas are in the scratch space.
func (g *FeedbackGenerator) write(dst []byte, sender, media uint32, base, count uint16, ref uint32, nChunks, nDeltas int) []byte {
	start := len(dst)
	dst = append(dst, 0x80|rtp.FmtTransportCC, rtp.TypeRTPFB, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, sender)
	dst = binary.BigEndian.AppendUint32(dst, media)
	dst = binary.BigEndian.AppendUint16(dst, base)
	dst = binary.BigEndian.AppendUint16(dst, count)
	dst = binary.BigEndian.AppendUint32(dst, ref<<8|uint32(g.fbCount))
	g.fbCount++
	for _, c := range g.chunks[:nChunks] {
		dst = binary.BigEndian.AppendUint16(dst, c)
	}
	dst = append(dst, g.deltas[:nDeltas]...)
	// RFC 3550 §6.4.1 padding, as libwebrtc writes it: P bit, zeros, and
	// the count in the last byte.
	if pad := (4 - (len(dst)-start)%4) % 4; pad > 0 {
		for i := 1; i < pad; i++ {
			dst = append(dst, 0)
		}
		dst = append(dst, byte(pad))
		dst[start] |= 0x20
	}
	binary.BigEndian.PutUint16(dst[start+2:], uint16((len(dst)-start)/4-1))
	return dst
}

// floorDiv is a/b rounded toward minus infinity, so that arrival times
// before the epoch quantize like the others.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
