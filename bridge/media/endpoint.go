package media

import (
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/sender"
	"github.com/cityjitsi/videobridge/bridge/speaker"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

// Endpoint is one endpoint's media: its transport, the ingress handler the socket reader
// calls, and the egress state that its worker (worker.go) owns: everything sent to it.
type Endpoint struct {
	// What the worker reads for every packet it forwards to this endpoint comes first and
	// together, ahead of the large ingress state: at a fan-out of 100 a receiver's state is
	// cold by the time the next packet reaches it, and each cache line touched is a miss.

	// w is the egress worker that owns out. sched is 1 while the endpoint is on w's run
	// stack, linked by next.
	w *worker
	// btr is tr when it can write into w's batch (w has one), else nil.
	btr batchTransport
	// pf is tr when it can prefetch its send state (fan's hints), else nil.
	pf     sendPrefetcher
	closed atomic.Bool
	// egMu hands out over from the worker to Close: held for a worker's turn, and detached
	// tells the worker that Close has taken over (once per batch, not per packet).
	egMu     sync.Mutex
	detached bool
	view     atomic.Pointer[view]
	// cons are the receiver constraints; consGen counts their changes so that egress
	// recomputes targets at once.
	consGen atomic.Uint64
	out     egress // owned by the egress worker w; its per-packet fields first
	cout    outCounters

	id   string
	conf *Conference
	p    *Plane
	log  *zap.Logger
	tr   Transport

	q    *packet.Queue[item]
	cons atomic.Pointer[constraints]
	// audioSub is the receiver's ReceiverAudioSubscription; nil until it sends one.
	audioSub atomic.Pointer[audioSubscription]

	// reports are the SRs egress sent this endpoint, which its reception reports (ingress)
	// name to give rtt, its round-trip time in ns (0: not measured yet).
	reports sender.ReportLog
	rtt     atomic.Int64

	hooks     atomic.Pointer[Hooks]
	speaker   atomic.Pointer[speaker.Speaker] // Hooks.Speaker, loaded per audio packet
	forwarded atomic.Pointer[[]string]        // published by egress (publishForwarded)
	inactive  atomic.Bool                     // written by housekeeping only (checkActive)

	created   int64 // wall clock ns
	connected atomic.Bool
	expired   atomic.Bool // OnExpire was called
	closeOnce sync.Once

	sched atomic.Uint32
	next  *Endpoint

	in  ingress // owned by the socket reader goroutine
	cin inCounters
}

// constraints are a receiver's video constraints (ReceiverVideoConstraints' maxHeight).
type constraints struct {
	def       int            // for sources not listed; 0: none, -1: unlimited
	perSource map[string]int // by source name
}

func (c *constraints) maxHeight(source string) int {
	if h, ok := c.perSource[source]; ok {
		return h
	}
	return c.def
}

func newEndpoint(c *Conference, id string, creds ice.Credentials) (*Endpoint, error) {
	e := &Endpoint{
		id: id, conf: c, p: c.p, q: packet.NewQueue[item](c.p.opts.QueueSize),
		log:     c.p.log.With(zap.String("conf_id", c.id), zap.String("endpoint", id)),
		created: c.p.opts.WallClock(), w: c.p.nextWorker(),
	}
	// JVB's initial-max-height-px is 0: no video before the receiver's first constraints
	// (pitfall 2).
	e.cons.Store(&constraints{})
	e.in.init()
	e.out.init()
	if e.w != nil {
		e.out.rx.Scratch = &e.w.scratch
	}
	tr, err := c.p.opts.Transports(creds, e)
	if err != nil {
		return nil, err
	}
	e.tr = tr
	if bt, ok := tr.(batchTransport); ok && e.w != nil && e.w.batch != nil {
		e.btr = bt
	}
	if pf, ok := tr.(sendPrefetcher); ok {
		e.pf = pf
	}
	return e, nil
}

// ID returns the endpoint id.
func (e *Endpoint) ID() string { return e.id }

// SetRemote hands the remote transport description to the transport.
func (e *Endpoint) SetRemote(r endpoint.Remote) error { return e.tr.SetRemote(r) }

// SetConstraints sets the receiver's video constraints: the max height for sources not in
// perSource (0: no video, -1: unlimited) and per source name. perSource is not retained.
func (e *Endpoint) SetConstraints(defaultMaxHeight int, perSource map[string]int) {
	c := &constraints{def: defaultMaxHeight, perSource: make(map[string]int, len(perSource))}
	for k, v := range perSource {
		c.perSource[k] = v
	}
	e.cons.Store(c)
	e.consGen.Add(1)
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() Stats { return e.snapshotStats() }

// Close tears the endpoint down: transport first (no callback after it returns), then its
// worker's egress (after the current turn), then every packet still queued or held for
// retransmission. Idempotent.
func (e *Endpoint) Close() {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		e.tr.Close()
		e.egMu.Lock()
		e.detached = true // from here on the egress state and the queue's consumer side are ours
		e.egMu.Unlock()
		for {
			it, ok := e.q.Pop()
			if !ok {
				break
			}
			if it.buf != nil {
				it.buf.Release()
			}
		}
		e.out.close()
		e.conf.remove(e)
		e.p.retire(e.snapshotStats())
	})
}

// OnICEState implements endpoint.Handler. ICE failure expires the endpoint at once (JVB
// expires it at the next check).
func (e *Endpoint) OnICEState(s endpoint.ICEState) {
	switch s {
	case endpoint.ICEConnected:
		e.connected.Store(true)
	case endpoint.ICEFailed:
		e.expire("ICE failed")
	}
}

// OnDTLSState implements endpoint.Handler.
func (e *Endpoint) OnDTLSState(s endpoint.DTLSState) {
	switch s {
	case endpoint.DTLSConnected:
		e.dtlsConnected()
	case endpoint.DTLSFailed:
		e.expire("DTLS failed")
	}
}

// expire asks the control plane, once, to expire this endpoint. The callback must not block
// (it runs on transport and housekeeping goroutines).
func (e *Endpoint) expire(reason string) {
	if e.closed.Load() || !e.expired.CompareAndSwap(false, true) {
		return
	}
	e.log.Info("endpoint expiring", zap.String("reason", reason))
	if f := e.p.opts.OnExpire; f != nil {
		f(e.conf.id, e.id, reason)
	}
}

// checkLiveness applies JVB's expiry rules at wall time now (media.md §6): an endpoint that
// never connected within ExpireUnconnected, or that has shown no activity (media, RTCP or ICE
// consent) for ExpireInactive.
func (e *Endpoint) checkLiveness(now int64) {
	last := e.tr.LastActivity()
	e.checkActive(now, last)
	switch {
	case last == 0 && !e.connected.Load():
		if now-e.created >= int64(e.p.opts.ExpireUnconnected) {
			e.expire("ICE did not connect")
		}
	case last == 0:
		if now-e.created >= int64(e.p.opts.ExpireInactive) {
			e.expire("inactive")
		}
	case now-last >= int64(e.p.opts.ExpireInactive):
		e.expire("inactive")
	}
}
