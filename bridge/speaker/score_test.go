package speaker

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	ln := math.Log
	// Expected values written out from the formula ln C(n,k) + n·ln 0.5 − ln λ + λ·k.
	tests := []struct {
		vL, nR int
		lambda float64
		want   float64
	}{
		{0, 13, 0.78, minScore}, // −9.01 + 0.25: floored
		{3, 13, 0.78, minScore}, // ln 286 − 9.01 + 0.25 + 2.34 < 0: floored
		{4, 13, 0.78, ln(715) + 13*ln(0.5) - ln(0.78) + 0.78*4},
		{9, 13, 0.78, ln(715) + 13*ln(0.5) - ln(0.78) + 0.78*9},
		{12, 13, 0.78, ln(13) + 13*ln(0.5) - ln(0.78) + 0.78*12},
		{0, 5, 24, minScore},
		{1, 5, 24, ln(5) + 5*ln(0.5) - ln(24) + 24},
		{5, 5, 24, 5*ln(0.5) - ln(24) + 24*5},
		{0, 10, 47, minScore},
		{1, 10, 47, ln(10) + 10*ln(0.5) - ln(47) + 47},
		{10, 10, 47, 10*ln(0.5) - ln(47) + 470},
	}
	for _, tt := range tests {
		got := Score(tt.vL, tt.nR, tt.lambda)
		if math.Abs(got-tt.want) > 1e-12*math.Max(1, tt.want) {
			t.Errorf("Score(%d, %d, %v) = %.15g, want %.15g", tt.vL, tt.nR, tt.lambda, got, tt.want)
		}
	}
}

func TestBinomial(t *testing.T) {
	tests := []struct {
		n, r int
		want int64
	}{
		{13, 0, 1}, {13, 1, 13}, {13, 6, 1716}, {13, 7, 1716}, {13, 12, 13}, {13, 13, 1},
		{5, 2, 10}, {10, 5, 252}, {10, 11, 0},
	}
	for _, tt := range tests {
		if got := binomial(tt.n, tt.r); got != tt.want {
			t.Errorf("binomial(%d, %d) = %d, want %d", tt.n, tt.r, got, tt.want)
		}
	}
}

// hist builds a newest-first history from runs of (count, level), padding with zeros.
func hist(runs ...int) *[historyLength]uint8 {
	var h [historyLength]uint8
	i := 0
	for r := 0; r+1 < len(runs); r += 2 {
		for range runs[r] {
			h[i] = uint8(runs[r+1])
			i++
		}
	}
	return &h
}

func TestActivity(t *testing.T) {
	tests := []struct {
		name             string
		levels           *[historyLength]uint8
		minLevel         uint8
		imm0, med0, long int
	}{
		{"silence", hist(), 0, 0, 0, 0},
		{"loud throughout", hist(50, 90), 5, 9, 5, 10},
		{"immediate 8 counts toward mediums", hist(50, 80), 5, 8, 5, 10},
		{"immediate 7 does not", hist(50, 79), 5, 7, 0, 0},
		{"below the noise floor is silence", hist(50, 69), 60, 0, 0, 0},
		{"at the noise floor + 10 counts", hist(50, 90), 80, 9, 5, 10},
		{"one quiet level breaks the newest medium and a long", hist(1, 5, 49, 90), 5, 0, 4, 9},
		{"16 loud then quiet", hist(16, 90, 34, 5), 5, 9, 5, 3},
		{"16 quiet then loud", hist(16, 5, 34, 90), 5, 0, 0, 6},
		{"a medium needs all five", hist(4, 90, 1, 0, 45, 90), 5, 9, 4, 9},
	}
	for _, tt := range tests {
		imm0, med0, long := activity(tt.levels, tt.minLevel)
		if imm0 != tt.imm0 || med0 != tt.med0 || long != tt.long {
			t.Errorf("%s: activity = (%d, %d, %d), want (%d, %d, %d)", tt.name, imm0, med0, long, tt.imm0, tt.med0, tt.long)
		}
	}
}

// TestChallenges pins the challenger rule c1 > 3 && c2 > 2 && c3 > 0. Because the score ratios
// between any two non-floored values stay below e² (medium) and e³ (immediate), a challenger
// can only win while the dominant speaker's newest immediate and medium are at the floor.
func TestChallenges(t *testing.T) {
	tests := []struct {
		name       string
		challenger [3]int // immediate0, medium0, long
		dominant   [3]int
		want       bool
	}{
		{"loud against silent", [3]int{9, 5, 1}, [3]int{0, 0, 0}, true},
		{"dominant still talking", [3]int{9, 5, 10}, [3]int{4, 0, 0}, false},
		{"dominant's newest medium active", [3]int{9, 5, 10}, [3]int{0, 1, 0}, false},
		{"long must be strictly larger", [3]int{9, 5, 3}, [3]int{0, 0, 3}, false},
		{"long one larger is enough", [3]int{9, 5, 4}, [3]int{0, 0, 3}, true},
		{"challenger's immediate too low", [3]int{3, 5, 5}, [3]int{0, 0, 0}, false},
		{"challenger without a medium", [3]int{9, 0, 5}, [3]int{0, 0, 0}, false},
	}
	for _, tt := range tests {
		s := scoresOf(tt.challenger[0], tt.challenger[1], tt.challenger[2])
		d := scoresOf(tt.dominant[0], tt.dominant[1], tt.dominant[2])
		c2, ok := challenges(s, d)
		if ok != tt.want {
			t.Errorf("%s: challenges = %v (c2 %.2f), want %v", tt.name, ok, c2, tt.want)
		}
	}
}

func TestUpdateMinLevel(t *testing.T) {
	var h history
	h.updateMinLevel(0)
	if h.minLevel != 0 {
		t.Fatalf("a zero level set the floor to %d", h.minLevel)
	}
	h.updateMinLevel(30)
	h.updateMinLevel(20)
	if h.minLevel != 20 {
		t.Fatalf("floor %d, want 20 (any lower non-zero level replaces it)", h.minLevel)
	}
	for range minLevelWindow - 1 {
		h.updateMinLevel(50)
		h.updateMinLevel(0) // zeros neither lower the floor nor count in the window
	}
	if h.minLevel != 20 {
		t.Fatalf("floor rose to %d before the window was full", h.minLevel)
	}
	h.updateMinLevel(60)
	if want := uint8(math.Sqrt(20 * 50)); h.minLevel != want || want != 31 {
		t.Fatalf("floor %d after the window, want geometric mean %d", h.minLevel, want)
	}
	if h.nextMinLevel != 0 || h.nextMinWindowN != 0 {
		t.Fatalf("window not restarted: next %d, n %d", h.nextMinLevel, h.nextMinWindowN)
	}
}
