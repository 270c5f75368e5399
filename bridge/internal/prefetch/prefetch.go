// Package prefetch issues cache prefetch hints. The egress worker forwards one packet to many
// receivers in turn, and at a fan-out of a hundred each receiver's state has left the core's
// caches by its next turn: every line it touches is a miss the core waits for. Hinting the
// next receivers' lines while the current one is processed overlaps those misses with work.
//
// A hint never faults and never changes memory, so a stale address only wastes the hint.
// Ranges are collected in a Batch and issued in one call: a call into assembly costs more
// than the few hint instructions themselves. On architectures without an implementation
// Issue does nothing.
package prefetch

import (
	"reflect"
	"unsafe"
)

// LineSize is the cache line size the hints step by (64 bytes on amd64 and most arm64).
const LineSize = 64

// batchCap bounds the ranges of one Batch; Add drops ranges beyond it.
const batchCap = 32

// span is a run of cache lines: the first one's address and how many.
type span struct {
	line, n uintptr
}

// Batch collects memory ranges to hint. The zero value is empty; a Batch is not safe for
// concurrent use (each worker owns one).
type Batch struct {
	n     int
	spans [batchCap]span // addresses are hints only, never dereferenced by Go
}

// Add adds the cache lines of the size bytes at p (none when p is nil or size 0).
func (b *Batch) Add(p unsafe.Pointer, size uintptr) {
	if p == nil || size == 0 || b.n == batchCap {
		return
	}
	first := uintptr(p) &^ (LineSize - 1)
	b.spans[b.n] = span{first, (uintptr(p)+size-1-first)/LineSize + 1}
	b.n++
}

// Lines returns the number of lines collected.
func (b *Batch) Lines() int {
	n := 0
	for _, s := range b.spans[:b.n] {
		n += int(s.n)
	}
	return n
}

// Covers reports whether the line holding p is in the batch: tests use it to check that
// hints reach the fields they are meant for, whatever the struct layout becomes.
func (b *Batch) Covers(p unsafe.Pointer) bool {
	a := uintptr(p)
	for _, s := range b.spans[:b.n] {
		if a >= s.line && a < s.line+s.n*LineSize {
			return true
		}
	}
	return false
}

// Issue hints the collected lines and empties the batch.
func (b *Batch) Issue() {
	if b.n > 0 {
		spans(&b.spans[0], b.n)
	}
	b.n = 0
}

// Target returns the object the interface value v points to and its size, for a later Add
// over it; nil and 0 when v holds no pointer. It uses reflection: call it once, when the
// value is set, not per packet.
func Target(v any) (unsafe.Pointer, uintptr) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, 0
	}
	return reflect.ValueOf(v).UnsafePointer(), t.Elem().Size()
}
