// Package control implements the bridge's control plane as JVB does: the conference registry
// and the colibri2 semantics Jicofo relies on (signaling.md §3–§4), graceful shutdown and drain
// (§5.4) and the /colibri/stats values (§5.2).
//
// Concurrency: ConferenceModify is called from the XMPP read loop in arrival order and never
// blocks. It resolves (or creates) the conference synchronously, so requests pipelined behind a
// create find it, and queues the rest on the conference's FIFO worker goroutine, which owns all
// conference and endpoint state and sends the reply (pitfall 11). Everything else reads
// published snapshots or atomics.
package control

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// JVB defaults for the zero values of Options (signaling.md §6.4).
const (
	DefaultConferenceEmptyTimeout      = 20 * time.Second
	DefaultGracefulShutdownMaxDuration = 24 * time.Hour
	DefaultShuttingDownDelay           = time.Minute
	DefaultAverageParticipantStress    = 0.01
)

// closeTimeout bounds how long Close waits for conference workers (a worker can be stuck in a
// slow TransportFactory).
const closeTimeout = 10 * time.Second

// Options configure a Videobridge. Zero durations and stress take JVB's defaults.
type Options struct {
	Log                      *zap.Logger
	Version                  string
	Release                  string
	Region, RelayID          string
	RelaysEnabled            bool
	SCTPEnabled              bool
	WebSockets               WebSocketOptions
	Transports               TransportFactory
	InitialDrain             bool
	AverageParticipantStress float64

	GracefulShutdownMinParticipants                int
	GracefulShutdownMaxDuration, ShuttingDownDelay time.Duration
	// ConferenceEmptyTimeout: a conference that has had no endpoints this long after its
	// creation expires (JVB Conference.shouldExpire, 20 s).
	ConferenceEmptyTimeout time.Duration

	Clock func() time.Time
	// AfterFunc schedules f after d and returns a stop function (time.AfterFunc by default);
	// tests inject a fake to fire timers without sleeping.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// OnShutdown is called when the process should exit (the end of SHUTTING_DOWN).
	OnShutdown func()
	// OnStateChange is called, on its own goroutine, when drain or the shutdown state changes.
	OnStateChange func()
}

// WebSocketOptions configure the colibri-ws URLs advertised to endpoints
// (videobridge.websockets.*).
type WebSocketOptions struct {
	Enabled  bool
	ServerID string
	Domains  []string
	TLS      bool
}

// Videobridge is the conference registry and colibri2 request handler.
type Videobridge struct {
	opts Options
	log  *zap.Logger

	workers sync.WaitGroup // one per live conference

	mu sync.Mutex // guards the fields below
	// byMeetingID and byID index the live conferences; a conference is removed under mu when
	// it expires, after which nothing new is queued to it. A conference with a conference
	// expire queued leaves byMeetingID at once (route), so byMeetingID may hold fewer.
	byMeetingID map[string]*conference
	byID        map[string]*conference
	closed      bool
	shutdown    shutdownMachine

	drain       atomic.Bool
	healthCheck atomic.Pointer[func() error]
	stressLevel atomic.Pointer[func() float64]

	// Counters written by conference workers, read by Stats and the shutdown check.
	localEndpoints       atomic.Int64
	visitors             atomic.Int64
	conferencesCreated   atomic.Int64
	conferencesCompleted atomic.Int64
	conferenceMillis     atomic.Int64
	endpointsCreated     atomic.Int64
	visitorsCreated      atomic.Int64
}

// New returns a running Videobridge.
func New(opts Options) *Videobridge {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.AfterFunc == nil {
		opts.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if opts.ConferenceEmptyTimeout <= 0 {
		opts.ConferenceEmptyTimeout = DefaultConferenceEmptyTimeout
	}
	if opts.GracefulShutdownMaxDuration <= 0 {
		opts.GracefulShutdownMaxDuration = DefaultGracefulShutdownMaxDuration
	}
	if opts.ShuttingDownDelay <= 0 {
		opts.ShuttingDownDelay = DefaultShuttingDownDelay
	}
	if opts.AverageParticipantStress <= 0 {
		opts.AverageParticipantStress = DefaultAverageParticipantStress
	}
	v := &Videobridge{
		opts:        opts,
		log:         opts.Log.With(zap.String("component", "control")),
		byMeetingID: make(map[string]*conference),
		byID:        make(map[string]*conference),
		shutdown:    shutdownMachine{state: ShutdownRunning},
	}
	v.drain.Store(opts.InitialDrain)
	return v
}

// ConferenceModify handles one colibri2 <conference-modify/>. It must be called in arrival
// order and does not block. reply is called exactly once: before ConferenceModify returns for
// errors found while resolving the conference (no conference, already exists, graceful
// shutdown, invalid name), otherwise later from the conference's worker, in request order. The
// request is owned by the Videobridge from then on and must not be modified.
func (v *Videobridge) ConferenceModify(req *colibri2.ConferenceModify, reply func(*colibri2.ConferenceModified, error)) {
	if err := v.route(req, reply); err != nil {
		v.log.Info("colibri2 request rejected", zap.String("meeting_id", meetingID(req)),
			zap.String("condition", err.Condition), zap.String("reason", string(err.Reason)), zap.String("text", err.Text))
		reply(nil, err)
	}
}

func meetingID(req *colibri2.ConferenceModify) string {
	if req == nil {
		return ""
	}
	return req.MeetingID
}

// route resolves or creates the conference in call order (JVB Videobridge.getOrCreateConference,
// same order of checks) and queues the request on it.
func (v *Videobridge) route(req *colibri2.ConferenceModify, reply func(*colibri2.ConferenceModified, error)) *colibri2.Error {
	if req == nil || strings.TrimSpace(req.MeetingID) == "" {
		// JVB's parser drops such a stanza unanswered; an answer is kinder to the focus.
		return errBadRequest("Missing meeting-id")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return errUnavailable("Videobridge is shutting down")
	}
	c := v.byMeetingID[req.MeetingID]
	if req.Create {
		switch {
		case c != nil:
			return errConferenceAlreadyExists(req.MeetingID)
		case v.shutdown.state != ShutdownRunning:
			// JVB only checks GRACEFUL_SHUTDOWN; refusing in SHUTTING_DOWN too sends Jicofo
			// elsewhere instead of onto a bridge that is about to exit.
			return errGracefulShutdown()
		case req.Name != "" && !validBareJID(req.Name):
			return errBadRequest("Invalid conference name (not a JID)")
		}
		c = v.newConferenceLocked(req)
	} else if c == nil {
		return errConferenceNotFound(req.MeetingID)
	}
	c.push(op{req: req, reply: reply})
	if req.Expire && !req.Create && len(req.Endpoints) == 0 && len(req.Relays) == 0 {
		// A pure conference expire cannot fail, so the meeting-id is free from here on: a create
		// pipelined right behind it (Jicofo re-inviting after a restart request or after
		// conference_already_exists) must start a new conference, and any other request must get
		// conference_not_found, exactly as if the expire had already been processed (pitfall 11).
		delete(v.byMeetingID, req.MeetingID)
	}
	return nil
}

// newConferenceLocked registers a new conference and starts its worker. v.mu must be held.
func (v *Videobridge) newConferenceLocked(req *colibri2.ConferenceModify) *conference {
	id := randomHex(8)
	for v.byID[id] != nil {
		id = randomHex(8)
	}
	c := newConference(v, id, req)
	v.byMeetingID[c.meetingID] = c
	v.byID[c.id] = c
	v.conferencesCreated.Add(1)
	// JVB expires a conference that still has no endpoints 20 s after creation.
	c.stopEmpty = v.opts.AfterFunc(v.opts.ConferenceEmptyTimeout, func() {
		v.submit(c, func() { c.expireIfEmpty("no endpoints since creation") })
	})
	v.workers.Add(1)
	go c.run()
	c.log.Info("conference created", zap.String("name", c.name))
	return c
}

// submit queues fn on c's worker if c is still live.
func (v *Videobridge) submit(c *conference, fn func()) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byID[c.id] != c {
		return false
	}
	c.push(op{fn: fn})
	return true
}

// unregister removes an expiring conference; from then on nothing is queued to it.
func (v *Videobridge) unregister(c *conference) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byID[c.id] == c {
		delete(v.byID, c.id)
	}
	// The meeting-id may already belong to a newer conference created behind our expire.
	if v.byMeetingID[c.meetingID] == c {
		delete(v.byMeetingID, c.meetingID)
	}
}

// Conference returns a snapshot of the live conference with the given meeting-id.
func (v *Videobridge) Conference(meetingID string) (ConferenceInfo, bool) {
	v.mu.Lock()
	c := v.byMeetingID[meetingID]
	v.mu.Unlock()
	if c == nil {
		return ConferenceInfo{}, false
	}
	return *c.info.Load(), true
}

// ConferenceByID returns a snapshot of the live conference with the given bridge-internal id
// (the id in colibri-ws URLs and /debug paths).
func (v *Videobridge) ConferenceByID(id string) (ConferenceInfo, bool) {
	v.mu.Lock()
	c := v.byID[id]
	v.mu.Unlock()
	if c == nil {
		return ConferenceInfo{}, false
	}
	return *c.info.Load(), true
}

// WebSocketPassword returns the colibri-ws password of endpoint epID in conference confID
// (bridge-internal id). The colibri-ws server compares it with the URL's pwd.
func (v *Videobridge) WebSocketPassword(confID, epID string) (string, bool) {
	info, ok := v.ConferenceByID(confID)
	if !ok {
		return "", false
	}
	if ep, ok := info.Endpoint(epID); ok {
		return ep.webSocketPassword, true
	}
	return "", false
}

// ExpireEndpoint expires an endpoint from outside colibri2 (the media plane's inactivity or
// ICE-failure expiry). Like JVB, Jicofo is not told; it learns on its next request. The
// conference then expires if it is empty and older than ConferenceEmptyTimeout.
func (v *Videobridge) ExpireEndpoint(confID, epID, reason string) {
	v.mu.Lock()
	c := v.byID[confID]
	v.mu.Unlock()
	if c == nil {
		return
	}
	v.submit(c, func() {
		if ep := c.find(epID); ep != nil {
			c.removeEndpoint(ep, reason)
			if c.v.opts.Clock().Sub(c.created) >= c.v.opts.ConferenceEmptyTimeout {
				c.expireIfEmpty("last endpoint expired")
			}
		}
	})
}

// Close expires every conference, stops the timers and waits (bounded) for the workers.
// Requests arriving afterwards are answered service-unavailable.
func (v *Videobridge) Close() {
	v.mu.Lock()
	if !v.closed {
		v.closed = true
		for _, c := range v.byID {
			c.push(op{fn: func() { c.expire("bridge closing") }})
		}
		v.shutdown.stopTimers()
	}
	v.mu.Unlock()

	done := make(chan struct{})
	go func() { v.workers.Wait(); close(done) }()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		v.log.Warn("conference workers did not finish", zap.Duration("waited", closeTimeout))
	}
}
