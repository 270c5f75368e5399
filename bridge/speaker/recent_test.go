package speaker

import (
	"reflect"
	"testing"
)

func TestRecentSpeakers(t *testing.T) {
	type op struct {
		promote, remove string
		changed         bool
		list            []string
	}
	r := NewRecentSpeakers(2) // capacity 3
	steps := []op{
		{promote: "a", changed: true, list: []string{"a"}},
		{promote: "a", changed: false, list: []string{"a"}},
		{promote: "b", changed: true, list: []string{"b", "a"}},
		{promote: "c", changed: true, list: []string{"c", "b", "a"}},
		{promote: "d", changed: true, list: []string{"d", "c", "b"}}, // a dropped at capacity 3
		{promote: "b", changed: true, list: []string{"b", "d", "c"}},
		{remove: "d", changed: true, list: []string{"b", "c"}},
		{remove: "zz", changed: false, list: []string{"b", "c"}},
	}
	for i, s := range steps {
		var changed bool
		if s.promote != "" {
			changed = r.Promote(s.promote)
		} else {
			changed = r.Remove(s.remove)
		}
		if changed != s.changed || !reflect.DeepEqual(r.List(), s.list) {
			t.Fatalf("step %d (%+v): changed %v, list %v", i, s, changed, r.List())
		}
	}
	if got := r.Front(); got != "b" {
		t.Fatalf("Front = %q", got)
	}
	if got := r.Previous("b"); !reflect.DeepEqual(got, []string{"c"}) {
		t.Fatalf("Previous(b) = %v", got)
	}
	if got := r.Previous("x"); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Fatalf("Previous(x) = %v", got)
	}
}

// TestPreviousSpeakersCap: with the default count, the message lists at most 10 previous
// speakers, most recent first, and never the dominant one.
func TestPreviousSpeakersCap(t *testing.T) {
	r := NewRecentSpeakers(DefaultRecentSpeakersCount)
	ids := []string{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12"}
	for _, id := range ids {
		r.Promote(id)
	}
	if got := len(r.List()); got != DefaultRecentSpeakersCount+1 {
		t.Fatalf("list holds %d, want %d", got, DefaultRecentSpeakersCount+1)
	}
	want := []string{"e11", "e10", "e9", "e8", "e7", "e6", "e5", "e4", "e3", "e2"}
	if got := r.Previous("e12"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Previous = %v, want %v", got, want)
	}
}
