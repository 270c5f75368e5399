package channel

import (
	"runtime"
	"testing"
	"time"
)

func TestNextMultiple(t *testing.T) {
	base := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		now  time.Time
		d    time.Duration
		want time.Time
	}{
		{base, 300 * time.Millisecond, base.Add(300 * time.Millisecond)}, // on a boundary: the next one
		{base.Add(299 * time.Millisecond), 300 * time.Millisecond, base.Add(300 * time.Millisecond)},
		{base.Add(301 * time.Millisecond), 300 * time.Millisecond, base.Add(600 * time.Millisecond)},
		{base.Add(3 * time.Second), 10 * time.Second, base.Add(10 * time.Second)},
	} {
		if got := nextMultiple(c.now, c.d); !got.Equal(c.want) {
			t.Errorf("nextMultiple(%v, %v) = %v, want %v", c.now, c.d, got, c.want)
		}
	}
}

// tickWait bounds the waits below; no test passes or fails on timing.
const tickWait = 5 * time.Second

// TestAlignedTickerTicksAndStops: ticks arrive, and Stop ends the ticker's goroutine.
func TestAlignedTickerTicksAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	tk := newAlignedTicker(20 * time.Millisecond)
	for range 3 {
		select {
		case <-tk.C():
		case <-time.After(tickWait):
			t.Fatal("no tick")
		}
	}
	tk.Stop()
	tk.Stop() // idempotent
	deadline := time.Now().Add(tickWait)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Stop, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}
