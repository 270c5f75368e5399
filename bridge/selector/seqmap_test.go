package selector

import (
	"reflect"
	"testing"
)

// TestSeqMap drives the output sequence space directly: in-order drops
// collapse, late packets map between their neighbours, late drops leave a
// gap, and the window bounds what is accepted.
func TestSeqMap(t *testing.T) {
	type op struct {
		seq  uint64
		drop bool
	}
	tests := []struct {
		name string
		ops  []op
		want []int64 // output seq, or -1 for a drop, or -(reason+100) for a refusal
	}{
		{"in order", []op{{1000, false}, {1001, false}, {1002, false}}, []int64{50, 51, 52}},
		{"collapse", []op{{1000, false}, {1001, true}, {1002, true}, {1003, false}}, []int64{50, -1, -1, 51}},
		{"late before collapse", []op{{1000, false}, {1002, true}, {1003, false}, {1001, false}},
			[]int64{50, -1, 52, 51}},
		{"late drop keeps gap", []op{{1000, false}, {1002, false}, {1001, true}, {1003, false}},
			[]int64{50, 52, -1, 53}},
		{"duplicate and old", []op{{1000, false}, {1001, false}, {1001, false}, {999, false}},
			[]int64{50, 51, -(int64(DropDuplicate) + 100), -(int64(DropTooOld) + 100)}},
		{"window", []op{{1000, false}, {1000 + windowSize, false}, {1001, false}, {1000 + windowSize - 1, false}, {1002, false}},
			[]int64{50, 50 + windowSize, 51, 50 + windowSize - 1, 52}},
		{"behind the window", []op{{1000, false}, {1001 + windowSize, false}, {1001, false}},
			[]int64{50, 51 + windowSize, -(int64(DropTooOld) + 100)}},
		{"big jump clears", []op{{1000, true}, {5000, false}, {4999, false}, {4000, true}},
			[]int64{-1, 4049, 4048, -(int64(DropTooOld) + 100)}},
		// Collapsed packets are counted across word boundaries of the bitmap.
		{"count across words", []op{{1000, false}, {1060, true}, {1061, true}, {1070, true}, {1130, true}, {1200, false}, {1100, false}, {1065, false}},
			[]int64{50, -1, -1, -1, -1, 246, 147, 113}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m seqMap
			m.reset(1000, 50)
			var got []int64
			for _, o := range tt.ops {
				r, inOrder := m.classify(o.seq)
				switch {
				case r != DropNone:
					got = append(got, -(int64(r) + 100))
					continue
				case o.drop:
					m.see(o.seq, inOrder)
					m.drop(o.seq, inOrder)
					got = append(got, -1)
				default:
					m.see(o.seq, inOrder)
					got = append(got, int64(m.out(o.seq)))
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCountBits(t *testing.T) {
	var bm [windowWords]uint64
	set := []uint64{0, 1, 63, 64, 127, 128, 200, 255, 256 + 5}
	for _, s := range set {
		bm[s/64%windowWords] |= 1 << (s % 64)
	}
	for from := uint64(0); from < 2*windowSize; from++ {
		for n := uint64(0); n <= windowSize; n += 7 {
			want := 0
			for s := from; s < from+n; s++ {
				if bm[s/64%windowWords]&(1<<(s%64)) != 0 {
					want++
				}
			}
			if got := countBits(&bm, from, n); got != want {
				t.Fatalf("countBits(%d, %d) = %d, want %d", from, n, got, want)
			}
		}
	}
}
