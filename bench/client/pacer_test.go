package client

import (
	"slices"
	"testing"
)

// TestPacerRelease replays the pacer's accounting over 5 ms ticks for frames of 1200-byte
// packets from a sender whose layers add up to 3 Mbit/s (pacing rate 2.5 × that).
func TestPacerRelease(t *testing.T) {
	const rate = pacingFactor * 3e6 / 8 // 937.5 kB/s: 4687.5 bytes per tick
	tests := []struct {
		name    string
		model   Pacer
		packets int
		ticks   int
		want    []int // packets released per tick
	}{
		// A 720p frame leaves whole: the debt stays under 40 ms at the pacing rate (37.5 kB).
		{"burst/frame", PacerBurst, 9, 3, []int{9, 0, 0}},
		{"interval/frame", PacerInterval, 9, 3, []int{4, 4, 1}},
		// A 72 kB keyframe: 32 packets fill the 40 ms of debt, then the pacing rate rules
		// (3.9 packets per tick).
		{"burst/keyframe", PacerBurst, 60, 4, []int{32, 4, 4, 3}},
		{"interval/keyframe", PacerInterval, 60, 4, []int{4, 4, 4, 4}},
		{"burst/empty", PacerBurst, 0, 2, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sender{rate: rate}
			for range tt.packets {
				s.pacer = append(s.pacer, queued{n: 1200})
			}
			var got []int
			for range tt.ticks {
				n := s.release(tt.model, senderTick)
				s.pacer = s.pacer[n:]
				got = append(got, n)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("released per tick %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPacerBurstCap: at a high rate the 63 kB burst size, not 40 ms, bounds the debt.
func TestPacerBurstCap(t *testing.T) {
	s := &sender{rate: pacingFactor * 20e6 / 8} // 40 ms would be 250 kB
	for range 100 {
		s.pacer = append(s.pacer, queued{n: 1200})
	}
	if n := s.release(PacerBurst, senderTick); n != 53 { // 52 × 1200 < 63000 ≤ 53 × 1200
		t.Errorf("released %d packets, want 53", n)
	}
}
