package rtp

// Packet-path rule 2 (ARCHITECTURE.md): sequence numbers and timestamps are
// unwrapped to 64 bits at ingress, and truncated only when written.
//
// Both unwrappers place a value at the point congruent to it (mod 2^16 or
// 2^32) that is nearest the highest value seen so far, so reordering of up to
// half the number space is handled on either side of a wrap. The reference is
// the highest value, not the last one: an old straggler does not drag the
// reference back. The first value is placed in the second cycle (plus 2^16 or
// 2^32), so that a packet reordered to before it across a wrap still unwraps
// to a smaller number instead of underflowing. Truncating an unwrapped value
// (uint16(ext), uint32(ext)) always gives back the wire value.

// SeqUnwrapper extends 16-bit RTP sequence numbers to 64 bits. The zero value
// is ready to use. It is not safe for concurrent use.
type SeqUnwrapper struct {
	highest uint64
	started bool
}

// Unwrap returns the 64-bit value of seq and advances the highest value seen
// when seq is newer. A distance of exactly 2^15 counts as older.
func (u *SeqUnwrapper) Unwrap(seq uint16) uint64 {
	if !u.started {
		u.started = true
		u.highest = 1<<16 | uint64(seq)
		return u.highest
	}
	diff := int16(seq - uint16(u.highest))
	ext := u.highest + uint64(int64(diff))
	if diff > 0 {
		u.highest = ext
	}
	return ext
}

// Highest returns the highest unwrapped value so far, and false before the
// first call to Unwrap.
func (u *SeqUnwrapper) Highest() (uint64, bool) { return u.highest, u.started }

// Reset forgets all state, for example when the source restarts.
func (u *SeqUnwrapper) Reset() { *u = SeqUnwrapper{} }

// TSUnwrapper extends 32-bit RTP timestamps to 64 bits. The zero value is
// ready to use. It is not safe for concurrent use.
type TSUnwrapper struct {
	highest uint64
	started bool
}

// Unwrap returns the 64-bit value of ts and advances the highest value seen
// when ts is newer. A distance of exactly 2^31 counts as older.
func (u *TSUnwrapper) Unwrap(ts uint32) uint64 {
	if !u.started {
		u.started = true
		u.highest = 1<<32 | uint64(ts)
		return u.highest
	}
	diff := int32(ts - uint32(u.highest))
	ext := u.highest + uint64(int64(diff))
	if diff > 0 {
		u.highest = ext
	}
	return ext
}

// Highest returns the highest unwrapped value so far, and false before the
// first call to Unwrap.
func (u *TSUnwrapper) Highest() (uint64, bool) { return u.highest, u.started }

// Reset forgets all state.
func (u *TSUnwrapper) Reset() { *u = TSUnwrapper{} }
