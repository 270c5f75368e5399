package rtp

import "testing"

func TestSeqUnwrapper(t *testing.T) {
	const c = 1 << 16 // first value lands in the second cycle
	tests := []struct {
		name string
		in   []uint16
		want []uint64
	}{
		{"in order", []uint16{10, 11, 12}, []uint64{c + 10, c + 11, c + 12}},
		{"forward wrap", []uint16{65534, 65535, 0, 1}, []uint64{c + 65534, c + 65535, 2 * c, 2*c + 1}},
		{"reordered across wrap after it", []uint16{65535, 1, 0, 65534, 2}, []uint64{c + 65535, 2*c + 1, 2 * c, c + 65534, 2*c + 2}},
		{"reordered before first across wrap", []uint16{0, 65535, 1}, []uint64{c, c - 1, c + 1}},
		{"gap", []uint16{100, 400}, []uint64{c + 100, c + 400}},
		{"old straggler keeps reference", []uint16{30000, 40000, 10000, 60000}, []uint64{c + 30000, c + 40000, c + 10000, c + 60000}},
		{"two wraps", []uint16{0, 30000, 60000, 24000, 54000, 10}, []uint64{c, c + 30000, c + 60000, 2*c + 24000, 2*c + 54000, 3*c + 10}},
		{"half distance counts as older", []uint16{0, 32768}, []uint64{c, c - 32768}},
		{"duplicate", []uint16{5, 5}, []uint64{c + 5, c + 5}},
	}
	for _, tc := range tests {
		var u SeqUnwrapper
		got := make([]uint64, len(tc.in))
		for i, s := range tc.in {
			got[i] = u.Unwrap(s)
			if uint16(got[i]) != s {
				t.Errorf("%s: truncation of %d is %d, want %d", tc.name, got[i], uint16(got[i]), s)
			}
		}
		if !equalU64(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	var u SeqUnwrapper
	if _, ok := u.Highest(); ok {
		t.Error("Highest before Unwrap reports ok")
	}
	u.Unwrap(65535)
	u.Unwrap(3)
	u.Unwrap(1)
	if h, ok := u.Highest(); !ok || h != 2*c+3 {
		t.Errorf("Highest = %d, %v", h, ok)
	}
	u.Reset()
	if got := u.Unwrap(7); got != c+7 {
		t.Errorf("after Reset: %d", got)
	}
}

func TestTSUnwrapper(t *testing.T) {
	const c = 1 << 32
	tests := []struct {
		name string
		in   []uint32
		want []uint64
	}{
		{"video steps", []uint32{0, 3000, 6000}, []uint64{c, c + 3000, c + 6000}},
		{"forward wrap", []uint32{0xffff_f000, 0x1000}, []uint64{c + 0xffff_f000, 2*c + 0x1000}},
		{"reordered across wrap", []uint32{0xffff_ff00, 0x100, 0xffff_ff80, 0x200}, []uint64{c + 0xffff_ff00, 2*c + 0x100, c + 0xffff_ff80, 2*c + 0x200}},
		{"before first across wrap", []uint32{10, 0xffff_fff0}, []uint64{c + 10, c - 16}},
		{"half distance counts as older", []uint32{0, 1 << 31}, []uint64{c, c - 1<<31}},
	}
	for _, tc := range tests {
		var u TSUnwrapper
		got := make([]uint64, len(tc.in))
		for i, s := range tc.in {
			got[i] = u.Unwrap(s)
		}
		if !equalU64(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	var u TSUnwrapper
	u.Unwrap(5)
	if h, ok := u.Highest(); !ok || h != c+5 {
		t.Errorf("Highest = %d, %v", h, ok)
	}
	u.Reset()
	if _, ok := u.Highest(); ok {
		t.Error("Reset kept state")
	}
}

// TestSeqUnwrapperLongRun unwraps a long reordered sequence and checks that
// every value equals the true extended number.
func TestSeqUnwrapperLongRun(t *testing.T) {
	var u SeqUnwrapper
	const start = 60000
	for i := 0; i < 300000; i++ {
		n := i
		if i%7 == 3 && i > 0 { // swap neighbours: n = i+1 then i
			n = i + 1
		} else if i%7 == 4 {
			n = i - 1
		}
		truth := uint64(start + n)
		if got := u.Unwrap(uint16(truth)); got != truth+1<<16 {
			t.Fatalf("step %d: got %d, want %d", i, got, truth+1<<16)
		}
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
