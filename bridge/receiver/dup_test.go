package receiver

import (
	"slices"
	"testing"
)

func TestDupWindow(t *testing.T) {
	tests := []struct {
		name string
		in   []uint64
		want []DropReason
	}{
		{
			name: "window edges",
			in:   []uint64{100, 100, 1599, 100, 99, 1599},
			want: []DropReason{DropNone, DropDuplicate, DropNone, DropDuplicate, DropTooOld, DropDuplicate},
		},
		{
			name: "reordered within the window is new",
			in:   []uint64{5000, 4000, 4001, 3501, 4000},
			want: []DropReason{DropNone, DropNone, DropNone, DropNone, DropDuplicate},
		},
		{
			// Slots are reused modulo 2048: 2648 takes 600's slot and must
			// not see its bit.
			name: "no aliasing across laps",
			in:   []uint64{600, 2000, 2700, 2648, 2648, 1300, 1199},
			want: []DropReason{DropNone, DropNone, DropNone, DropNone, DropDuplicate, DropNone, DropTooOld},
		},
		{
			name: "a jump beyond the bitmap clears it",
			in:   []uint64{10, 11, 10 + 3*dupBits, 11 + 3*dupBits, 10 + 3*dupBits},
			want: []DropReason{DropNone, DropNone, DropNone, DropNone, DropDuplicate},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w dupWindow
			var got []DropReason
			for _, s := range tt.in {
				got = append(got, w.mark(s))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
