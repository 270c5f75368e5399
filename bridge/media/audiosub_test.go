package media

import (
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

func TestAudioSubscriptionAllows(t *testing.T) {
	set := func(all bool, include, exclude []string) *audioSubscription {
		return &audioSubscription{all: all, include: nameSet(include), exclude: nameSet(exclude)}
	}
	tests := []struct {
		name      string
		sub       *audioSubscription
		source    string
		synthetic bool
		want      bool
	}{
		{"none: regular", nil, "a-a0", false, true},
		{"none: synthetic", nil, "x-a0", true, false},
		{"all", set(true, nil, nil), "a-a0", false, true},
		{"all: synthetic not included", set(true, nil, nil), "x-a0", true, false},
		{"all: synthetic included", set(true, []string{"x-a0"}, nil), "x-a0", true, true},
		{"all: excluded", set(true, nil, []string{"a-a0"}), "a-a0", false, false},
		{"exclude wins over include", set(true, []string{"a-a0"}, []string{"a-a0"}), "a-a0", false, false},
		{"exclude wins for synthetic", set(false, []string{"x-a0"}, []string{"x-a0"}), "x-a0", true, false},
		{"include-only: included", set(false, []string{"a-a0"}, nil), "a-a0", false, true},
		{"include-only: other", set(false, []string{"a-a0"}, nil), "b-a0", false, false},
		{"none mode", set(false, nil, nil), "a-a0", false, false},
	}
	for _, tt := range tests {
		if got := tt.sub.allows(tt.source, tt.synthetic); got != tt.want {
			t.Errorf("%s: allows(%q, %v) = %v, want %v", tt.name, tt.source, tt.synthetic, got, tt.want)
		}
	}
}

// TestAudioSubscriptionRouting: one packet from each of a and b reaches receivers by their
// ReceiverAudioSubscription; what a subscription keeps out is counted on the receiver.
func TestAudioSubscriptionRouting(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, false))
	b := f.add(jicofoEndpoint("b", 2000, false))
	f.add(jicofoEndpoint("c", 3000, false))      // no subscription: all audio
	d := f.add(jicofoEndpoint("d", 4000, false)) // all but b
	e := f.add(jicofoEndpoint("e", 5000, false)) // only a
	g := f.add(jicofoEndpoint("g", 6000, false)) // none
	d.SetAudioSubscription(true, nil, []string{"b-a0"})
	e.SetAudioSubscription(false, []string{"a-a0", "nobody-a0"}, nil)
	g.SetAudioSubscription(false, nil, nil)
	a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: 1, ts: 960, exts: []rtp.Ext{{ID: 1, Data: []byte{0x80 | 20}}},
		payload: []byte("opus")}.bytes())
	b.OnRTP(rtpPkt{ssrc: 2000, pt: 111, seq: 1, ts: 960, exts: []rtp.Ext{{ID: 1, Data: []byte{0x80 | 20}}},
		payload: []byte("opus")}.bytes())
	f.drain()
	got := map[string][]uint32{}
	dropped := map[string]uint64{}
	for _, id := range []string{"a", "b", "c", "d", "e", "g"} {
		out, _ := f.trs[id].take()
		for _, p := range out {
			got[id] = append(got[id], parseOut(t, p).ssrc)
		}
		dropped[id] = f.eps[id].Stats().IngressDrops[DropAudioNotSubscribed]
	}
	want := map[string][]uint32{"a": {2000}, "b": {1000}, "c": {1000, 2000}, "d": {1000}, "e": {1000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	wantDropped := map[string]uint64{"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "g": 2}
	if !reflect.DeepEqual(dropped, wantDropped) {
		t.Errorf("audio_not_subscribed %v, want %v", dropped, wantDropped)
	}

	// A new subscription replaces the old one: g back to all audio.
	g.SetAudioSubscription(true, nil, nil)
	a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: 2, ts: 1920, payload: []byte("opus")}.bytes())
	f.drain()
	if out, _ := f.trs["g"].take(); len(out) != 1 {
		t.Errorf("g got %d packets after subscribing to all, want 1", len(out))
	}
}
