package stats

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// TestHistogramQuantiles compares the histogram with exact nearest-rank quantiles of the same
// data: within the 1.6 % bucket precision (or 1 µs), max exact.
func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 0-2ms", func() time.Duration { return time.Duration(rng.IntN(2000)) * time.Microsecond }},
		{"lognormal", func() time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*1.2+6.5)) * time.Microsecond
		}},
		{"constant", func() time.Duration { return 37 * time.Millisecond }},
		{"tiny", func() time.Duration { return time.Duration(rng.IntN(50)) * time.Microsecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			var all []time.Duration
			for i := 0; i < 20000; i++ {
				d := tc.gen().Truncate(time.Microsecond)
				h.Record(d)
				all = append(all, d)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			for _, q := range []float64{0, 0.5, 0.95, 0.99, 1} {
				rank := max(int(math.Ceil(q*float64(len(all)))), 1)
				want := all[rank-1]
				got := h.Quantile(q)
				tol := max(time.Duration(float64(want)*0.016), time.Microsecond)
				if d := got - want; d > tol || d < -tol {
					t.Errorf("q%.2f = %v, want %v ±%v", q, got, want, tol)
				}
			}
			if h.Max() != all[len(all)-1] || h.Count() != 20000 {
				t.Errorf("max %v count %d", h.Max(), h.Count())
			}
		})
	}
}

func TestHistogramMergeAndEdges(t *testing.T) {
	var a, b, empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 || empty.Summary() != (Quantiles{}) {
		t.Error("empty histogram not zero")
	}
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	b.Record(-time.Second) // a clock step: counts as 0
	b.Record(100 * time.Hour)
	a.Merge(&b)
	a.Merge(&empty)
	if a.Count() != 4 || a.Max() != 100*time.Hour || a.Quantile(0) != 0 {
		t.Errorf("merged: count %d max %v min %v", a.Count(), a.Max(), a.Quantile(0))
	}
	if got := a.Quantile(0.5); got < time.Millisecond || got > 1016*time.Microsecond {
		t.Errorf("median %v", got)
	}
	a.Reset()
	if a.Count() != 0 {
		t.Error("reset")
	}
}

// TestLoss: loss from gaps, recovery by late (retransmitted) packets inside the window,
// duplicates ignored, wrap-around, and packets older than the window counted late.
func TestLoss(t *testing.T) {
	type want struct{ expected, received, lost, dups, late uint64 }
	for _, tc := range []struct {
		name string
		seqs []uint16
		want want
	}{
		{"in order", []uint16{10, 11, 12, 13}, want{4, 4, 0, 0, 0}},
		{"gap", []uint16{10, 11, 14, 15}, want{6, 4, 2, 0, 0}},
		{"gap recovered", []uint16{10, 11, 14, 12, 13}, want{5, 5, 0, 0, 0}},
		{"duplicate", []uint16{10, 11, 11, 12}, want{3, 3, 0, 1, 0}},
		{"wrap", []uint16{65534, 65535, 0, 2}, want{5, 4, 1, 0, 0}},
		{"older than first", []uint16{10, 11, 9}, want{2, 2, 0, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Loss
			for _, s := range tc.seqs {
				l.Record(s)
			}
			got := want{l.Expected(), l.Received(), l.Lost(), l.Duplicates(), l.Late()}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	// A packet that arrives more than a window late counts as late, and its loss stays.
	var l Loss
	l.Record(0)
	for s := uint16(2); s < 2000; s++ {
		l.Record(s)
	}
	if !l.Missing(l.Highest()-1000) && l.Missing(1) {
		t.Error("Missing outside the window")
	}
	l.Record(1)
	if l.Lost() != 1 || l.Late() != 1 {
		t.Errorf("lost %d late %d, want 1 1", l.Lost(), l.Late())
	}
	var m Loss
	m.Record(100)
	m.Record(103)
	if !m.Missing(m.Highest()-1) || !m.Missing(m.Highest()-2) || m.Missing(m.Highest()) {
		t.Error("Missing around a gap")
	}
}

// TestFreezes: a steady 30 fps stream has no freeze; a 400 ms gap is one (threshold
// max(3×33, 33+150) = 183 ms); a 150 ms gap is not.
func TestFreezes(t *testing.T) {
	var f Frames
	now := int64(0)
	ts := uint32(1000)
	step := func(gap time.Duration) {
		now += int64(gap)
		ts += 3000
		f.Record(ts, now)
		f.Record(ts, now+1000) // second packet of the same frame
	}
	for i := 0; i < 60; i++ {
		step(33 * time.Millisecond)
	}
	step(150 * time.Millisecond)
	step(400 * time.Millisecond)
	for i := 0; i < 30; i++ {
		step(33 * time.Millisecond)
	}
	f.Record(ts-3000, now+5) // a late packet of an older frame is no new frame
	got := f.Stats()
	if got.Frames != 92 || got.Freezes != 1 || got.Frozen != 400*time.Millisecond || got.Longest != 400*time.Millisecond {
		t.Errorf("got %+v", got)
	}
}

// TestJitter: constant transit gives zero jitter; alternating ±1 ms arrival noise at 90 kHz
// converges near 180 units (2 ms steps of 90 units per ms), and RTP timestamp wrap is harmless.
func TestJitter(t *testing.T) {
	j := NewJitter(90000)
	base := int64(1_700_000_000) * 1e9
	ts := uint32(math.MaxUint32 - 9000)
	for i := 0; i < 100; i++ {
		j.Record(ts+uint32(i*3000), base+int64(i)*int64(33333333))
	}
	if j.Value() > 1 {
		t.Errorf("constant transit: jitter %d", j.Value())
	}
	k := NewJitter(90000)
	for i := 0; i < 500; i++ {
		noise := int64(time.Millisecond)
		if i%2 == 0 {
			noise = -noise
		}
		k.Record(uint32(i*3000), base+int64(i)*int64(33333333)+noise)
	}
	if v := k.Value(); v < 170 || v > 185 {
		t.Errorf("jitter %d, want about 180", v)
	}
}
