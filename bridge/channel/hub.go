package channel

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cityjitsi/videobridge/bridge/speaker"
	"go.uber.org/zap"
)

// Defaults (media.md §1.3, §6).
const (
	// DefaultOutgoingQueue bounds the messages waiting for an endpoint's transport.
	DefaultOutgoingQueue = 256
	// DefaultStatsFilterThreshold (stats-filter-threshold): up to this many endpoints every
	// EndpointStats is relayed to everyone.
	DefaultStatsFilterThreshold = 20
	// ConnectionStatsInterval (connection-stats.interval).
	ConnectionStatsInterval = 10 * time.Second
)

// Sentinel errors.
var (
	ErrClosed = errors.New("channel: hub closed")
	ErrExists = errors.New("channel: endpoint already exists")
)

// Ticker is the part of *time.Ticker the Hub uses, so tests can drive its timers.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Options configure a Hub. Zero values mean JVB's defaults.
type Options struct {
	Log     *zap.Logger
	Speaker speaker.Config // speech-activity settings
	// LastNLimit caps every receiver's lastN (see CapLastN); 0 means DefaultLastNLimit,
	// negative no cap.
	LastNLimit           int
	StatsFilterThreshold int // 0 means DefaultStatsFilterThreshold
	OutgoingQueue        int // per endpoint; 0 means DefaultOutgoingQueue
	// Now returns the time in nanoseconds on the clock the media path passes to
	// speaker.Speaker.Level; nil means time.Now().UnixNano().
	Now func() int64
	// NewTicker starts a ticker; nil means one aligned to the wall clock (alignedTicker).
	NewTicker func(time.Duration) Ticker
}

// Hub is one conference's bridge-channel logic. Its state is owned by one goroutine (see the
// package documentation); its methods are safe for concurrent use and, except Close, never
// block on that goroutine.
type Hub struct {
	conf           Conference
	log            *zap.Logger
	now            func() int64
	newTicker      func(time.Duration) Ticker
	lastNLimit     int
	statsThreshold int
	outQueue       int
	speakers       *speaker.Identifier

	mu       sync.Mutex // guards channels and closed
	channels map[string]*Channel
	closed   bool

	opMu sync.Mutex // guards ops
	ops  []func()
	wake chan struct{} // signals queued ops (capacity 1)
	quit chan struct{} // closed by Close
	wg   sync.WaitGroup

	// Owned by the hub goroutine.
	eps       map[string]*epState
	order     []string // endpoints in join order
	speech    []string // endpoints in speech-activity order, most recent dominant speaker first
	sources   []Source // the latest Conference.VideoSources
	senderMax map[string]int
}

// epState is the hub goroutine's view of one endpoint.
type epState struct {
	ch       *Channel
	settings Settings
	// constraints and heights are the last effective constraints given to ApplyConstraints.
	constraints Constraints
	heights     map[string]int
	applied     bool
	forwarded   []string // the last ForwardedSources sent
	fwdSent     bool
	inactive    bool
}

// NewHub starts the Hub of one conference.
func NewHub(conf Conference, o Options) *Hub {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixNano() }
	}
	if o.NewTicker == nil {
		o.NewTicker = func(d time.Duration) Ticker { return newAlignedTicker(d) }
	}
	h := &Hub{
		conf: conf, log: o.Log.With(zap.String("component", "bridge-channel")),
		now: o.Now, newTicker: o.NewTicker,
		lastNLimit:     orDefault(o.LastNLimit, DefaultLastNLimit),
		statsThreshold: orDefault(o.StatsFilterThreshold, DefaultStatsFilterThreshold),
		outQueue:       orDefault(o.OutgoingQueue, DefaultOutgoingQueue),
		speakers:       speaker.New(o.Speaker),
		channels:       make(map[string]*Channel),
		wake:           make(chan struct{}, 1),
		quit:           make(chan struct{}),
		eps:            make(map[string]*epState),
		senderMax:      make(map[string]int),
	}
	h.wg.Add(1)
	go h.run()
	return h
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// AddEndpoint creates the bridge channel of a local endpoint. visitor is colibri2's
// mucRole=visitor: a visitor's EndpointMessage and EndpointStats are dropped (media.md §1.4).
func (h *Hub) AddEndpoint(id string, visitor bool) (*Channel, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if _, ok := h.channels[id]; ok {
		return nil, fmt.Errorf("%w: %q", ErrExists, id)
	}
	c := newChannel(h, id, visitor, h.speakers.Add(id))
	h.channels[id] = c
	h.post(func() { h.addEndpoint(c) }) // first of c's operations
	h.wg.Add(2)
	go func() { defer h.wg.Done(); c.readLoop() }()
	go func() { defer h.wg.Done(); c.writeLoop() }()
	return c, nil
}

// Channel returns the channel of a local endpoint.
func (h *Hub) Channel(id string) (*Channel, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.channels[id]
	return c, ok
}

// RemoveEndpoint closes an endpoint's channel (its WebSocket with 1001 "endpoint closed") and
// forgets it. Unknown ids are ignored.
func (h *Hub) RemoveEndpoint(id string) {
	h.mu.Lock()
	c := h.channels[id]
	delete(h.channels, id)
	// Under mu, like the Add in AddEndpoint, so that an endpoint re-added with the same id at
	// once keeps a live Speaker. Who dominates before and after is taken here too: a decision
	// tick on the hub goroutine before removeEndpoint runs must not hide the change.
	var before, after speaker.Decision
	speakerChanged := false
	if c != nil {
		before = h.speakers.Current()
		speakerChanged = h.speakers.Remove(id)
		after = h.speakers.Current()
	}
	h.mu.Unlock()
	if c == nil {
		return
	}
	c.close()
	newDominant := after.Dominant != before.Dominant && !after.Silence
	h.post(func() { h.removeEndpoint(c, speakerChanged, newDominant, after.Dominant) })
}

// SourcesChanged tells the Hub that Conference.VideoSources changed (sources added or
// removed, a video type set through colibri2): constraints are recomputed and the owners of
// new sources get their first SenderSourceConstraints.
func (h *Hub) SourcesChanged() {
	h.post(h.recompute)
}

// SetForwardedSources reports the video sources now forwarded to receiver. The receiver gets
// ForwardedSources when the set differs from the one it was last sent.
func (h *Hub) SetForwardedSources(receiver string, sources []string) {
	h.post(func() { h.setForwarded(receiver, sources) })
}

// SetEndpointActive reports an endpoint's media activity (media.md §6 "Endpoint liveness").
// On a change every local endpoint, the subject included, gets an
// EndpointConnectivityStatusChangeEvent. Endpoints start active.
func (h *Hub) SetEndpointActive(id string, active bool) {
	h.post(func() { h.setActive(id, active) })
}

// Close closes every channel and stops the Hub, waiting for its goroutines. It must not be
// called from a Conference method.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	chans := h.channels
	h.channels = map[string]*Channel{}
	h.mu.Unlock()
	for _, c := range chans {
		c.close()
	}
	close(h.quit)
	h.wg.Wait()
}

// post queues op for the hub goroutine. It never blocks, so it is safe from any goroutine,
// including the hub goroutine itself (a Conference method calling back).
func (h *Hub) post(op func()) {
	h.opMu.Lock()
	h.ops = append(h.ops, op)
	h.opMu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// do runs op on the hub goroutine and waits for it, unless c or the Hub closes first. A
// channel waits for each of its messages, which bounds what one endpoint can queue.
func (h *Hub) do(c *Channel, op func()) {
	done := make(chan struct{})
	h.post(func() { op(); close(done) })
	select {
	case <-done:
	case <-c.ctx.Done():
	case <-h.quit:
	}
}

// run is the hub goroutine.
func (h *Hub) run() {
	defer h.wg.Done()
	dsi := h.newTicker(speaker.DecisionInterval)
	defer dsi.Stop()
	stats := h.newTicker(ConnectionStatsInterval)
	defer stats.Stop()
	for {
		select {
		case <-h.quit:
			return
		case <-h.wake:
			h.runOps()
		case <-dsi.C():
			h.decide()
		case <-stats.C():
			h.connectionStats()
		}
	}
}

func (h *Hub) runOps() {
	for {
		h.opMu.Lock()
		ops := h.ops
		h.ops = nil
		h.opMu.Unlock()
		if len(ops) == 0 {
			return
		}
		for _, op := range ops {
			op()
		}
		select {
		case <-h.quit:
			return
		default:
		}
	}
}
