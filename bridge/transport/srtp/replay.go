package srtp

import "errors"

// Sentinel errors of the inbound receive state. They are returned bare (never wrapped per
// packet), so that dropping a replayed or unexpected packet formats and allocates nothing.
var (
	// errReplayed: the packet's index was already received, is older than the replay window
	// (RFC 3711 §3.3.2), or cannot be represented (the ROC would pass 2^32-1).
	errReplayed = errors.New("srtp: replayed packet")
	// errTooManyInboundSSRCs: the context already tracks maxSSRCs authenticated SSRCs for this
	// protocol. An endpoint sends a handful (audio, simulcast video, RTX), so this is a peer
	// misbehaving; its packets on known SSRCs still pass.
	errTooManyInboundSSRCs = errors.New("srtp: too many inbound SSRCs")
)

// windowWords is the replay window in 64-bit words.
const windowWords = replayWindow / 64

// window is a replayWindow-bit replay list (RFC 3711 §3.3.2): bit i (word i/64, bit i%64) is
// set when the packet with index head-i was received. Moving the head forward by n shifts the
// bits up by n, so that the head's own bit is always bit 0.
type window [windowWords]uint64

// shift moves the window's head forward by n indices. A step below 64 (all in-order and most
// reordered traffic) is one carry chain through the words without branches.
func (w *window) shift(n uint64) {
	if n < 64 {
		c := 64 - n // x >> 64 is 0 in Go, so n == 0 shifts nothing
		w[7] = w[7]<<n | w[6]>>c
		w[6] = w[6]<<n | w[5]>>c
		w[5] = w[5]<<n | w[4]>>c
		w[4] = w[4]<<n | w[3]>>c
		w[3] = w[3]<<n | w[2]>>c
		w[2] = w[2]<<n | w[1]>>c
		w[1] = w[1]<<n | w[0]>>c
		w[0] <<= n
		return
	}
	if n >= replayWindow {
		*w = window{}
		return
	}
	q, r := int(n/64), n%64
	for i := windowWords - 1; i >= q; i-- {
		v := w[i-q] << r
		if i > q {
			v |= w[i-q-1] >> (64 - r)
		}
		w[i] = v
	}
	for i := range q {
		w[i] = 0
	}
}

// has reports whether bit d (index head-d) is set; d < replayWindow.
func (w *window) has(d uint64) bool { return w[(d/64)%windowWords]&(1<<(d%64)) != 0 }

// set sets bit d; d < replayWindow.
func (w *window) set(d uint64) { w[(d/64)%windowWords] |= 1 << (d % 64) }

// replayState is one SSRC's authenticated receive state. The zero value is the state of an
// SSRC not heard from yet: its first index is taken as is (with ROC 0 for SRTP, as pion and
// libsrtp: DTLS-SRTP signals no initial ROC) and starts the window.
type replayState struct {
	// head is the highest index authenticated so far: for SRTP ROC<<16 | s_l, which is also
	// the rollover state the receiver's index guess needs (RFC 3711 §3.3.1); for SRTCP the
	// 31-bit SRTCP index (RFC 3711 §3.4).
	head uint64
	seen window
}

// replayed reports whether index was already received or lies before the window. It does not
// change the state: that waits for the packet's authentication (RFC 3711 §3.3).
func (s *replayState) replayed(index uint64) bool {
	if index > s.head {
		return false
	}
	d := s.head - index
	return d >= replayWindow || s.seen.has(d)
}

// accept records index as received; it must have passed replayed.
func (s *replayState) accept(index uint64) {
	if index > s.head {
		s.seen.shift(index - s.head)
		s.head = index
	}
	s.seen.set(s.head - index)
}

// replayTable holds the receive state per SSRC of one protocol (SRTP or SRTCP) of an inbound
// context. The state is only written once a packet is authenticated, so forged packets (any
// SSRC) neither create entries nor move windows.
type replayTable struct {
	ssrcTable[replayState]
	// unseen is the scratch state lookup returns for an SSRC it does not track yet.
	unseen replayState
}

// lookup returns ssrc's state for reading and where it lives (for commit). An unknown SSRC
// gets a zero scratch state, or errTooManyInboundSSRCs when the table is full. Nothing in the
// table changes: the packet is not authenticated yet.
func (t *replayTable) lookup(ssrc uint32) (*replayState, int, error) {
	if p, slot := t.find(ssrc); p != nil {
		return p, slot, nil
	}
	if t.full() {
		return nil, 0, errTooManyInboundSSRCs
	}
	t.unseen = replayState{}
	return &t.unseen, slotNew, nil
}

// commit records the authenticated packet index for ssrc, whose state lookup returned at slot.
func (t *replayTable) commit(ssrc uint32, s *replayState, slot int, index uint64) {
	t.keep(ssrc, s, slot).accept(index)
}
