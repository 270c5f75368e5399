package control

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// TestOrderingUnderSlowTransports: while one conference's worker is stuck in a slow transport
// factory, ConferenceModify keeps returning, that conference's requests are answered strictly
// in arrival order afterwards, and other conferences are not held up (pitfall 11).
func TestOrderingUnderSlowTransports(t *testing.T) {
	tb := newTestBridge(t, nil)
	gate := make(chan struct{})
	tb.transports.gate = map[string]chan struct{}{"slow": gate}
	tb.transports.entered = make(chan string, 1)
	r := newReplies(t)

	sent := make(chan struct{})
	go func() {
		defer close(sent)
		tb.ConferenceModify(allocate(meeting, true, createEP("slow")), r.fn("1-create-slow"))
		tb.ConferenceModify(allocate(meeting, false, createEP("b")), r.fn("2-create-b"))
		tb.ConferenceModify(update(meeting, colibri2.Endpoint{ID: "slow", Sources: cameraSources("slow", 10)}), r.fn("3-sources-slow"))
		tb.ConferenceModify(update(meeting, colibri2.Endpoint{ID: "b", ForceMute: &colibri2.ForceMute{Audio: true}}), r.fn("4-mute-b"))
		tb.ConferenceModify(update(meeting, expireEP("b")), r.fn("5-expire-b"))
		tb.ConferenceModify(allocate("other", true, createEP("x")), r.fn("other-create"))
	}()
	select {
	case <-sent:
	case <-time.After(waitLimit):
		t.Fatal("ConferenceModify blocked behind a slow transport")
	}
	select {
	case id := <-tb.transports.entered:
		if id != "slow" {
			t.Fatalf("factory entered for %s", id)
		}
	case <-time.After(waitLimit):
		t.Fatal("slow create never reached the factory")
	}
	// The other conference is served while the first one's worker is blocked.
	if rep := r.next(); rep.tag != "other-create" || rep.err != nil {
		t.Fatalf("first reply %+v, want other-create", rep)
	}
	r.none()
	close(gate)
	var order []string
	for range 5 {
		rep := r.next()
		if rep.err != nil {
			t.Fatalf("%s failed: %v", rep.tag, rep.err)
		}
		order = append(order, rep.tag)
	}
	want := []string{"1-create-slow", "2-create-b", "3-sources-slow", "4-mute-b", "5-expire-b"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("reply order %v, want %v", order, want)
	}
	assertEndpoints(t, tb, meeting, "slow")
}

// TestOrderingManyPipelined: a long pipelined burst per conference is answered in order.
func TestOrderingManyPipelined(t *testing.T) {
	tb := newTestBridge(t, nil)
	r := newReplies(t)
	const confs, perConf = 4, 50
	for c := range confs {
		m := fmt.Sprintf("m%d", c)
		tb.ConferenceModify(allocate(m, true, createEP("a")), r.fn(m+"/0"))
		for i := 1; i < perConf; i++ {
			tb.ConferenceModify(update(m, colibri2.Endpoint{ID: "a", ForceMute: &colibri2.ForceMute{Audio: i%2 == 1}}),
				r.fn(fmt.Sprintf("%s/%d", m, i)))
		}
	}
	next := map[string]int{}
	for range confs * perConf {
		rep := r.next()
		var m string
		var i int
		if _, err := fmt.Sscanf(rep.tag, "m%1s/%d", &m, &i); err != nil || rep.err != nil {
			t.Fatalf("reply %+v (%v)", rep, err)
		}
		if next[m] != i {
			t.Fatalf("conference m%s: reply %d before %d", m, i, next[m])
		}
		next[m]++
	}
	// perConf-1 is odd: the last state is muted.
	info, _ := tb.Conference("m0")
	if info.Endpoints[0].ForceMute != (ForceMute{Audio: true}) {
		t.Fatalf("final force-mute %+v", info.Endpoints[0].ForceMute)
	}
}

// TestExpireThenCreatePipelined: Jicofo expires a conference and, without waiting for the
// answer, creates it again (re-invite after a restart request or conference_already_exists).
// The create must start a fresh conference even while the old one's worker has not yet
// processed the expire, and requests behind the expire must not reach the old conference.
func TestExpireThenCreatePipelined(t *testing.T) {
	tb := newTestBridge(t, nil)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	old, _ := tb.Conference(meeting)

	// Hold the old conference's worker so the expire stays queued.
	tb.mu.Lock()
	oldConf := tb.byMeetingID[meeting]
	tb.mu.Unlock()
	gate := make(chan struct{})
	if !tb.submit(oldConf, func() { <-gate }) {
		t.Fatal("conference not live")
	}
	r := newReplies(t)
	tb.ConferenceModify(expireConf(meeting), r.fn("1-expire"))
	tb.ConferenceModify(update(meeting, colibri2.Endpoint{ID: "a", ForceMute: &colibri2.ForceMute{Audio: true}}), r.fn("2-mute-old"))
	tb.ConferenceModify(allocate(meeting, true, createEP("b")), r.fn("3-create"))

	got := map[string]reply{}
	for range 2 {
		rep := r.next()
		got[rep.tag] = rep
	}
	if rep := got["2-mute-old"]; rep.err == nil || *rep.err != *errConferenceNotFound(meeting) {
		t.Fatalf("request behind the expire: %+v, want conference_not_found", rep.err)
	}
	if rep := got["3-create"]; rep.err != nil || len(rep.resp.Endpoints) != 1 || rep.resp.Endpoints[0].Transport == nil {
		t.Fatalf("create behind the expire: resp %+v err %+v", rep.resp, rep.err)
	}
	close(gate)
	if rep := r.next(); rep.tag != "1-expire" || rep.err != nil || !reflect.DeepEqual(rep.resp, &colibri2.ConferenceModified{}) {
		t.Fatalf("expire reply %+v", rep)
	}
	tb.settle(t)
	// The old conference's expiry must not unregister the new one that took its meeting-id.
	info, ok := tb.Conference(meeting)
	if !ok || info.ID == old.ID {
		t.Fatalf("conference after re-create: %+v (found %v), old id %s", info, ok, old.ID)
	}
	assertEndpoints(t, tb, meeting, "b")
	if _, ok := tb.ConferenceByID(old.ID); ok {
		t.Fatal("old conference still registered")
	}
}
