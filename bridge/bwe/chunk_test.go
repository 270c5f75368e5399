package bwe

import (
	"slices"
	"testing"
)

func TestChunkEncoder(t *testing.T) {
	const (
		L = 0 // not received
		S = 1 // small delta
		B = 2 // large delta
	)
	run := func(sym, n int) uint16 { return uint16(sym<<13 | n) }
	rep := func(sym uint8, n int) []uint8 { return slices.Repeat([]uint8{sym}, n) }
	tests := []struct {
		name string
		in   []uint8
		want []uint16
	}{
		{"one", []uint8{S}, []uint16{run(S, 1)}},
		{"run", rep(S, 20), []uint16{run(S, 20)}},
		{"long run splits at 8191", rep(L, 8200), []uint16{run(L, 8191), run(L, 9)}},
		{"large run", rep(B, 9), []uint16{run(B, 9)}},
		{"short mix is a two-bit vector", []uint8{S, B, S}, []uint16{0xc000 | 1<<12 | 2<<10 | 1<<8}},
		{"one-bit vector of 14", []uint8{S, L, S, L, S, L, S, L, S, L, S, L, S, L},
			[]uint16{0x8000 | 0b10101010101010}},
		{"one-bit vector, short tail", []uint8{S, L, S, L, S, L, S, L, S}, []uint16{0x8000 | 0b10101010100000}},
		{"run then change", append(rep(S, 7), B), []uint16{run(S, 7), run(B, 1)}},
		{"mix then large", []uint8{S, L, S, L, S, L, S, B},
			[]uint16{0xc000 | 1<<12 | 1<<8 | 1<<4 | 1<<0, run(B, 1)}},
		{"mix with large splits in sevens", []uint8{B, L, S, L, S, L, S, L, S},
			[]uint16{0xc000 | 2<<12 | 1<<8 | 1<<4 | 1<<0, 0xc000 | 0<<12 | 1<<10}},
		{"vector then run", append([]uint8{S, L, S, L, S, L, S, L, S, L, S, L, S, L}, rep(S, 30)...),
			[]uint16{0x8000 | 0b10101010101010, run(S, 30)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e chunkEncoder
			var out [maxChunks + chunkSlack]uint16
			for _, s := range tt.in {
				e.addRun(s, 1, &out)
			}
			e.flush(&out)
			if got := out[:e.n]; !slices.Equal(got, tt.want) {
				t.Errorf("chunks %04x, want %04x", got, tt.want)
			}
		})
	}
}
