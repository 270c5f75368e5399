package channel

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// testWait bounds every wait in these tests.
const testWait = 10 * time.Second

// fakeConf is a Conference recording what the Hub tells it.
type fakeConf struct {
	mu        sync.Mutex
	sources   []Source
	applied   map[string]Constraints
	applies   map[string]int
	forwarded map[string][]string
	types     []string // "owner/source=TYPE"
	audio     map[string]bc.ReceiverAudioSubscription
	bwe       map[string]int64
	gate      chan struct{} // when set, VideoSources waits for it
	speakers  []string      // DominantSpeakerChanged calls: "endpoint:decision"
}

func newFakeConf(sources ...Source) *fakeConf {
	return &fakeConf{sources: sources, applied: map[string]Constraints{}, applies: map[string]int{},
		forwarded: map[string][]string{}, audio: map[string]bc.ReceiverAudioSubscription{}, bwe: map[string]int64{}}
}

func (f *fakeConf) VideoSources() []Source {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sources)
}

func (f *fakeConf) SetVideoType(owner, source string, t bc.VideoType) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.types = append(f.types, owner+"/"+source+"="+string(t))
	for i := range f.sources {
		if f.sources[i].Name == source {
			f.sources[i].Type = t
		}
	}
}

func (f *fakeConf) ApplyConstraints(receiver string, c Constraints) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied[receiver] = c
	f.applies[receiver]++
}

func (f *fakeConf) ForwardedSources(receiver string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forwarded[receiver]
}

func (f *fakeConf) SetAudioSubscription(receiver string, s bc.ReceiverAudioSubscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audio[receiver] = s
}

func (f *fakeConf) BandwidthEstimate(receiver string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.bwe[receiver]; ok {
		return v
	}
	return -1
}

func (f *fakeConf) DominantSpeakerChanged(endpoint string, kf PreemptiveKeyframe) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.speakers = append(f.speakers, endpoint+":"+[]string{"none", "suppressed", "requested"}[kf])
}

func (f *fakeConf) speakerChanges() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.speakers)
}

func (f *fakeConf) constraints(receiver string) Constraints {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[receiver]
}

func (f *fakeConf) applyCount(receiver string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applies[receiver]
}

// closedWith waits until l is closed and returns "code reason".
func closedWith(t *testing.T, l *fakeLink) string {
	t.Helper()
	select {
	case s := <-l.closed:
		return s
	case <-time.After(testWait):
		t.Fatal("transport not closed")
		return ""
	}
}

// fakeTicker is driven by the test: tick blocks until the hub goroutine takes the tick.
type fakeTicker struct{ c chan time.Time }

func (t *fakeTicker) C() <-chan time.Time { return t.c }
func (t *fakeTicker) Stop()               {}

type testHub struct {
	*Hub
	conf    *fakeConf
	clock   atomic.Int64
	tickers sync.Map // time.Duration → *fakeTicker
}

func newTestHub(t testing.TB, conf *fakeConf, o Options) *testHub {
	t.Helper()
	th := &testHub{conf: conf}
	o.Log = zap.NewNop()
	o.Now = th.clock.Load
	o.NewTicker = func(d time.Duration) Ticker {
		ft := &fakeTicker{c: make(chan time.Time)}
		th.tickers.Store(d, ft)
		return ft
	}
	th.Hub = NewHub(conf, o)
	t.Cleanup(th.Close)
	return th
}

// tick fires the ticker of period d and waits until the hub has acted on it.
func (th *testHub) tick(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(testWait)
	for {
		if v, ok := th.tickers.Load(d); ok {
			select {
			case v.(*fakeTicker).c <- time.Unix(0, th.clock.Load()):
				th.flush(t)
				return
			case <-deadline:
				t.Fatalf("hub did not take the %v tick", d)
			}
		}
		select {
		case <-deadline:
			t.Fatalf("no %v ticker", d)
		case <-time.After(time.Millisecond):
		}
	}
}

// flush waits until every operation queued so far has run.
func (th *testHub) flush(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	th.post(func() { close(done) })
	select {
	case <-done:
	case <-time.After(testWait):
		t.Fatal("hub did not run queued operations")
	}
}

func (th *testHub) add(t *testing.T, id string, visitor bool) *Channel {
	t.Helper()
	c, err := th.AddEndpoint(id, visitor)
	if err != nil {
		t.Fatal(err)
	}
	th.flush(t) // its first SenderSourceConstraints are dropped before it connects
	return c
}

// fakeLink records what a Channel writes to it.
type fakeLink struct {
	msgs   chan []byte
	closed chan string // "code reason"
	once   sync.Once
}

func newFakeLink() *fakeLink {
	return &fakeLink{msgs: make(chan []byte, 1024), closed: make(chan string, 1)}
}

func (l *fakeLink) send(b []byte) error {
	select {
	case l.msgs <- b:
	default:
	}
	return nil
}

func (l *fakeLink) close(code websocket.StatusCode, reason string) {
	l.once.Do(func() { l.closed <- code.String() + " " + reason })
}

// connect attaches a fake transport as a WebSocket would be (without the ServerHello).
func connect(t *testing.T, c *Channel) *fakeLink {
	t.Helper()
	l := newFakeLink()
	if !c.attach(l, true, nil) {
		t.Fatal("attach refused")
	}
	c.connected()
	return l
}

// expect reads the next messages from l and compares them with want, in order.
func expect(t *testing.T, l *fakeLink, want ...bc.Message) {
	t.Helper()
	for i, m := range want {
		expectRaw(t, l, string(bc.Marshal(m)), i)
	}
}

func expectRaw(t *testing.T, l *fakeLink, want string, i int) {
	t.Helper()
	select {
	case got := <-l.msgs:
		if string(got) != want {
			t.Fatalf("message %d:\n got %s\nwant %s", i, got, want)
		}
	case <-time.After(testWait):
		t.Fatalf("message %d never came: want %s", i, want)
	}
}

var marker = []byte(`{"colibriClass":"TestMarker"}`)

// expectNothing checks that nothing else was written to l before a marker queued now.
func expectNothing(t *testing.T, th *testHub, c *Channel, l *fakeLink) {
	t.Helper()
	th.flush(t)
	c.enqueue(bytes.Clone(marker))
	expectRaw(t, l, string(marker), -1)
}

// receive hands js to c as if l had received it and waits until c has processed it: a
// ClientHello queued behind it is answered only after. It returns what c wrote to l before
// that ServerHello.
func receive(t *testing.T, c *Channel, l *fakeLink, js string) []string {
	t.Helper()
	c.receive(l, []byte(js))
	c.receive(l, []byte(`{"colibriClass":"ClientHello"}`))
	hello := string(bc.Marshal(&bc.ServerHello{}))
	var got []string
	for {
		select {
		case b := <-l.msgs:
			if string(b) == hello {
				return got
			}
			got = append(got, string(b))
		case <-time.After(testWait):
			t.Fatalf("no ServerHello after %s; got %q", js, got)
		}
	}
}

func strs(s ...string) []string { return s }
