package channel

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/speaker"
	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

const ms = int64(time.Millisecond)

// speak feeds 20 ms audio levels for (from, until] ms, level(ch, t) giving each channel's level
// (-1: no packet), and runs the dominant speaker decision every 300 ms like the hub's ticker.
func speak(t *testing.T, th *testHub, chans []*Channel, from, until int64, level func(c *Channel, t int64) int) {
	t.Helper()
	for now := from + 20; now <= until; now += 20 {
		for _, c := range chans {
			if l := level(c, now); l >= 0 {
				c.Speaker().Level(l, now*ms)
			}
		}
		if now > 0 && now%300 == 0 {
			th.clock.Store(now * ms)
			th.tick(t, speaker.DecisionInterval)
		}
	}
}

// talker is loud on [start, end) and quiet otherwise (the levels of bridge/speaker's tests).
func talker(start, end int64) func(int64) int {
	return func(t int64) int {
		if t >= start && t < end {
			return 90
		}
		return 5
	}
}

func TestResyncOnConnect(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"))
	th := newTestHub(t, conf, Options{})
	a, b := th.add(t, "a", false), th.add(t, "b", false)
	lb := connect(t, b)
	expect(t, lb, &bc.SenderSourceConstraints{SourceName: "b-v0", MaxHeight: 0}, &bc.ForwardedSources{})

	// While a has no transport, everything for it is dropped; its resync makes up for it.
	got := receive(t, b, lb, `{"colibriClass":"ReceiverVideoConstraints","onStageSources":["a-v0"],"constraints":{"a-v0":{"maxHeight":720}}}`)
	if len(got) != 0 {
		t.Fatalf("b got %q", got)
	}
	conf.mu.Lock()
	conf.forwarded["a"] = strs("b-v0")
	conf.mu.Unlock()
	speak(t, th, []*Channel{a}, 0, 300, func(*Channel, int64) int { return 5 })
	expect(t, lb, &bc.DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a", PreviousSpeakers: []string{}})
	th.SetEndpointActive("b", false)
	expect(t, lb, &bc.EndpointConnectivityStatusChangeEvent{Endpoint: "b", Active: false})

	la := connect(t, a)
	expect(t, la,
		&bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 720},
		&bc.ForwardedSources{ForwardedSources: strs("b-v0")},
		&bc.DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a", PreviousSpeakers: []string{}},
		&bc.EndpointConnectivityStatusChangeEvent{Endpoint: "b", Active: false})
	expectNothing(t, th, a, la)
	if s := a.Stats(); s.NotConnected == 0 {
		t.Errorf("messages for the unconnected endpoint were not counted: %+v", s)
	}
}

func TestEndpointMessageRouting(t *testing.T) {
	th := newTestHub(t, newFakeConf(), Options{})
	ids := []string{"a", "b", "c", "v"}
	chans, links := map[string]*Channel{}, map[string]*fakeLink{}
	for _, id := range ids {
		chans[id] = th.add(t, id, id == "v")
		links[id] = connect(t, chans[id])
		expect(t, links[id], &bc.ForwardedSources{})
	}
	payload := `"msgPayload":{"type":"e2e-ping-request","id":1,"nested":{"from":"x"}}`

	// Unicast with a spoofed from: only b gets it, from rewritten, the rest untouched.
	got := receive(t, chans["a"], links["a"], `{"colibriClass":"EndpointMessage","to":"b","from":"mallory",`+payload+`}`)
	if len(got) != 0 {
		t.Fatalf("sender got %q", got)
	}
	expectRaw(t, links["b"], `{"colibriClass":"EndpointMessage","to":"b","from":"a",`+payload+`}`, 0)

	// Broadcast: every other local endpoint, visitors included, gets the bytes with from added.
	receive(t, chans["a"], links["a"], `{"colibriClass":"EndpointMessage","to":"",`+payload+`}`)
	for _, id := range []string{"b", "c", "v"} {
		expectRaw(t, links[id], `{"colibriClass":"EndpointMessage","to":"",`+payload+`,"from":"a"}`, 0)
	}

	// A visitor's messages and unknown targets are dropped.
	receive(t, chans["v"], links["v"], `{"colibriClass":"EndpointMessage","to":"",`+payload+`}`)
	receive(t, chans["c"], links["c"], `{"colibriClass":"EndpointMessage","to":"nobody",`+payload+`}`)
	for _, id := range ids {
		expectNothing(t, th, chans[id], links[id])
	}
	if s := chans["v"].Stats(); s.Ignored != 1 {
		t.Errorf("visitor stats %+v", s)
	}
	if s := chans["c"].Stats(); s.Ignored != 1 {
		t.Errorf("unknown target stats %+v", s)
	}
}

func TestEndpointStatsRelay(t *testing.T) {
	stats := `{"colibriClass":"EndpointStats","from":"spoof","bitrate":{"upload":900},"connectionQuality":100}`
	relayed := `{"colibriClass":"EndpointStats","from":"a","bitrate":{"upload":900},"connectionQuality":100}`
	for _, threshold := range []int{0, 2} { // 0: the default 20, above this conference's size
		t.Run(map[int]string{0: "small conference: everyone", 2: "large conference: filtered"}[threshold], func(t *testing.T) {
			th := newTestHub(t, newFakeConf(cam("a", "a-v0")), Options{StatsFilterThreshold: threshold})
			chans, links := map[string]*Channel{}, map[string]*fakeLink{}
			for _, id := range []string{"a", "b", "c"} {
				chans[id] = th.add(t, id, false)
				links[id] = connect(t, chans[id])
			}
			expect(t, links["a"], &bc.SenderSourceConstraints{SourceName: "a-v0"}, &bc.ForwardedSources{})
			expect(t, links["b"], &bc.ForwardedSources{})
			expect(t, links["c"], &bc.ForwardedSources{})
			// b watches a's camera; c wants nothing from a.
			receive(t, chans["b"], links["b"], `{"colibriClass":"ReceiverVideoConstraints","constraints":{"a-v0":{"maxHeight":360}}}`)
			expectRaw(t, links["a"], string(bc.Marshal(&bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 360})), 0)

			receive(t, chans["a"], links["a"], stats)
			expectRaw(t, links["b"], relayed, 0)
			if threshold == 0 {
				expectRaw(t, links["c"], relayed, 0)
			}
			for _, id := range []string{"a", "b", "c"} {
				expectNothing(t, th, chans[id], links[id])
			}
		})
	}
}

func TestConstraintsAndSenderConstraints(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"), desk("c", "c-v0"))
	th := newTestHub(t, conf, Options{})
	chans, links := map[string]*Channel{}, map[string]*fakeLink{}
	for _, id := range []string{"a", "b", "c"} {
		chans[id] = th.add(t, id, false)
		links[id] = connect(t, chans[id])
		expect(t, links[id], &bc.SenderSourceConstraints{SourceName: id + "-v0"}, &bc.ForwardedSources{})
	}
	if got, want := conf.constraints("a"), (Constraints{Sources: []SourceConstraint{{"b-v0", 0}, {"c-v0", 0}}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("before any message: %+v, want %+v", got, want)
	}

	// a puts c's screenshare on stage at 720 with lastN 1: b's camera is beyond last-N.
	receive(t, chans["a"], links["a"], `{"colibriClass":"ReceiverVideoConstraints","lastN":1,"onStageSources":["c-v0"],`+
		`"defaultConstraints":{"maxHeight":180},"constraints":{"c-v0":{"maxHeight":720}}}`)
	want := Constraints{Sources: []SourceConstraint{{"c-v0", 720}, {"b-v0", 0}}, OnStage: strs("c-v0")}
	if got := conf.constraints("a"); !reflect.DeepEqual(got, want) {
		t.Fatalf("a's constraints %+v, want %+v", got, want)
	}
	expect(t, links["c"], &bc.SenderSourceConstraints{SourceName: "c-v0", MaxHeight: 720})
	expectNothing(t, th, chans["b"], links["b"]) // still 0: unchanged, not resent

	// The legacy LastNChangedEvent raises lastN: b's camera comes in at the default 180.
	receive(t, chans["a"], links["a"], `{"colibriClass":"LastNChangedEvent","lastN":2}`)
	expect(t, links["b"], &bc.SenderSourceConstraints{SourceName: "b-v0", MaxHeight: 180})

	// b asks for everything unlimited: -1 dominates a's 720 for c.
	receive(t, chans["b"], links["b"], `{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":-1}}`)
	expect(t, links["c"], &bc.SenderSourceConstraints{SourceName: "c-v0", MaxHeight: -1})
	expect(t, links["a"], &bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: -1})

	// A new source gets its first SenderSourceConstraints at once.
	conf.mu.Lock()
	conf.sources = append(conf.sources, cam("a", "a-v1"))
	conf.mu.Unlock()
	th.SourcesChanged()
	expect(t, links["a"], &bc.SenderSourceConstraints{SourceName: "a-v1", MaxHeight: -1})
	for _, id := range []string{"a", "b", "c"} {
		expectNothing(t, th, chans[id], links[id])
	}
	n := conf.applyCount("a")
	receive(t, chans["a"], links["a"], `{"colibriClass":"ReceiverVideoConstraints","lastN":2}`) // no change
	if conf.applyCount("a") != n {
		t.Error("unchanged constraints were applied again")
	}
}

func TestInitialLastN(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"), cam("c", "c-v0"))
	th := newTestHub(t, conf, Options{})
	r := th.add(t, "r", false)
	for _, id := range []string{"a", "b", "c"} {
		th.add(t, id, false)
	}
	r.SetInitialLastN(1)
	lr := connect(t, r)
	expect(t, lr, &bc.ForwardedSources{})
	receive(t, r, lr, `{"colibriClass":"ReceiverVideoConstraints","assumedBandwidthBps":-1}`)
	want := []SourceConstraint{{"a-v0", 180}, {"b-v0", 0}, {"c-v0", 0}}
	if got := conf.constraints("r").Sources; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	receive(t, r, lr, `{"colibriClass":"ReceiverVideoConstraints","lastN":-1}`)
	r.SetInitialLastN(1) // the client chose: initial-last-n no longer applies
	th.flush(t)
	want = []SourceConstraint{{"a-v0", 180}, {"b-v0", 180}, {"c-v0", 180}}
	if got := conf.constraints("r").Sources; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestLastNFollowsDominantSpeaker: with lastN 1 a receiver gets only the dominant speaker's
// video, and a speaker change moves it and the sender-side constraints along.
func TestLastNFollowsDominantSpeaker(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"))
	th := newTestHub(t, conf, Options{})
	a, b, r := th.add(t, "a", false), th.add(t, "b", false), th.add(t, "r", false)
	la, lb, lr := connect(t, a), connect(t, b), connect(t, r)
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0"}, &bc.ForwardedSources{})
	expect(t, lb, &bc.SenderSourceConstraints{SourceName: "b-v0"}, &bc.ForwardedSources{})
	expect(t, lr, &bc.ForwardedSources{})
	receive(t, r, lr, `{"colibriClass":"ReceiverVideoConstraints","lastN":1,"defaultConstraints":{"maxHeight":360}}`)
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 360})

	// bridge/speaker's "a challenger takes over after sustained speech": a at 300, b at 3600.
	levels := map[*Channel]func(int64) int{a: talker(500, 3000), b: talker(3000, 6000), r: func(int64) int { return -1 }}
	speak(t, th, []*Channel{a, b, r}, -20, 3300, func(c *Channel, t int64) int { return levels[c](t) })
	for _, l := range []*fakeLink{la, lb, lr} {
		expect(t, l, &bc.DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a", PreviousSpeakers: []string{}})
	}
	speak(t, th, []*Channel{a, b, r}, 3300, 3600, func(c *Channel, t int64) int { return levels[c](t) })
	if got, want := conf.constraints("r").Sources, []SourceConstraint{{"b-v0", 360}, {"a-v0", 0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the change r gets %+v, want %+v", got, want)
	}
	change := &bc.DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "b", PreviousSpeakers: strs("a")}
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 0}, change)
	expect(t, lb, &bc.SenderSourceConstraints{SourceName: "b-v0", MaxHeight: 360}, change)
	expect(t, lr, change)

	// The dominant speaker leaves (with its source): a is dominant again and everyone is told.
	conf.mu.Lock()
	conf.sources = conf.sources[:1]
	conf.mu.Unlock()
	th.RemoveEndpoint("b")
	th.flush(t)
	expect(t, la, &bc.DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a", PreviousSpeakers: []string{}})
	if got := closedWith(t, lb); got != "StatusGoingAway endpoint closed" {
		t.Errorf("b's transport closed with %q", got)
	}
	if got, want := conf.constraints("r").Sources, []SourceConstraint{{"a-v0", 360}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after b left r gets %+v, want %+v", got, want)
	}
	// Three changes reached the Conference. Nobody had a camera on stage (r asked for
	// last-N only), so no keyframe was asked for; after b left, two endpoints remain and
	// nothing is considered.
	if got, want := conf.speakerChanges(), strs("a:suppressed", "b:suppressed", "a:none"); !reflect.DeepEqual(got, want) {
		t.Errorf("DominantSpeakerChanged calls %v, want %v", got, want)
	}
}

// TestPreemptiveKeyframeOnStage: with a camera on someone's stage, a new dominant speaker is
// asked for a keyframe.
func TestPreemptiveKeyframeOnStage(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"))
	th := newTestHub(t, conf, Options{})
	a, b, r := th.add(t, "a", false), th.add(t, "b", false), th.add(t, "r", false)
	lr := connect(t, r)
	receive(t, r, lr, `{"colibriClass":"ReceiverVideoConstraints","onStageSources":["b-v0"]}`)
	levels := map[*Channel]func(int64) int{a: talker(500, 3000), b: talker(3000, 6000), r: func(int64) int { return -1 }}
	speak(t, th, []*Channel{a, b, r}, -20, 3600, func(c *Channel, t int64) int { return levels[c](t) })
	if got, want := conf.speakerChanges(), strs("a:requested", "b:requested"); !reflect.DeepEqual(got, want) {
		t.Errorf("DominantSpeakerChanged calls %v, want %v", got, want)
	}
}

func TestDecidePreemptiveKeyframe(t *testing.T) {
	sources := []Source{{Name: "a-v0", Owner: "a"}, {Name: "b-v0", Owner: "b", Type: bc.VideoTypeCamera},
		{Name: "b-v1", Owner: "b", Type: bc.VideoTypeDesktop}}
	for _, c := range []struct {
		name      string
		endpoints int
		onStage   map[string][]string
		want      PreemptiveKeyframe
	}{
		{"two endpoints", 2, map[string][]string{"r": {"b-v0"}}, KeyframeNotConsidered},
		{"camera on a stage", 3, map[string][]string{"r": {"b-v0"}}, KeyframeRequested},
		{"untyped counts as camera", 3, map[string][]string{"r": {"a-v0"}}, KeyframeRequested},
		{"only the speaker's own stage", 3, map[string][]string{"a": {"b-v0"}}, KeyframeSuppressed},
		{"a screen share on stage", 3, map[string][]string{"r": {"b-v1"}}, KeyframeSuppressed},
		{"an unknown source on stage", 3, map[string][]string{"r": {"x-v0"}}, KeyframeSuppressed},
		{"nothing on stage", 5, map[string][]string{"r": nil, "s": {}}, KeyframeSuppressed},
	} {
		if got := DecidePreemptiveKeyframe("a", c.endpoints, c.onStage, sources); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestForwardedSourcesOnChange(t *testing.T) {
	th := newTestHub(t, newFakeConf(), Options{})
	a := th.add(t, "a", false)
	la := connect(t, a)
	expect(t, la, &bc.ForwardedSources{})
	th.SetForwardedSources("a", strs("b-v0", "c-v0"))
	th.SetForwardedSources("a", strs("c-v0", "b-v0")) // same set
	th.SetForwardedSources("a", strs("c-v0"))
	th.SetForwardedSources("nobody", strs("c-v0"))
	expect(t, la, &bc.ForwardedSources{ForwardedSources: strs("b-v0", "c-v0")},
		&bc.ForwardedSources{ForwardedSources: strs("c-v0")})
	expectNothing(t, th, a, la)
}

func TestConnectivityAndConnectionStats(t *testing.T) {
	conf := newFakeConf()
	conf.bwe["a"] = 2345678
	th := newTestHub(t, conf, Options{})
	a, b := th.add(t, "a", false), th.add(t, "b", false)
	la, lb := connect(t, a), connect(t, b)
	expect(t, la, &bc.ForwardedSources{})
	expect(t, lb, &bc.ForwardedSources{})

	th.SetEndpointActive("b", false)
	th.SetEndpointActive("b", false)
	th.SetEndpointActive("b", true)
	want := []bc.Message{&bc.EndpointConnectivityStatusChangeEvent{Endpoint: "b", Active: false},
		&bc.EndpointConnectivityStatusChangeEvent{Endpoint: "b", Active: true}}
	expect(t, la, want...)
	expect(t, lb, want...)

	th.tick(t, ConnectionStatsInterval)
	expect(t, la, &bc.ConnectionStats{EstimatedDownlinkBandwidth: 2345678})
	expectNothing(t, th, a, la)
	expectNothing(t, th, b, lb) // no estimate yet
	if got := string(bc.Marshal(want[0])); !strings.Contains(got, `"active":"false"`) {
		t.Fatalf("active must be a string: %s", got)
	}
}

func TestVideoTypeAndAudioSubscription(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"))
	th := newTestHub(t, conf, Options{})
	a, r := th.add(t, "a", false), th.add(t, "r", false)
	th.add(t, "b", false)
	la, lr := connect(t, a), connect(t, r)
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0"}, &bc.ForwardedSources{})
	expect(t, lr, &bc.ForwardedSources{})
	receive(t, r, lr, `{"colibriClass":"ReceiverVideoConstraints"}`)

	receive(t, a, la, `{"colibriClass":"SourceVideoTypeMessage","sourceName":"b-v0","videoType":"desktop"}`) // not a's
	receive(t, a, la, `{"colibriClass":"SourceVideoTypeMessage","sourceName":"a-v0","videoType":"none"}`)
	// a's camera turned off: it sorts last and gets 0, so a is told nobody wants it.
	if got, want := conf.constraints("r").Sources, []SourceConstraint{{"b-v0", 180}, {"a-v0", 0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	receive(t, a, la, `{"colibriClass":"VideoTypeMessage","videoType":"camera"}`) // legacy: a-v0
	conf.mu.Lock()
	types := conf.types
	conf.mu.Unlock()
	if want := strs("a/a-v0=NONE", "a/a-v0=CAMERA"); !reflect.DeepEqual(types, want) {
		t.Fatalf("video types %v, want %v", types, want)
	}
	if s := a.Stats(); s.Ignored != 1 {
		t.Errorf("foreign source not counted: %+v", s)
	}

	if _, ok := r.AudioSubscription(); ok {
		t.Fatal("subscription before any message")
	}
	receive(t, r, lr, `{"colibriClass":"ReceiverAudioSubscription","mode":"Exclude","list":["a-a0"]}`)
	want := bc.ReceiverAudioSubscription{All: true, Exclude: strs("a-a0")}
	if got, ok := r.AudioSubscription(); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("subscription %+v %v, want %+v", got, ok, want)
	}
	conf.mu.Lock()
	defer conf.mu.Unlock()
	if got := conf.audio["r"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("conference got %+v", got)
	}
}

func TestMalformedAndUnexpected(t *testing.T) {
	th := newTestHub(t, newFakeConf(), Options{})
	a := th.add(t, "a", false)
	la := connect(t, a)
	expect(t, la, &bc.ForwardedSources{})
	for _, js := range []string{`{`, `[]`, `{"colibriClass":5}`, `{"colibriClass":"LastNChangedEvent"}`, ``} {
		receive(t, a, la, js)
	}
	receive(t, a, la, `{"colibriClass":"ForwardedSources","forwardedSources":[]}`) // bridge-to-client only
	receive(t, a, la, `{"colibriClass":"SomethingNew"}`)
	if s := a.Stats(); s.Malformed != 5 || s.Ignored != 2 || !a.Connected() {
		t.Fatalf("stats %+v connected %v", s, a.Connected())
	}
}

func TestOutgoingTransportSelection(t *testing.T) {
	th := newTestHub(t, newFakeConf(), Options{})
	a := th.add(t, "a", false)
	ws, dc := newFakeLink(), newFakeLink()
	a.attach(ws, true, nil)
	a.attach(dc, false, nil) // connected last: active
	if a.pick() != dc {
		t.Fatal("the transport that connected last is not used")
	}
	a.receive(ws, []byte(`{"colibriClass":"ClientHello"}`))
	expect(t, ws, &bc.ServerHello{}) // the reply goes where data last came from
	a.detach(ws)
	if a.pick() != dc {
		t.Fatal("no fallback to the data channel")
	}
	a.detach(dc)
	ws2 := newFakeLink()
	a.attach(ws2, true, nil)
	a.receive(dc, []byte(`{}`)) // a detached transport does not become active again
	if a.pick() != ws2 {
		t.Fatal("detached transport picked")
	}
	ws3 := newFakeLink()
	a.attach(ws3, true, nil)
	if got := closedWith(t, ws2); got != "StatusNormalClosure replaced" {
		t.Fatalf("replaced socket closed with %q", got)
	}
}

// blockingLink blocks every send until release is closed.
type blockingLink struct {
	*fakeLink
	release chan struct{}
}

func (l *blockingLink) send(b []byte) error {
	<-l.release
	return l.fakeLink.send(b)
}

func TestQueuesAreBounded(t *testing.T) {
	conf := newFakeConf()
	th := newTestHub(t, conf, Options{OutgoingQueue: 2})
	a := th.add(t, "a", false)
	l := &blockingLink{fakeLink: newFakeLink(), release: make(chan struct{})}
	a.attach(l, true, nil)
	for range 10 {
		a.enqueue([]byte(`{"colibriClass":"X"}`))
	}
	// The writer holds at most one message, the queue two: at least 7 dropped.
	if d := a.Stats().DroppedOutgoing; d < 7 || d > 8 {
		t.Fatalf("dropped %d outgoing", d)
	}
	close(l.release)

	// Hold the hub in a Conference call: a's reader waits on it, and the incoming queue fills.
	conf.mu.Lock()
	conf.gate = make(chan struct{})
	conf.mu.Unlock()
	th.SourcesChanged()
	for range IncomingQueue + 12 {
		a.receive(l, []byte(`{"colibriClass":"LastNChangedEvent","lastN":3}`))
	}
	conf.mu.Lock()
	close(conf.gate)
	conf.gate = nil
	conf.mu.Unlock()
	if d := a.Stats().DroppedIncoming; d < 11 || d > 12 {
		t.Fatalf("dropped %d incoming", d)
	}
	th.flush(t)
	if !a.Connected() {
		t.Fatal("channel lost")
	}
}

func TestHubLifecycle(t *testing.T) {
	th := newTestHub(t, newFakeConf(), Options{})
	a := th.add(t, "a", false)
	if _, err := th.AddEndpoint("a", false); err == nil {
		t.Fatal("duplicate endpoint accepted")
	}
	if c, ok := th.Channel("a"); !ok || c != a {
		t.Fatal("lookup failed")
	}
	th.RemoveEndpoint("a")
	th.RemoveEndpoint("a")
	if _, ok := th.Channel("a"); ok {
		t.Fatal("removed endpoint still found")
	}
	if a.attach(newFakeLink(), true, nil) {
		t.Fatal("a closed channel accepted a transport")
	}
	// Re-added at once under the same id: a fresh channel whose speaker still counts.
	a2 := th.add(t, "a", false)
	la := connect(t, a2)
	expect(t, la, &bc.ForwardedSources{})
	speak(t, th, []*Channel{a2}, 0, 300, func(*Channel, int64) int { return 5 })
	expect(t, la, &bc.DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a", PreviousSpeakers: []string{}})
	th.Close()
	if _, err := th.AddEndpoint("b", false); err == nil {
		t.Fatal("closed hub accepted an endpoint")
	}
}

// TestSpeakerChangesOnRemoval: removing a previous speaker changes nobody's dominance and is
// not reported; removing the dominant speaker is, with the decision for the one left
// dominant.
func TestSpeakerChangesOnRemoval(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"), cam("c", "c-v0"))
	th := newTestHub(t, conf, Options{})
	a, b, c := th.add(t, "a", false), th.add(t, "b", false), th.add(t, "c", false)
	th.add(t, "r", false)
	levels := map[*Channel]func(int64) int{a: talker(500, 3000), b: talker(3000, 6000), c: talker(6000, 9000)}
	speak(t, th, []*Channel{a, b, c}, -20, 9600, func(ch *Channel, t int64) int { return levels[ch](t) })
	want := strs("a:suppressed", "b:suppressed", "c:suppressed")
	if got := conf.speakerChanges(); !reflect.DeepEqual(got, want) {
		t.Fatalf("DominantSpeakerChanged calls %v, want %v", got, want)
	}
	th.RemoveEndpoint("a") // a previous speaker: c still dominates
	th.flush(t)
	if got := conf.speakerChanges(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a previous speaker left: %v, want %v", got, want)
	}
	th.RemoveEndpoint("c") // the dominant speaker: b, the previous one, takes over
	th.flush(t)
	if got, want := conf.speakerChanges(), append(want, "b:none"); !reflect.DeepEqual(got, want) {
		t.Errorf("after the dominant speaker left: %v, want %v", got, want)
	}
}

// TestSourcelessJoinAndLeave: an endpoint without sources joining or leaving changes no other
// receiver's constraints (none is applied again), gets its own, and its leaving still lowers the
// sender's aggregate when it was the one asking for the most.
func TestSourcelessJoinAndLeave(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"))
	th := newTestHub(t, conf, Options{})
	a, r1 := th.add(t, "a", false), th.add(t, "r1", false)
	la, l1 := connect(t, a), connect(t, r1)
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0"}, &bc.ForwardedSources{})
	expect(t, l1, &bc.ForwardedSources{})
	receive(t, r1, l1, `{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":720}}`)
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 720})

	applied := conf.applyCount("r1")
	r2 := th.add(t, "r2", false)
	l2 := connect(t, r2)
	expect(t, l2, &bc.ForwardedSources{})
	if got := conf.applyCount("r1"); got != applied {
		t.Errorf("r2 joining re-applied r1's constraints (%d → %d)", applied, got)
	}
	if got, want := conf.constraints("r2").Sources, []SourceConstraint{{"a-v0", 0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("r2's constraints %+v, want %+v", got, want)
	}
	receive(t, r2, l2, `{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":180}}`)
	expectNothing(t, th, a, la) // 720 still wanted

	th.RemoveEndpoint("r1")
	th.flush(t)
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 180})

	// Equivalence: after these partial recomputes a full one finds nothing to apply or send.
	before := map[string]int{"a": conf.applyCount("a"), "r2": conf.applyCount("r2")}
	th.post(th.recompute)
	th.flush(t)
	for id, n := range before {
		if got := conf.applyCount(id); got != n {
			t.Errorf("a full recompute re-applied %s's constraints (%d → %d)", id, n, got)
		}
	}
	expectNothing(t, th, a, la)

	// Sources changed since the last recompute (no SourcesChanged yet): a sourceless join
	// recomputes everyone.
	conf.mu.Lock()
	conf.sources = append(conf.sources, cam("a", "a-v1"))
	conf.mu.Unlock()
	n := conf.applyCount("r2")
	th.add(t, "r3", false)
	if conf.applyCount("r2") == n {
		t.Error("r2's constraints were not recomputed with a's new source")
	}
}
