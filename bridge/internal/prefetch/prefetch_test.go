package prefetch

import (
	"testing"
	"unsafe"
)

// TestBatch checks which lines a Batch collects (ordinary, unaligned, empty and nil ranges,
// and the capacity bound), and that issuing them neither faults nor changes memory.
func TestBatch(t *testing.T) {
	buf := make([]byte, 8192)
	for i := range buf {
		buf[i] = byte(i)
	}
	base := (uintptr(unsafe.Pointer(&buf[0])) + LineSize - 1) &^ (LineSize - 1)
	at := func(off uintptr) unsafe.Pointer {
		return unsafe.Add(unsafe.Pointer(&buf[0]), base-uintptr(unsafe.Pointer(&buf[0]))+off)
	}
	tests := []struct {
		name string
		off  uintptr
		size uintptr
		want int
	}{
		{"one aligned line", 0, 64, 1},
		{"inside a line", 8, 16, 1},
		{"crossing a line", 60, 8, 2},
		{"two lines and a byte", 0, 129, 3},
		{"empty", 0, 0, 0},
	}
	for _, tt := range tests {
		var b Batch
		b.Add(at(tt.off), tt.size)
		if b.Lines() != tt.want {
			t.Errorf("%s: %d lines, want %d", tt.name, b.Lines(), tt.want)
		}
		if b.n > 0 && b.spans[0].line != uintptr(at(tt.off))&^(LineSize-1) {
			t.Errorf("%s: first line %#x", tt.name, b.spans[0].line)
		}
		if tt.size > 0 && (!b.Covers(at(tt.off)) || !b.Covers(at(tt.off+tt.size-1)) || b.Covers(at(tt.off+tt.size+LineSize))) {
			t.Errorf("%s: Covers disagrees with the range", tt.name)
		}
		b.Issue()
		if b.Lines() != 0 {
			t.Errorf("%s: %d lines left after Issue", tt.name, b.Lines())
		}
	}
	var b Batch
	b.Add(nil, 64)
	if b.Lines() != 0 {
		t.Errorf("nil pointer added %d lines", b.Lines())
	}
	for range batchCap + 1 {
		b.Add(at(0), 64)
	}
	if b.Lines() != batchCap {
		t.Errorf("%d lines past the capacity, want %d", b.Lines(), batchCap)
	}
	b.Issue()
	for i := range buf {
		if buf[i] != byte(i) {
			t.Fatalf("byte %d changed", i)
		}
	}
}

func TestTarget(t *testing.T) {
	type obj struct{ a, b [100]byte }
	o := &obj{}
	var v any = o
	if p, n := Target(v); p != unsafe.Pointer(o) || n != unsafe.Sizeof(*o) {
		t.Errorf("Target(%T) = %p, %d; want %p, %d", v, p, n, o, unsafe.Sizeof(*o))
	}
	for _, v := range []any{nil, 3, obj{}} {
		if p, n := Target(v); p != nil || n != 0 {
			t.Errorf("Target(%T) = %p, %d; want nil, 0", v, p, n)
		}
	}
}

func BenchmarkBatch(b *testing.B) {
	buf := make([]byte, 1024)
	var pb Batch
	for b.Loop() {
		pb.Add(unsafe.Pointer(&buf[0]), 256)
		pb.Add(unsafe.Pointer(&buf[512]), 128)
		pb.Issue()
	}
}
