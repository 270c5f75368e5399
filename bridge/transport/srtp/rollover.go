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

// rocTable holds the per-SSRC send index (ROC<<16 | highest seq) of one outbound context. A
// receiver usually gets one audio, one video and one RTX SSRC, so the hit is one or two
// compares among the hot slots.
type rocTable struct{ ssrcTable[uint64] }

// next returns the ROC to protect (ssrc, seq) with and records the packet.
func (t *rocTable) next(ssrc uint32, seq uint16) (uint32, error) {
	last, slot := t.find(ssrc)
	if last == nil && t.full() {
		return 0, errTooManySSRCs
	}
	last = t.keep(ssrc, last, slot)
	if slot == slotNew {
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
