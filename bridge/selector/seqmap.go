package selector

import "math/bits"

// windowSize is how far behind the newest packet a late packet (reordered, or
// recovered upstream by NACK and RTX) may arrive and still be forwarded: 256
// sequence numbers, about two seconds of a 720p layer and more than the
// largest keyframe.
const windowSize = 256

const windowWords = windowSize / 64

// seqMap owns the output sequence space of one anchoring: from the packet
// that started forwarding an encoding (a switch, a resume) until the next.
//
// The bridge owns the outgoing sequence numbers (media.md §2.4, pitfall 5):
// packets dropped on purpose must not look lost to the receiver, or it NACKs
// them and reports loss; packets that may still arrive must keep their slot,
// so that they can be forwarded in place. The rule that gives both:
//
//	out(seq) = seq - base - (number of collapsed packets below seq)
//
// where a packet is collapsed when it is dropped on arrival *in order*
// (newer than every packet seen so far). Only in-order packets are
// collapsed, so no collapse ever lands below a packet already forwarded, and
// the mapping of a forwarded packet never changes. Two forwarded packets
// a < b get out(b) - out(a) = (b - a) - (collapsed in (a, b)) >= 1: outputs
// are unique and in input order, whatever arrives late or twice. A packet
// that is dropped late (or never arrives) keeps its gap, which is the JVB
// rule "leave gaps only where skipped packets might still be forwardable".
//
// Two circular bitmaps over the last windowSize sequence numbers record what
// was seen (for duplicates) and what was collapsed (to map late packets).
type seqMap struct {
	anchor  uint64 // first input seq of this anchoring; older ones are dropped
	highest uint64 // highest input seq seen, valid when any
	base    uint64 // out = in - base - collapsed below
	drops   uint64 // packets collapsed since the anchor
	any     bool
	seen    [windowWords]uint64
	dropped [windowWords]uint64
}

// reset starts a new anchoring where input seq in maps to output seq out.
func (m *seqMap) reset(in, out uint64) {
	*m = seqMap{anchor: in, base: in - out}
}

// classify says whether seq can be considered: DropTooOld before the anchor
// or behind the window, DropDuplicate when seen already. inOrder reports a
// packet newer than all seen so far.
func (m *seqMap) classify(seq uint64) (r DropReason, inOrder bool) {
	switch {
	case seq < m.anchor:
		return DropTooOld, false
	case !m.any || seq > m.highest:
		return DropNone, true
	case m.highest-seq >= windowSize:
		return DropTooOld, false
	case m.seen[seq/64%windowWords]&(1<<(seq%64)) != 0:
		return DropDuplicate, false
	}
	return DropNone, false
}

// see records seq (accepted by classify) as seen.
func (m *seqMap) see(seq uint64, inOrder bool) {
	if inOrder {
		m.advance(seq)
	}
	m.seen[seq/64%windowWords] |= 1 << (seq % 64)
}

// advance moves the window so that seq is the highest, clearing the bits of
// the sequence numbers that enter it.
func (m *seqMap) advance(seq uint64) {
	if m.any && seq-m.highest < windowSize {
		for s := m.highest + 1; s != seq+1; s++ {
			m.seen[s/64%windowWords] &^= 1 << (s % 64)
			m.dropped[s/64%windowWords] &^= 1 << (s % 64)
		}
	} else {
		m.seen, m.dropped = [windowWords]uint64{}, [windowWords]uint64{}
	}
	m.highest, m.any = seq, true
}

// collapse hides seq, dropped in order, from the output sequence space.
func (m *seqMap) collapse(seq uint64) {
	m.dropped[seq/64%windowWords] |= 1 << (seq % 64)
	m.drops++
}

// drop records the drop of a seen packet: collapsed when in order.
func (m *seqMap) drop(seq uint64, inOrder bool) {
	if inOrder {
		m.collapse(seq)
	}
}

// out returns the extended output sequence number of seq, a packet seen and
// not dropped.
func (m *seqMap) out(seq uint64) uint64 {
	off := m.drops
	if seq < m.highest {
		off -= uint64(countBits(&m.dropped, seq+1, m.highest-seq))
	}
	return seq - m.base - off
}

// countBits counts the set bits of the circular bitmap bm for the n sequence
// numbers starting at from (n <= windowSize).
func countBits(bm *[windowWords]uint64, from, n uint64) int {
	c := 0
	for n > 0 {
		b := from % 64
		span := 64 - b
		if n < span {
			span = n
		}
		mask := (^uint64(0) >> (64 - span)) << b
		c += bits.OnesCount64(bm[from/64%windowWords] & mask)
		from += span
		n -= span
	}
	return c
}
