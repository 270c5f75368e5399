package speaker

import (
	"reflect"
	"sync"
	"testing"
)

const (
	quiet = 5  // background noise: sets a speaker's floor to 5, so speech counts from 15
	loud  = 90 // immediate 9, above MEDIUM_THRESHOLD
	ms    = int64(1e6)
)

// script gives a speaker's level at time t (ms), or -1 for "no packet".
type script func(t int64) int

// span is loud in [from, to) and quiet otherwise; packets never stop.
func span(from, to int64) script {
	return func(t int64) int {
		if t >= from && t < to {
			return loud
		}
		return quiet
	}
}

// stopAt sends no packets from t = end on (a muted client).
func stopAt(s script, end int64) script {
	return func(t int64) int {
		if t >= end {
			return -1
		}
		return s(t)
	}
}

// event is one Decide result that changed something.
type event struct {
	at       int64
	dominant string
	silence  bool
}

// simulate sends one packet per speaker every 20 ms on [0, until] and runs Decide every
// 300 ms (after that instant's packets). It returns the changes in order.
func simulate(t *testing.T, id *Identifier, speakers []string, scripts map[string]script, until int64) []event {
	t.Helper()
	handles := make([]*Speaker, len(speakers))
	for i, ep := range speakers {
		handles[i] = id.Add(ep)
	}
	var events []event
	for now := int64(0); now <= until; now += 20 {
		for i, ep := range speakers {
			if l := scripts[ep](now); l >= 0 {
				handles[i].Level(l, now*ms)
			}
		}
		if now > 0 && now%300 == 0 {
			if d := id.Decide(now * ms); d.Changed {
				events = append(events, event{now, d.Dominant, d.Silence})
			}
		}
	}
	return events
}

func TestDecideScenarios(t *testing.T) {
	tests := []struct {
		name     string
		speakers []string // Add order: the first active one is nominated when nobody dominates
		scripts  map[string]script
		until    int64
		want     []event
	}{
		{
			name:     "a lone speaker dominates at the first decision",
			speakers: []string{"a"},
			scripts:  map[string]script{"a": span(0, 0)},
			until:    3000,
			want:     []event{{300, "a", false}},
		},
		{
			// b is nominated at 300 (nobody dominates yet) and a, loud since 100 ms, challenges
			// it at once: b is quiet, so all three relative activities favour a.
			name:     "the nominee is challenged in the same round",
			speakers: []string{"b", "a"},
			scripts:  map[string]script{"a": span(100, 5000), "b": span(0, 0)},
			until:    3000,
			want:     []event{{300, "a", false}},
		},
		{
			// JVB's noise floor starts at the first non-zero level: a speaker whose first
			// packets are already loud treats that loudness as its background noise until a
			// quieter level arrives, so it cannot challenge anyone.
			name:     "loud from the first packet is taken as the noise floor",
			speakers: []string{"b", "a"},
			scripts:  map[string]script{"a": span(0, 5000), "b": span(0, 0)},
			until:    3000,
			want:     []event{{300, "b", false}},
		},
		{
			// b talks for 2 s while a keeps talking: both newest immediates are 9, c1 = 0.
			name:     "no takeover while the dominant speaker keeps talking",
			speakers: []string{"a", "b"},
			scripts:  map[string]script{"a": span(500, 6000), "b": span(2000, 4000)},
			until:    6000,
			want:     []event{{300, "a", false}},
		},
		{
			// a stops at 3000 as b starts. At 3300 b has 16 loud levels (long 3) against a's
			// 34 remaining loud ones (long 6); at 3600 b has 31 (long 6) against 19 (long 3).
			name:     "a challenger takes over after sustained speech",
			speakers: []string{"a", "b"},
			scripts:  map[string]script{"a": span(500, 3000), "b": span(3000, 6000)},
			until:    6000,
			want:     []event{{300, "a", false}, {3600, "b", false}},
		},
		{
			// b's 300 ms burst right after a stops: at 3300 its long (3) is below a's (6),
			// and from then on b's newest immediate is silent, so c1 fails.
			name:     "a short burst after the dominant stops does not switch",
			speakers: []string{"a", "b"},
			scripts:  map[string]script{"a": span(500, 3000), "b": span(3000, 3301)},
			until:    6000,
			want:     []event{{300, "a", false}},
		},
		{
			// JVB's rule as it is: once the dominant speaker's whole 50-level history is quiet,
			// 100 ms of loud speech that covers a decision instant is enough (one full medium).
			name:     "a short burst switches when the dominant has long been silent",
			speakers: []string{"a", "b"},
			scripts:  map[string]script{"a": span(500, 1500), "b": span(4100, 4201)},
			until:    6000,
			want:     []event{{300, "a", false}, {4200, "b", false}},
		},
		{
			name:     "everyone silent keeps the last dominant speaker",
			speakers: []string{"a", "b"},
			scripts: map[string]script{
				"a": stopAt(span(500, 2000), 2000),
				"b": stopAt(span(0, 0), 2000),
			},
			until: 9000,
			want:  []event{{300, "a", false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := simulate(t, New(Config{}), tt.speakers, tt.scripts, tt.until)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("changes\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestSilenceDetection: with detection on, a's long score reaches the floor once 46 idle
// zeros have pushed its last full loud block out of the history. Its last packet is at
// 1980 ms, and g/40 − 1 ≥ 46 zeros needs g ≥ 1880 ms, so the first decision at the floor is at
// 3900 ms; silence is declared at the first decision more than 3 s later, 7200 ms. It ends
// when the long score leaves the floor, which takes one full loud medium: not at 9000 ms
// (one loud level) but at 9300 ms.
func TestSilenceDetection(t *testing.T) {
	id := New(Config{SilenceDetection: true})
	a := func(t int64) int {
		switch {
		case t < 500:
			return quiet
		case t < 2000 || t >= 9000:
			return loud
		}
		return -1 // muted: no packets
	}
	got := simulate(t, id, []string{"a"}, map[string]script{"a": a}, 10000)
	want := []event{{300, "a", false}, {7200, "a", true}, {9300, "a", false}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes\n got %v\nwant %v", got, want)
	}
}

func TestRemove(t *testing.T) {
	id := New(Config{})
	a, b, c := id.Add("a"), id.Add("b"), id.Add("c")
	// b dominates first, then a takes over (see the takeover scenario for the timing).
	for now := int64(0); now <= 6000; now += 20 {
		a.Level(span(3500, 7000)(now), now*ms)
		b.Level(span(500, 3500)(now), now*ms)
		c.Level(quiet, now*ms)
		if now > 0 && now%300 == 0 {
			id.Decide(now * ms)
		}
	}
	if d := id.Current(); d.Dominant != "a" || !reflect.DeepEqual(d.Previous, []string{"b"}) || d.Changed {
		t.Fatalf("before removal: %+v", d)
	}
	if id.Remove("c") {
		t.Fatal("removing a speaker that never dominated reported a change")
	}
	if !id.Remove("a") {
		t.Fatal("removing the dominant speaker reported no change")
	}
	if d := id.Current(); !reflect.DeepEqual(d, Decision{Dominant: "b", Previous: []string{}}) {
		t.Fatalf("after removing the dominant: %+v", d)
	}
	a.Level(loud, 6020*ms) // a stale handle is harmless
	if d := id.Decide(6300 * ms); d.Dominant != "b" || d.Changed {
		t.Fatalf("decision after removal: %+v", d)
	}
	if !id.Remove("b") || id.Remove("b") {
		t.Fatal("Remove of the last speaker: want one change, then nothing")
	}
	if d := id.Decide(6600 * ms); !reflect.DeepEqual(d, Decision{Previous: []string{}}) {
		t.Fatalf("empty conference: %+v", d)
	}
}

func TestAddIsIdempotentAndLevelByID(t *testing.T) {
	id := New(Config{})
	s := id.Add("a")
	if id.Add("a") != s {
		t.Fatal("second Add returned a new handle")
	}
	id.Level("a", 60, 0)
	id.Level("unknown", 60, 0)
	id.Level("a", 200, 20*ms) // clamped
	id.Level("a", 70, 10*ms)  // late: ignored
	if d := id.Decide(20 * ms); d.Dominant != "a" || !d.Changed {
		t.Fatalf("decision %+v", d)
	}
	if got := s.h.levels[:3]; !reflect.DeepEqual(got, []uint8{127, 60, 0}) {
		t.Fatalf("history %v, want [127 60 0]", got)
	}
}

// TestIdleZeros: levels stop at 100 ms; a decision at 400 ms pushes (400−100)/40 − 1 = 6
// zeros, one at 500 ms three more, and a packet at 520 ms none (the gap's 9 are already in).
func TestIdleZeros(t *testing.T) {
	id := New(Config{})
	s := id.Add("a")
	for now := int64(0); now <= 100; now += 20 {
		s.Level(50, now*ms)
	}
	id.Decide(400 * ms)
	if want := hist(6, 0, 6, 50); s.h.levels != *want {
		t.Fatalf("after 400 ms: %v, want %v", s.h.levels[:15], want[:15])
	}
	id.Decide(500 * ms)
	s.Level(60, 520*ms)
	id.Decide(520 * ms)
	if want := hist(1, 60, 9, 0, 6, 50); s.h.levels != *want {
		t.Fatalf("after 520 ms: %v, want %v", s.h.levels[:20], want[:20])
	}
}

// TestRingOverrun: 200 levels between two decisions overflow the 64-slot ring; the history
// still holds the newest 50 in order.
func TestRingOverrun(t *testing.T) {
	id := New(Config{})
	s := id.Add("a")
	for i := int64(0); i < 200; i++ {
		s.Level(int(i%100)+1, i*20*ms)
	}
	id.Decide(199 * 20 * ms)
	for k := range historyLength {
		if want := uint8((199-k)%100 + 1); s.h.levels[k] != want {
			t.Fatalf("levels[%d] = %d, want %d", k, s.h.levels[k], want)
		}
	}
}

func TestLevelDoesNotAllocate(t *testing.T) {
	id := New(Config{})
	s := id.Add("a")
	now := int64(0)
	if n := testing.AllocsPerRun(1000, func() { now += 20 * ms; s.Level(64, now) }); n != 0 {
		t.Fatalf("Speaker.Level allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { now += 20 * ms; id.Level("a", 64, now) }); n != 0 {
		t.Fatalf("Identifier.Level allocates %v times", n)
	}
}

// TestConcurrentUse exercises the documented model under -race: one producer goroutine per
// speaker, Decide and Add/Remove from others. It asserts only the final state.
func TestConcurrentUse(t *testing.T) {
	id := New(Config{SilenceDetection: true})
	names := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	for i, name := range names {
		s := id.Add(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int64(0); k < 3000; k++ {
				s.Level(int((k+int64(i)*7)%128), k*20*ms)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := range 200 {
			id.Add("x")
			id.Level("x", 100, int64(k)*ms)
			id.Remove("x")
		}
	}()
	for k := int64(1); k <= 300; k++ {
		id.Decide(k * 300 * ms)
		_ = id.Current()
	}
	wg.Wait()
	d := id.Decide(301 * 300 * ms)
	if d.Dominant == "" || d.Dominant == "x" {
		t.Fatalf("final decision %+v", d)
	}
}

func BenchmarkSpeakerLevel(b *testing.B) {
	s := New(Config{}).Add("a")
	b.ReportAllocs()
	for i := range b.N {
		s.Level(i&127, int64(i)*20*ms)
	}
}

func BenchmarkDecide(b *testing.B) {
	id := New(Config{})
	var hs []*Speaker
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		hs = append(hs, id.Add(n))
	}
	b.ReportAllocs()
	for i := range b.N {
		now := int64(i) * 300 * ms
		for k, h := range hs {
			for p := int64(0); p < 15; p++ {
				h.Level((k*13+int(p))&127, now+p*20*ms)
			}
		}
		id.Decide(now + 300*ms)
	}
}
