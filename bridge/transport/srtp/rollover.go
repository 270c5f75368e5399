package srtp

import (
	"errors"
	"math"
)

// Sentinel errors of the outbound RTP state.
var (
	// errTooManySSRCs: the context already tracks maxSSRCs sending SSRCs. A receiver gets at most
	// about 150 (media.md: 50 video slots with RTX plus 50 audio), so this means a bug upstream.
	errTooManySSRCs = errors.New("srtp: too many outbound SSRCs")
	// errROCExhausted: 2^48 packets were protected on one SSRC with this key (RFC 3711 §9.2).
	errROCExhausted = errors.New("srtp: rollover counter exhausted, rekey required")
)

const (
	hotSSRCs = 8    // SSRCs scanned inline before the map: audio, video, RTX and some spare
	maxSSRCs = 4096 // hard bound on tracked SSRCs per context
	// staleTicks: a hot slot that has not protected a packet for this many packets of the
	// context may be handed to an SSRC from the map. Far above the number of SSRCs a receiver
	// interleaves, so active streams never push each other out.
	staleTicks = 4096
)

// sendIndex estimates the rollover counter for the sequence number seq that a sender is
// about to protect, given last = ROC<<16 | highest sequence number protected so far on this
// SSRC, and returns the ROC to use and the new last (RFC 3711 §3.3.1 and Appendix A).
//
// It reproduces pion/srtp v3 bit for bit, so that both produce the same packets:
//   - while last ≤ 2^15 (ROC 0, early in the stream) nothing is taken as from before a wrap;
//   - seq more than 2^15 above the highest one of the lower half is a late packet (a
//     retransmission) from the previous ROC, and does not move last;
//   - seq more than 2^15 below the highest one of the upper half starts the next ROC;
//   - otherwise the ROC stays and last advances only when seq is newer.
//
// ok is false when the ROC would wrap past 2^32-1; last is then unchanged.
func sendIndex(last uint64, seq uint16) (roc uint32, next uint64, ok bool) {
	const half = 1 << 15
	localROC, localSeq, s := uint32(last>>16), int64(last&0xffff), int64(seq)
	roc, next = localROC, last
	switch {
	case last <= half:
		// fall through to the advance below
	case localSeq < half && s-localSeq > half:
		return localROC - 1, last, true
	case localSeq >= half && localSeq-half > s:
		if localROC == math.MaxUint32 {
			return 0, last, false
		}
		return localROC + 1, uint64(localROC+1)<<16 | uint64(seq), true
	}
	if s > localSeq {
		next = last + uint64(s-localSeq)
	}
	return roc, next, true
}

// rocTable holds the per-SSRC send index (ROC<<16 | highest seq) of one outbound context. The
// first hotSSRCs SSRCs live in inline arrays scanned linearly (a receiver usually gets one
// audio, one video and one RTX SSRC, so the hit is one or two compares on one cache line); the
// rest go to a map. A map SSRC takes over a hot slot that has been idle for staleTicks packets,
// so SSRCs of departed senders do not keep the hot slots forever, yet more than hotSSRCs
// interleaved active SSRCs never churn (they simply cost one map lookup, as pion always does).
type rocTable struct {
	n     int32  // hot slots in use
	tick  uint32 // packets looked up, wraps
	probe int32  // next hot slot checked for staleness
	slots [hotSSRCs]rocSlot
	cold  map[uint32]*uint64
}

// rocSlot is one hot SSRC; 16 bytes, so the first four share a cache line with each other.
type rocSlot struct {
	ssrc  uint32
	used  uint32 // tick of the slot's last packet
	index uint64 // ROC<<16 | highest sequence number sent
}

// lookup returns the send index of ssrc for update, and whether the SSRC was known (a new
// one starts at 0 and must be stored as its first sequence number).
func (t *rocTable) lookup(ssrc uint32) (*uint64, bool, error) {
	t.tick++
	for i := range t.n {
		if s := &t.slots[i]; s.ssrc == ssrc {
			s.used = t.tick
			return &s.index, true, nil
		}
	}
	p, known := t.cold[ssrc]
	if !known && t.size() >= maxSSRCs {
		return nil, false, errTooManySSRCs
	}
	if t.n < hotSSRCs {
		// Only new SSRCs get here: the map is used once all hot slots are taken.
		s := &t.slots[t.n]
		t.n++
		*s = rocSlot{ssrc: ssrc, used: t.tick}
		return &s.index, false, nil
	}
	return t.lookupCold(ssrc, p, known), known, nil
}

// lookupCold handles an SSRC outside the hot slots: it takes the next probed hot slot if that
// one is stale (moving the slot's SSRC into the map), and otherwise stays in the map.
func (t *rocTable) lookupCold(ssrc uint32, p *uint64, known bool) *uint64 {
	if !known {
		p = new(uint64)
		if t.cold == nil {
			t.cold = make(map[uint32]*uint64)
		}
		t.cold[ssrc] = p
	}
	s := &t.slots[t.probe]
	t.probe = (t.probe + 1) % hotSSRCs
	if t.tick-s.used < staleTicks {
		return p
	}
	// Swap: the stale slot's SSRC moves to the map, reusing p's storage.
	delete(t.cold, ssrc)
	index := *p
	*p = s.index
	t.cold[s.ssrc] = p
	*s = rocSlot{ssrc: ssrc, used: t.tick, index: index}
	return &s.index
}

// next returns the ROC to protect (ssrc, seq) with and records the packet.
func (t *rocTable) next(ssrc uint32, seq uint16) (uint32, error) {
	last, known, err := t.lookup(ssrc)
	if err != nil {
		return 0, err
	}
	if !known {
		// First packet of the SSRC: ROC 0, as pion (RFC 3711 §3.3.1 leaves the initial ROC to
		// signalling; DTLS-SRTP has none, so 0).
		*last = uint64(seq)
		return 0, nil
	}
	roc, idx, ok := sendIndex(*last, seq)
	if !ok {
		return 0, errROCExhausted
	}
	*last = idx
	return roc, nil
}

// size returns the number of SSRCs tracked.
func (t *rocTable) size() int { return int(t.n) + len(t.cold) }
