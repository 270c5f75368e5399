package xmpp

import (
	"testing"
	"time"
)

func TestBackoffSequence(t *testing.T) {
	var got []time.Duration
	d := time.Duration(0)
	for i := 0; i < 8; i++ {
		d = nextBackoff(d, time.Second, 30*time.Second)
		got = append(got, d)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("sequence %v, want %v seconds", got, want)
		}
	}
}

func TestJitterBounds(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999999} {
		j := jitter(4*time.Second, r)
		if j < 3*time.Second || j >= 5*time.Second {
			t.Errorf("jitter(4s, %v) = %v, outside [3s, 5s)", r, j)
		}
	}
	if jitter(4*time.Second, 0) != 3*time.Second || jitter(4*time.Second, 0.5) != 4*time.Second {
		t.Error("jitter is not linear in r")
	}
}
