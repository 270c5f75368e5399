package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cityjitsi/videobridge/bridge/channel"
	"github.com/cityjitsi/videobridge/bridge/media"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

// channelBridge is a Videobridge on the real media plane (over fake transports) with the
// colibri-ws handler served on a loopback test server, as cmd/videobridge mounts it.
type channelBridge struct {
	*testBridge
	mt *MediaTransports
}

func newChannelBridge(t *testing.T) *channelBridge {
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	plane := media.NewPlane(nil, nil, nil, media.Options{
		Transports: func(ice.Credentials, endpoint.Handler) (media.Transport, error) { return &mediaFake{}, nil },
	})
	t.Cleanup(plane.Close)
	cb := &channelBridge{mt: &MediaTransports{Plane: plane, Certificate: cert, Candidates: testCandidates}}
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cb.testBridge = newTestBridge(t, func(o *Options) {
		o.Transports = cb.mt
		o.WebSockets = WebSocketOptions{Enabled: true, ServerID: "s1", Domains: []string{strings.TrimPrefix(srv.URL, "http://")}}
	})
	handler = channel.NewWebSocketHandler(channel.WebSocketConfig{ServerID: "s1",
		Password: cb.WebSocketPassword, Channel: cb.mt.Channel})
	return cb
}

// wsClient reads one colibri-ws connection.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan map[string]any
	done chan websocket.StatusCode
}

func dialChannel(t *testing.T, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	w := &wsClient{t: t, c: c, msgs: make(chan map[string]any, 64), done: make(chan websocket.StatusCode, 1)}
	t.Cleanup(func() { _ = c.CloseNow() })
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				w.done <- websocket.CloseStatus(err)
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				w.msgs <- m
			}
		}
	}()
	return w
}

// next returns the next message, which must be of the given class; fields it names must match.
func (w *wsClient) next(class string, fields map[string]any) map[string]any {
	w.t.Helper()
	select {
	case m := <-w.msgs:
		if m["colibriClass"] != class {
			w.t.Fatalf("got %v, want a %s", m, class)
		}
		for k, v := range fields {
			if got, _ := json.Marshal(m[k]); string(got) != mustJSON(w.t, v) {
				w.t.Fatalf("%s.%s = %s, want %s (%v)", class, k, got, mustJSON(w.t, v), m)
			}
		}
		return m
	case <-timeAfter():
		w.t.Fatalf("no %s", class)
	}
	return nil
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBridgeChannelWiring drives the bridge channel through the control plane: the Hub's
// view of sources follows colibri2 (and SourceVideoTypeMessage until colibri2 changes the
// type), initial-last-n applies until the client sets lastN, EndpointMessage is routed with
// `from` overwritten, expiry closes the socket with 1001 and the conference's Hub goes with it.
func TestBridgeChannelWiring(t *testing.T) {
	cb := newChannelBridge(t)
	resA := mustDo(t, cb.Videobridge, allocate(meeting, true, createEP("a")))
	epB := createEP("b")
	zero := 0
	epB.InitialLastN = &zero
	mustDo(t, cb.Videobridge, allocate(meeting, false, epB))
	srcA := createEP("a")
	srcA.Create, srcA.Media, srcA.Capabilities, srcA.Transport = false, nil, nil, nil
	srcA.Sources = cameraSources("a", 1000)
	mustDo(t, cb.Videobridge, update(meeting, srcA))
	info, _ := cb.Conference(meeting)

	a := dialChannel(t, resA.Endpoints[0].Transport.ICE.WebSockets[0].URL)
	a.next("ServerHello", nil)
	a.next("SenderSourceConstraints", map[string]any{"sourceName": "a-v0", "maxHeight": 0})
	a.next("ForwardedSources", map[string]any{"forwardedSources": []string{}})

	deliver := func(ep, msg string) {
		t.Helper()
		if err := cb.mt.Deliver(info.ID, ep, []byte(msg)); err != nil {
			t.Fatalf("deliver to %s: %v", ep, err)
		}
	}
	// b's initial-last-n 0 holds against constraints without lastN: a is still told 0. The
	// probe message shows nothing was queued for a before it.
	deliver("b", `{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":180}}`)
	deliver("b", `{"colibriClass":"EndpointMessage","to":"a","from":"forged","msgPayload":{"probe":1}}`)
	a.next("EndpointMessage", map[string]any{"from": "b", "to": "a", "msgPayload": map[string]int{"probe": 1}})
	deliver("b", `{"colibriClass":"ReceiverVideoConstraints","lastN":-1}`)
	a.next("SenderSourceConstraints", map[string]any{"sourceName": "a-v0", "maxHeight": 180})

	// a disables its source on the bridge channel; a colibri2 type change then wins.
	deliver("a", `{"colibriClass":"SourceVideoTypeMessage","sourceName":"a-v0","videoType":"DISABLED"}`)
	a.next("SenderSourceConstraints", map[string]any{"sourceName": "a-v0", "maxHeight": 0})
	srcA.Sources = cameraSources("a", 1000)
	srcA.Sources.MediaSources[1].Sources[0].VideoType = "desktop"
	mustDo(t, cb.Videobridge, update(meeting, srcA))
	a.next("SenderSourceConstraints", map[string]any{"sourceName": "a-v0", "maxHeight": 180})

	for _, tc := range []struct {
		conf, ep, msg string
		noChannel     bool
	}{
		{info.ID, "zz", `{"colibriClass":"ClientHello"}`, true},
		{"nope", "a", `{"colibriClass":"ClientHello"}`, true},
		{info.ID, "a", `not json`, false},
	} {
		err := cb.mt.Deliver(tc.conf, tc.ep, []byte(tc.msg))
		if err == nil || errors.Is(err, ErrNoChannel) != tc.noChannel {
			t.Errorf("Deliver(%q, %q, %q) = %v, no-channel %v", tc.conf, tc.ep, tc.msg, err, tc.noChannel)
		}
	}

	mustDo(t, cb.Videobridge, update(meeting, expireEP("a")))
	select {
	case code := <-a.done:
		if code != websocket.StatusGoingAway {
			t.Errorf("expired endpoint's socket closed with %d, want 1001", code)
		}
	case <-timeAfter():
		t.Fatal("expired endpoint's socket not closed")
	}
	if _, ok := cb.mt.Channel(info.ID, "b"); !ok {
		t.Fatal("b lost its channel when a expired")
	}
	mustDo(t, cb.Videobridge, expireConf(meeting))
	if _, ok := cb.mt.Channel(info.ID, "b"); ok || cb.mt.channelConference(info.ID, false) != nil {
		t.Error("bridge-channel state outlives the conference")
	}
}

func timeAfter() <-chan time.Time { return time.After(waitLimit) }

// TestDominantSpeakerChanges: the Hub's dominant speaker changes are counted in the stats, and
// a pre-emptive keyframe request reaches the new speaker after the RTT-based delay, through
// MediaTransports.AfterFunc.
func TestDominantSpeakerChanges(t *testing.T) {
	cb := newChannelBridge(t)
	type timer struct {
		d time.Duration
		f func()
	}
	timers := make(chan timer, 4)
	cb.mt.AfterFunc = func(d time.Duration, f func()) { timers <- timer{d, f} }
	mustDo(t, cb.Videobridge, allocate(meeting, true, createEP("a")))
	mustDo(t, cb.Videobridge, allocate(meeting, false, createEP("b")))
	srcA := createEP("a")
	srcA.Create, srcA.Media, srcA.Capabilities, srcA.Transport = false, nil, nil, nil
	srcA.Sources = cameraSources("a", 1000)
	mustDo(t, cb.Videobridge, update(meeting, srcA))
	info, _ := cb.Conference(meeting)
	cc := cb.mt.channelConference(info.ID, false)
	epA := cc.endpoint("a")

	cc.DominantSpeakerChanged("b", channel.KeyframeNotConsidered)
	cc.DominantSpeakerChanged("b", channel.KeyframeSuppressed)
	cc.DominantSpeakerChanged("a", channel.KeyframeRequested)
	stats := cb.Stats()
	for name, want := range map[string]int64{"total_dominant_speaker_changes": 3, "preemptive_kfr_sent": 1,
		"preemptive_kfr_suppressed": 1} {
		if got := statValue(stats, name); got != want {
			t.Errorf("%s = %v, want %d", name, got, want)
		}
	}
	var tm timer
	select {
	case tm = <-timers:
	default:
		t.Fatal("no keyframe request scheduled")
	}
	if tm.d != 10*time.Millisecond {
		t.Errorf("delay %v with no RTT known, want 10ms", tm.d)
	}
	if got := epA.Stats().KeyframeRequests; got != 0 {
		t.Fatalf("%d keyframe requests before the delay", got)
	}
	tm.f()
	deadline := time.Now().Add(waitLimit)
	for epA.Stats().KeyframeRequests != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("keyframe requests written to a: %d, want 1", epA.Stats().KeyframeRequests)
		}
		time.Sleep(time.Millisecond)
	}
}
