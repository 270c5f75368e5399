package media

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// Endpoint liveness defaults (media.md §6 "Endpoint liveness", JVB's entity-expiration).
const (
	DefaultExpireInactive    = time.Minute     // no media, RTCP or ICE consent for this long
	DefaultExpireUnconnected = 2 * time.Minute // ICE never connected within this long
	DefaultHousekeeping      = time.Second     // liveness checks and rate sampling
	// DefaultQueueSize is the capacity of an endpoint's own egress queue: RTCP, NACK pairs,
	// keyframe requests and SRs. Media does not pass through it (one queue per worker,
	// workerQueue packets), so it is a quarter of JVB's 1024-packet queues.
	DefaultQueueSize = 256
)

// Transport is what an Endpoint needs of its ICE/DTLS/SRTP transport; *endpoint.Transport
// implements it. Only the endpoint's egress worker writes.
type Transport interface {
	WriteRTP(pkt []byte) bool
	WriteRTCP(pkt []byte) bool
	LastActivity() int64
	SetRemote(r endpoint.Remote) error
	Close()
}

// batchTransport is implemented by transports that can add their datagrams to the egress
// worker's send batch (*endpoint.Transport); others are written one by one.
type batchTransport interface {
	WriteRTPBatch(b *udp.Batch, pkt []byte) bool
	WriteRTCPBatch(b *udp.Batch, pkt []byte) bool
}

// sendPrefetcher is implemented by transports that can hint the cache lines their next
// write reads (*endpoint.Transport; stages as in Transport.PrefetchSend).
type sendPrefetcher interface {
	PrefetchSend(stage int, b *prefetch.Batch)
}

// TransportFactory creates an endpoint's transport, delivering its media to h.
type TransportFactory func(creds ice.Credentials, h endpoint.Handler) (Transport, error)

// Options configure a Plane. Zero values take the defaults.
type Options struct {
	Log *zap.Logger
	// Clock returns monotonic nanoseconds for packet timing (default: time since NewPlane).
	Clock func() int64
	// WallClock returns Unix nanoseconds, the clock of Transport.LastActivity.
	WallClock         func() int64
	QueueSize         int
	ExpireInactive    time.Duration
	ExpireUnconnected time.Duration
	Housekeeping      time.Duration
	// Workers is the number of egress worker goroutines the endpoints are spread over
	// (default GOMAXPROCS, at most 64).
	Workers int
	// Transports overrides the real transports on the socket (tests, benchmarks).
	Transports TransportFactory
	// TransportOptions tune the real transports (ignored with Transports).
	TransportOptions []endpoint.Option
	// OnExpire is called, on its own goroutine's time but without blocking, when the plane
	// decides an endpoint must go (ICE or DTLS failure, inactivity). The control plane then
	// expires it, which closes it.
	OnExpire func(confID, epID, reason string)

	// manualEgress (tests and benchmarks in this package): the egress workers are not
	// started; the caller runs their rounds on its own goroutine.
	manualEgress bool
}

// Plane is the bridge's data plane: the conferences' media endpoints on the shared socket.
type Plane struct {
	opts  Options
	log   *zap.Logger
	start time.Time

	mu      sync.Mutex
	confs   map[string]*Conference
	retired Stats // counters of closed endpoints
	closed  bool

	rates atomic.Pointer[Rates]
	stop  chan struct{}
	done  chan struct{}

	workers  []*worker // not running with manualEgress
	assigned atomic.Uint32
	wstop    chan struct{}
	wg       sync.WaitGroup
}

// Rates are bit and packet rates over the last housekeeping interval.
type Rates struct {
	BitsPerSecondIn, BitsPerSecondOut       uint64
	PacketsPerSecondIn, PacketsPerSecondOut uint64
	// EndpointsSendingAudio and EndpointsSendingVideo count endpoints with media of that kind
	// in the last second.
	EndpointsSendingAudio, EndpointsSendingVideo int
	// RTTAggregateMs is the mean round-trip time of the endpoints whose RTT is known, in ms
	// (JVB's rtt_aggregate; 0 when none is).
	RTTAggregateMs float64
}

// historySweep is how often housekeeping asks each endpoint's egress to release the RTX
// histories idle for sender.HistoryIdle.
const historySweep = 5 * time.Second

// NewPlane returns a running plane whose endpoints use sock, cert and the bridge's host
// candidates cands (sock and cert may be nil when opts.Transports is set).
func NewPlane(sock *udp.Socket, cert *dtls.Certificate, cands []ice.Candidate, opts Options) *Plane {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	p := &Plane{opts: opts, start: time.Now(), confs: map[string]*Conference{},
		stop: make(chan struct{}), done: make(chan struct{})}
	p.log = opts.Log.With(zap.String("component", "media"))
	if p.opts.Clock == nil {
		p.opts.Clock = func() int64 { return int64(time.Since(p.start)) }
	}
	if p.opts.WallClock == nil {
		p.opts.WallClock = func() int64 { return time.Now().UnixNano() }
	}
	if p.opts.QueueSize <= 0 {
		p.opts.QueueSize = DefaultQueueSize
	}
	if p.opts.ExpireInactive <= 0 {
		p.opts.ExpireInactive = DefaultExpireInactive
	}
	if p.opts.ExpireUnconnected <= 0 {
		p.opts.ExpireUnconnected = DefaultExpireUnconnected
	}
	if p.opts.Housekeeping <= 0 {
		p.opts.Housekeeping = DefaultHousekeeping
	}
	if p.opts.Transports == nil {
		tlog := opts.Log
		p.opts.Transports = func(creds ice.Credentials, h endpoint.Handler) (Transport, error) {
			return endpoint.New(sock, cert, creds, cands, h, tlog, p.opts.TransportOptions...)
		}
	}
	p.rates.Store(&Rates{})
	p.wstop = make(chan struct{})
	p.workers = newWorkers(workerCount(p.opts.Workers), sock, p.opts.Clock)
	if !p.opts.manualEgress {
		startWorkers(p.workers, p.wstop, &p.wg)
	}
	go p.housekeeping()
	return p
}

// nextWorker returns the egress worker of a new endpoint (round robin).
func (p *Plane) nextWorker() *worker {
	if len(p.workers) == 0 {
		return nil
	}
	return p.workers[(p.assigned.Add(1)-1)%uint32(len(p.workers))]
}

func (p *Plane) now() int64 { return p.opts.Clock() }

// Now returns the plane's packet clock (Options.Clock) in nanoseconds: the clock of the
// audio levels handed to Hooks.Speaker, which a dominant speaker Identifier must decide on.
func (p *Plane) Now() int64 { return p.opts.Clock() }

// Conference returns the media conference with the control plane's id, creating it.
func (p *Plane) Conference(id string) *Conference {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.confs[id]
	if c == nil {
		c = newConference(p, id)
		p.confs[id] = c
	}
	return c
}

// RemoveConference forgets a conference (its endpoints are closed by their owner, the
// control plane, before or after).
func (p *Plane) RemoveConference(id string) {
	p.mu.Lock()
	delete(p.confs, id)
	p.mu.Unlock()
}

// Conferences returns the number of conferences with media state.
func (p *Plane) Conferences() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.confs)
}

// endpoints returns the live endpoints (a copy).
func (p *Plane) endpoints() []*Endpoint {
	p.mu.Lock()
	confs := make([]*Conference, 0, len(p.confs))
	for _, c := range p.confs {
		confs = append(confs, c)
	}
	p.mu.Unlock()
	var out []*Endpoint
	for _, c := range confs {
		out = append(out, c.endpointList()...)
	}
	return out
}

// retire adds a closed endpoint's counters to the totals.
func (p *Plane) retire(s Stats) {
	p.mu.Lock()
	p.retired.add(&s)
	p.mu.Unlock()
}

// Stats returns the plane's counters: the retired endpoints' plus the live ones'.
func (p *Plane) Stats() Stats {
	eps := p.endpoints()
	p.mu.Lock()
	total := p.retired
	p.mu.Unlock()
	for _, e := range eps {
		s := e.snapshotStats()
		total.add(&s)
	}
	return total
}

// Rates returns the rates measured over the last housekeeping interval.
func (p *Plane) Rates() Rates { return *p.rates.Load() }

// Close stops the housekeeping goroutine and the egress workers. Endpoints are closed by the
// control plane, before: an endpoint left open no longer sends.
func (p *Plane) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	close(p.wstop)
	p.wg.Wait()
	// Packets still queued for the stopped workers go back to the pool.
	for _, w := range p.workers {
		for {
			it, ok := w.media.Pop()
			if !ok {
				break
			}
			it.buf.Release()
		}
	}
}

// housekeeping checks endpoint liveness and samples the rates.
func (p *Plane) housekeeping() {
	defer close(p.done)
	t := time.NewTicker(p.opts.Housekeeping)
	defer t.Stop()
	k := keeper{last: p.Stats(), lastAt: p.now()}
	k.swept = k.lastAt
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.housekeep(&k)
	}
}

// keeper is housekeeping's state between ticks.
type keeper struct {
	last          Stats // the totals at lastAt
	lastAt, swept int64 // clock ns of the last tick and of the last history sweep
}

// housekeep is one housekeeping tick: liveness, the RTX history sweep every historySweep,
// and the rates since the last tick.
func (p *Plane) housekeep(k *keeper) {
	now, wall := p.now(), p.opts.WallClock()
	sweep := now-k.swept >= int64(historySweep)
	if sweep {
		k.swept = now
	}
	r := Rates{}
	var rttSum int64
	var rttN int
	for _, e := range p.endpoints() {
		e.checkLiveness(wall)
		// A sweep lost to a full queue is only late: the next comes historySweep later.
		if sweep && !e.closed.Load() {
			e.push(item{kind: itemSweep})
		}
		if rtt := e.rtt.Load(); rtt > 0 {
			rttSum += rtt
			rttN++
		}
		if a := e.cin.lastAudio.Load(); a != 0 && now-a < int64(time.Second) {
			r.EndpointsSendingAudio++
		}
		if v := e.cin.lastVideo.Load(); v != 0 && now-v < int64(time.Second) {
			r.EndpointsSendingVideo++
		}
	}
	if rttN > 0 {
		r.RTTAggregateMs = float64(rttSum) / float64(rttN) / 1e6
	}
	cur := p.Stats()
	if dt := now - k.lastAt; dt > 0 {
		// An endpoint closing between the two reads of Stats can make a total dip once.
		per := func(a, b uint64) uint64 {
			if a < b {
				return 0
			}
			return (a - b) * uint64(time.Second) / uint64(dt)
		}
		r.BitsPerSecondIn = 8 * per(cur.BytesReceived, k.last.BytesReceived)
		r.BitsPerSecondOut = 8 * per(cur.BytesSent, k.last.BytesSent)
		r.PacketsPerSecondIn = per(cur.RTPReceived, k.last.RTPReceived)
		r.PacketsPerSecondOut = per(cur.RTPSent, k.last.RTPSent)
	}
	p.rates.Store(&r)
	k.last, k.lastAt = cur, now
}
