package media

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/speaker"
)

// TestForwardedSourcesFollowTargets: the forwarded set is the video sources whose target
// layer is not suspended; it is published (and OnForwardedSources called) only on changes,
// including a source leaving the conference.
func TestForwardedSourcesFollowTargets(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	c := f.add(jicofoEndpoint("c", 3000, false))
	var mu sync.Mutex
	var calls [][]string
	c.SetHooks(Hooks{OnForwardedSources: func(s []string) {
		mu.Lock()
		calls = append(calls, s)
		mu.Unlock()
	}})
	sa, sb := simulcastSender{base: 1000}, simulcastSender{base: 2000}
	frame := func() {
		for _, p := range sa.next(true) {
			a.OnRTP(p)
		}
		for _, p := range sb.next(true) {
			b.OnRTP(p)
		}
		f.advance(33 * time.Millisecond)
		f.drain()
	}
	frame() // no constraints yet: nothing forwarded, nothing reported
	if got := c.ForwardedSources(); len(got) != 0 {
		t.Fatalf("forwarded before constraints: %v", got)
	}
	steps := []struct {
		cons map[string]int
		want []string
	}{
		{map[string]int{"a-v0": 180}, []string{"a-v0"}},
		{map[string]int{"a-v0": 180, "b-v0": 720}, []string{"a-v0", "b-v0"}},
		{map[string]int{"a-v0": 360, "b-v0": 720}, []string{"a-v0", "b-v0"}}, // same set: no call
		{map[string]int{"b-v0": -1}, []string{"b-v0"}},
	}
	for _, s := range steps {
		c.SetConstraints(0, s.cons)
		frame()
		if got := c.ForwardedSources(); !reflect.DeepEqual(got, s.want) {
			t.Errorf("constraints %v: forwarded %v, want %v", s.cons, got, s.want)
		}
	}
	// b leaves: its sender goes at the next snapshot, and so does its source.
	f.cfg = f.cfg[:1:1]
	f.cfg = append(f.cfg, jicofoEndpoint("c", 3000, false))
	f.publish()
	frame()
	mu.Lock()
	defer mu.Unlock()
	want := [][]string{{"a-v0"}, {"a-v0", "b-v0"}, {"b-v0"}, {}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("OnForwardedSources calls %v, want %v", calls, want)
	}
}

// TestAudioLevelsFeedSpeaker: the levels of an endpoint's audio reach its Speaker as
// 127 − level on the plane's clock; a packet without the extension feeds nothing.
func TestAudioLevelsFeedSpeaker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hook    bool
		ext     bool
		wantDom string
	}{
		{"hooked", true, true, "a"},
		{"no hook", false, true, ""},
		{"no level extension", true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, true)
			a := f.add(jicofoEndpoint("a", 1000, false))
			f.add(jicofoEndpoint("b", 2000, false))
			ids := speaker.New(speaker.Config{})
			sp := ids.Add("a")
			ids.Add("b")
			if tc.hook {
				a.SetHooks(Hooks{Speaker: sp})
			}
			for i := range 60 {
				p := rtpPkt{ssrc: 1000, pt: 111, seq: uint16(i), ts: uint32(960 * i), payload: []byte("opus")}
				if tc.ext {
					p.exts = []rtp.Ext{{ID: 1, Data: []byte{0x80 | byte(5+i%2*60)}}}
				}
				a.OnRTP(p.bytes())
				f.advance(20 * time.Millisecond)
			}
			if d := ids.Decide(f.p.Now()); d.Dominant != tc.wantDom {
				t.Errorf("dominant %q, want %q", d.Dominant, tc.wantDom)
			}
		})
	}
}

// TestActivityHook applies the connectivity rule (media.md §6): inactive after 15 s without
// anything since creation, active again on activity, inactive after 8 s of silence. Only
// changes are reported.
func TestActivityHook(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, false))
	var got []bool
	a.SetHooks(Hooks{OnActive: func(active bool) { got = append(got, active) }})
	created := a.created
	s := int64(time.Second)
	for _, step := range []struct{ wall, activity int64 }{
		{created + 14*s, 0},
		{created + 15*s, 0},
		{created + 16*s, 0},
		{created + 17*s, created + 17*s},
		{created + 24*s, created + 17*s},
		{created + 25*s, created + 17*s},
		{created + 26*s, created + 26*s},
	} {
		f.trs["a"].activity.Store(step.activity)
		a.checkLiveness(step.wall)
	}
	if want := []bool{false, true, false, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("activity reports %v, want %v", got, want)
	}
}
