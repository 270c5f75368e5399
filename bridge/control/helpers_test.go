package control

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// waitLimit guards against hangs; no test relies on timing to pass.
const waitLimit = 5 * time.Second

// ---- fake clock and timers ----

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 8, 20, 12, 34, 56, 789_000_000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
	fired   bool
}

type fakeTimers struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

func (ft *fakeTimers) AfterFunc(d time.Duration, f func()) func() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{d: d, f: f}
	ft.timers = append(ft.timers, t)
	return func() bool {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		was := !t.stopped && !t.fired
		t.stopped = true
		return was
	}
}

// fire runs every pending timer of duration d, as if that much time had passed. It returns how
// many fired.
func (ft *fakeTimers) fire(d time.Duration) int {
	ft.mu.Lock()
	var due []*fakeTimer
	for _, t := range ft.timers {
		if t.d == d && !t.stopped && !t.fired {
			t.fired = true
			due = append(due, t)
		}
	}
	ft.mu.Unlock()
	for _, t := range due {
		t.f()
	}
	return len(due)
}

func (ft *fakeTimers) pending(d time.Duration) int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n := 0
	for _, t := range ft.timers {
		if t.d == d && !t.stopped && !t.fired {
			n++
		}
	}
	return n
}

// ---- fake transports ----

var testCandidates = []ice.Candidate{{
	Foundation: "1", Component: 1, Priority: 2130706431, Type: ice.TypeHost,
	Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, ID: "c1",
}}

type fakeTransport struct {
	confID, epID string
	opts         EndpointTransportOptions
	local        LocalTransport

	mu      sync.Mutex
	remotes []RemoteTransport
	closed  bool
}

func (t *fakeTransport) Local() LocalTransport { return t.local }

func (t *fakeTransport) SetRemote(r RemoteTransport) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remotes = append(t.remotes, r)
	return nil
}

func (t *fakeTransport) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

func (t *fakeTransport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// fakeTransports creates deterministic transports; gate, when set, blocks creation of the named
// endpoints until the channel is closed (a slow data plane).
type fakeTransports struct {
	mu      sync.Mutex
	created []*fakeTransport
	gate    map[string]chan struct{}
	entered chan string // receives an endpoint id when its creation starts waiting at the gate
	fail    error
}

func (f *fakeTransports) NewEndpointTransport(confID, epID string, opts EndpointTransportOptions) (EndpointTransport, error) {
	f.mu.Lock()
	g, fail := f.gate[epID], f.fail
	f.mu.Unlock()
	if g != nil {
		if f.entered != nil {
			f.entered <- epID
		}
		<-g
	}
	if fail != nil {
		return nil, fail
	}
	t := &fakeTransport{confID: confID, epID: epID, opts: opts, local: LocalTransport{
		Ufrag: "ufrag-" + epID, Pwd: "pwd-" + epID + "-0123456789abcdef",
		Fingerprint: Fingerprint{Hash: "sha-256", Value: "AA:BB"}, Candidates: testCandidates,
	}}
	f.mu.Lock()
	f.created = append(f.created, t)
	f.mu.Unlock()
	return t, nil
}

func (f *fakeTransports) transport(epID string) *fakeTransport {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.created) - 1; i >= 0; i-- {
		if f.created[i].epID == epID {
			return f.created[i]
		}
	}
	return nil
}

// ---- replies ----

type reply struct {
	tag  string
	resp *colibri2.ConferenceModified
	err  *colibri2.Error
}

type replies struct {
	t  testing.TB
	ch chan reply
}

func newReplies(t testing.TB) *replies { return &replies{t: t, ch: make(chan reply, 1024)} }

func (r *replies) fn(tag string) func(*colibri2.ConferenceModified, error) {
	return func(resp *colibri2.ConferenceModified, err error) {
		var ce *colibri2.Error
		if err != nil && !errors.As(err, &ce) {
			ce = &colibri2.Error{Condition: "not-a-colibri2-error", Text: err.Error()}
		}
		if (resp == nil) == (err == nil) {
			r.t.Errorf("%s: reply with resp=%v err=%v", tag, resp, err)
		}
		r.ch <- reply{tag: tag, resp: resp, err: ce}
	}
}

func (r *replies) next() reply {
	r.t.Helper()
	select {
	case rep := <-r.ch:
		return rep
	case <-time.After(waitLimit):
		r.t.Fatalf("no reply within %v", waitLimit)
		return reply{}
	}
}

func (r *replies) none() {
	r.t.Helper()
	select {
	case rep := <-r.ch:
		r.t.Fatalf("unexpected reply %+v", rep)
	default:
	}
}

// do sends a request and waits for its reply.
func do(t testing.TB, v *Videobridge, req *colibri2.ConferenceModify) (*colibri2.ConferenceModified, *colibri2.Error) {
	t.Helper()
	r := newReplies(t)
	v.ConferenceModify(req, r.fn("do"))
	rep := r.next()
	return rep.resp, rep.err
}

// mustDo sends a request that must succeed.
func mustDo(t testing.TB, v *Videobridge, req *colibri2.ConferenceModify) *colibri2.ConferenceModified {
	t.Helper()
	resp, err := do(t, v, req)
	if err != nil {
		t.Fatalf("request %+v failed: %v", req, err)
	}
	return resp
}

// ---- request builders (Jicofo's shapes, signaling.md §4) ----

const (
	meeting = "beccf2ed-5441-4bfe-96d6-f0f3a6796378"
	room    = "myroom@muc.meet.jitsi"
)

func createEP(id string) colibri2.Endpoint {
	return colibri2.Endpoint{
		ID: id, Create: true, StatsID: "stats-" + id,
		Media: []colibri2.Media{
			{Type: "audio", PayloadTypes: []colibri2.PayloadType{{ID: 111, Name: "opus", ClockRate: 48000, Channels: 2}},
				HeaderExtensions: []colibri2.HeaderExtension{{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"}},
				ExtmapAllowMixed: true},
			{Type: "video", PayloadTypes: []colibri2.PayloadType{{ID: 100, Name: "VP8", ClockRate: 90000}},
				HeaderExtensions: []colibri2.HeaderExtension{{ID: 3, URI: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"}},
				ExtmapAllowMixed: true},
		},
		Transport:    &colibri2.Transport{ICEControlling: true, SCTP: &colibri2.SCTP{}},
		Sources:      &colibri2.Sources{},
		Capabilities: []string{colibri2.CapSourceNames, colibri2.CapSSRCRewriting},
	}
}

func allocate(meetingID string, createConf bool, ep colibri2.Endpoint) *colibri2.ConferenceModify {
	req := &colibri2.ConferenceModify{MeetingID: meetingID, Create: createConf, RTCStatsEnabled: true,
		Endpoints: []colibri2.Endpoint{ep}}
	if createConf {
		req.Name = room
	}
	return req
}

func update(meetingID string, eps ...colibri2.Endpoint) *colibri2.ConferenceModify {
	return &colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true, Endpoints: eps}
}

func expireEP(id string) colibri2.Endpoint { return colibri2.Endpoint{ID: id, Expire: true} }

// clientTransport is a browser's session-accept transport (setup=active).
func clientTransport(ufrag string, fingerprint string) *colibri2.Transport {
	return &colibri2.Transport{ICE: &colibri2.ICEUDPTransport{
		Ufrag: ufrag, Pwd: ufrag + "-password-0123456789", RTCPMux: true,
		Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "active", Fingerprint: fingerprint}},
	}}
}

// cameraSources is a simulcast camera with RTX plus audio (signaling.md §3.6 shape).
func cameraSources(id string, base uint32) *colibri2.Sources {
	v := id + "-v0"
	return &colibri2.Sources{MediaSources: []colibri2.MediaSource{
		{Type: "audio", ID: id + "-a0", Sources: []colibri2.Source{{SSRC: base, Name: id + "-a0"}}},
		{Type: "video", ID: v,
			Sources: []colibri2.Source{{SSRC: base + 1, Name: v, VideoType: "camera"}, {SSRC: base + 2, Name: v},
				{SSRC: base + 3, Name: v}, {SSRC: base + 4, Name: v}, {SSRC: base + 5, Name: v}, {SSRC: base + 6, Name: v}},
			SSRCGroups: []colibri2.SSRCGroup{
				{Semantics: "FID", SSRCs: []uint32{base + 1, base + 2}},
				{Semantics: "SIM", SSRCs: []uint32{base + 1, base + 3, base + 5}},
				{Semantics: "FID", SSRCs: []uint32{base + 3, base + 4}},
				{Semantics: "FID", SSRCs: []uint32{base + 5, base + 6}},
			}},
	}}
}

// testBridge returns a Videobridge on fake clock, timers and transports.
type testBridge struct {
	*Videobridge
	clock      *fakeClock
	timers     *fakeTimers
	transports *fakeTransports
	shutdowns  chan struct{}
}

func newTestBridge(t testing.TB, mod func(*Options)) *testBridge {
	tb := &testBridge{clock: newFakeClock(), timers: &fakeTimers{}, transports: &fakeTransports{},
		shutdowns: make(chan struct{}, 4)}
	opts := Options{
		Version: "2.3.999-test", SCTPEnabled: true, Transports: tb.transports,
		Clock: tb.clock.Now, AfterFunc: tb.timers.AfterFunc,
		OnShutdown: func() { tb.shutdowns <- struct{}{} },
	}
	if mod != nil {
		mod(&opts)
	}
	tb.Videobridge = New(opts)
	t.Cleanup(tb.Close)
	return tb
}

// settle waits until every conference worker has processed what is queued so far, by
// round-tripping a no-op through each.
func (tb *testBridge) settle(t testing.TB) {
	t.Helper()
	tb.mu.Lock()
	confs := make([]*conference, 0, len(tb.byID))
	for _, c := range tb.byID {
		confs = append(confs, c)
	}
	tb.mu.Unlock()
	for _, c := range confs {
		done := make(chan struct{})
		if !tb.submit(c, func() { close(done) }) {
			continue
		}
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Fatalf("conference %s did not settle", c.id)
		}
	}
}

func statValue(stats []Stat, name string) any {
	for _, s := range stats {
		if s.Name == name {
			return s.Value
		}
	}
	return fmt.Sprintf("<missing %s>", name)
}

// expireConf is Jicofo's conference expire.
func expireConf(meetingID string) *colibri2.ConferenceModify {
	return &colibri2.ConferenceModify{MeetingID: meetingID, Expire: true, RTCStatsEnabled: true}
}
