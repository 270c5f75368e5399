package bwe

import "github.com/cityjitsi/videobridge/bridge/rtp"

// Packet status chunks (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1.3, §3.1.4), 16 bits each:
//
//	run length:    |0|S S|      run length (13 bits)      |
//	status vector: |1|0| 14 one-bit symbols (0 lost, 1 small delta) |
//	               |1|1| 7 two-bit symbols                          |
const (
	maxRunLength    = 1<<13 - 1
	oneBitCapacity  = 14
	twoBitCapacity  = 7
	chunkVector     = 0x8000
	chunkTwoBitFlag = 0x4000
)

// chunkEncoder turns a stream of status symbols into the fewest chunks with
// the greedy rule libwebrtc uses: buffer symbols while they still fit one
// chunk of some kind (a run of equal symbols, 14 one-bit symbols without a
// large delta, or 7 two-bit symbols), and emit when the next one does not.
// It is a small value, so a caller can try adding symbols on a copy and keep
// the copy only if the packet still fits.
type chunkEncoder struct {
	syms     [oneBitCapacity]uint8 // the first min(size, 14) buffered symbols
	size     int                   // symbols buffered
	allSame  bool                  // every buffered symbol equals syms[0]
	hasLarge bool                  // a buffered symbol is a large delta
	n        int                   // chunks emitted into out
}

// addRun adds count copies of sym, emitting into out as chunks fill.
func (e *chunkEncoder) addRun(sym uint8, count int, out *[maxChunks + chunkSlack]uint16) {
	for ; count > 0; count-- {
		for !e.canAdd(sym) {
			e.emit(out)
		}
		if e.size < oneBitCapacity {
			e.syms[e.size] = sym
		}
		if e.size == 0 {
			e.allSame = true
		} else if sym != e.syms[0] {
			e.allSame = false
		}
		e.hasLarge = e.hasLarge || sym == rtp.TWCCLargeDelta
		e.size++
	}
}

func (e *chunkEncoder) canAdd(sym uint8) bool {
	switch {
	case e.size < twoBitCapacity:
		return true
	case e.size < oneBitCapacity && !e.hasLarge && sym != rtp.TWCCLargeDelta:
		return true
	default:
		return e.size < maxRunLength && e.allSame && sym == e.syms[0]
	}
}

// emit writes one chunk of the buffered symbols and keeps the rest buffered.
func (e *chunkEncoder) emit(out *[maxChunks + chunkSlack]uint16) {
	switch {
	case e.allSame:
		out[e.n] = uint16(e.syms[0])<<13 | uint16(e.size)
		e.size = 0
	case e.size == oneBitCapacity: // canAdd allowed 14 only without large deltas
		out[e.n] = e.vector(oneBitCapacity)
		e.size = 0
	default:
		out[e.n] = e.vector(twoBitCapacity)
		e.shift(twoBitCapacity)
	}
	e.n++
}

// flush emits whatever is buffered, in as few chunks as the final symbols allow.
func (e *chunkEncoder) flush(out *[maxChunks + chunkSlack]uint16) {
	for e.size > 0 {
		switch {
		case e.allSame:
			out[e.n] = uint16(e.syms[0])<<13 | uint16(e.size)
			e.size = 0
		case e.size <= twoBitCapacity:
			out[e.n] = e.vector(e.size)
			e.size = 0
		case !e.hasLarge:
			out[e.n] = e.vector(e.size)
			e.size = 0
		default:
			out[e.n] = e.vector(twoBitCapacity)
			e.shift(twoBitCapacity)
			e.n++
			continue
		}
		e.n++
	}
}

// vector encodes the first n buffered symbols (n ≤ 7 for two-bit symbols,
// n ≤ 14 for one-bit ones) as a status vector chunk; unused positions are
// 0, and the status count tells the reader where the statuses end.
func (e *chunkEncoder) vector(n int) uint16 {
	if n > twoBitCapacity || (!e.hasLarge && n == oneBitCapacity) {
		c := uint16(chunkVector)
		for i := 0; i < n; i++ {
			c |= uint16(e.syms[i]) << (13 - i)
		}
		return c
	}
	c := uint16(chunkVector | chunkTwoBitFlag)
	for i := 0; i < n; i++ {
		c |= uint16(e.syms[i]) << (12 - 2*i)
	}
	return c
}

// shift drops the first k buffered symbols (size ≤ 14 here).
func (e *chunkEncoder) shift(k int) {
	copy(e.syms[:], e.syms[k:e.size])
	e.size -= k
	e.allSame, e.hasLarge = true, false
	for i := 0; i < e.size; i++ {
		e.allSame = e.allSame && e.syms[i] == e.syms[0]
		e.hasLarge = e.hasLarge || e.syms[i] == rtp.TWCCLargeDelta
	}
}
