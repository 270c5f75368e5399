package control

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// ConferenceInfo is a read-only snapshot of a conference, republished after every change.
type ConferenceInfo struct {
	ID              string // bridge-internal id (random hex, not the meeting-id)
	MeetingID       string
	Name            string // room bare JID, may be empty
	Created         time.Time
	RTCStatsEnabled bool
	Feedback        FeedbackSources
	// Endpoints are copies in creation order; see Endpoint for the sharing rules.
	Endpoints []Endpoint
}

// Endpoint returns the endpoint with the given id.
func (ci ConferenceInfo) Endpoint(id string) (Endpoint, bool) {
	for i := range ci.Endpoints {
		if ci.Endpoints[i].ID == id {
			return ci.Endpoints[i], true
		}
	}
	return Endpoint{}, false
}

// FeedbackSources are the conference's own sender SSRCs (jvb-a0, jvb-v0) for RTCP the bridge
// originates; random and stable for the conference's life (signaling.md §3.10).
type FeedbackSources struct {
	AudioSSRC, VideoSSRC uint32
}

// op is one unit of work for a conference worker: a colibri2 request (req, reply) or an
// internal action (fn).
type op struct {
	req   *colibri2.ConferenceModify
	reply func(*colibri2.ConferenceModified, error)
	fn    func()
}

type conference struct {
	v         *Videobridge
	log       *zap.Logger
	id        string
	meetingID string
	name      string
	created   time.Time
	rtcStats  bool
	feedback  FeedbackSources

	qmu   sync.Mutex // guards queue; lock order: Videobridge.mu, then qmu
	queue []op
	wake  chan struct{} // capacity 1: "the queue may be non-empty"

	info atomic.Pointer[ConferenceInfo]

	// Owned by the worker goroutine.
	endpoints []*Endpoint // creation order
	expired   bool
	dirty     bool        // endpoints changed since the last publish
	stopEmpty func() bool // set before the worker starts
}

func newConference(v *Videobridge, id string, req *colibri2.ConferenceModify) *conference {
	c := &conference{
		v:         v,
		id:        id,
		meetingID: req.MeetingID,
		name:      req.Name,
		created:   v.opts.Clock(),
		rtcStats:  req.RTCStatsEnabled,
		wake:      make(chan struct{}, 1),
	}
	c.feedback.AudioSSRC = randomSSRC()
	for c.feedback.VideoSSRC = randomSSRC(); c.feedback.VideoSSRC == c.feedback.AudioSSRC; {
		c.feedback.VideoSSRC = randomSSRC()
	}
	c.log = v.log.With(zap.String("conf_id", id), zap.String("meeting_id", req.MeetingID))
	c.publish()
	return c
}

// push appends to the FIFO without blocking.
func (c *conference) push(o op) {
	c.qmu.Lock()
	c.queue = append(c.queue, o)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conference) pop() (op, bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if len(c.queue) == 0 {
		c.queue = nil // let a burst's backing array go
		return op{}, false
	}
	o := c.queue[0]
	c.queue[0] = op{}
	c.queue = c.queue[1:]
	return o, true
}

// run is the conference worker: it processes ops in arrival order until the conference has
// expired and the queue is drained. Nothing is queued after expiry (unregister happens under
// Videobridge.mu, which every push holds), so the final drain is complete.
func (c *conference) run() {
	defer c.v.workers.Done()
	for range c.wake {
		for {
			o, ok := c.pop()
			if !ok {
				break
			}
			c.handle(o)
		}
		if c.expired {
			return
		}
	}
}

func (c *conference) handle(o op) {
	switch {
	case o.fn != nil:
		// Internal actions tolerate an expired conference (they find no endpoints).
		o.fn()
		c.publishIfDirty()
	case c.expired:
		// Queued behind the request that expired the conference: answer as a sequential
		// bridge would.
		o.reply(nil, errConferenceNotFound(c.meetingID))
	default:
		resp, err := c.modify(o.req)
		// Publish before replying: once Jicofo has the answer, the client may connect to the
		// colibri-ws URL in it, whose lookup reads the snapshot.
		c.publishIfDirty()
		if err != nil {
			c.log.Warn("colibri2 request failed", zap.String("condition", err.Condition),
				zap.String("reason", string(err.Reason)), zap.String("text", err.Text))
			o.reply(nil, err)
		} else {
			o.reply(resp, nil)
		}
	}
}

func (c *conference) publishIfDirty() {
	if c.dirty && !c.expired {
		c.publish()
	}
}

// publish stores a fresh snapshot for readers on other goroutines.
func (c *conference) publish() {
	eps := make([]Endpoint, len(c.endpoints))
	for i, ep := range c.endpoints {
		eps[i] = *ep
	}
	info := &ConferenceInfo{
		ID: c.id, MeetingID: c.meetingID, Name: c.name, Created: c.created,
		RTCStatsEnabled: c.rtcStats, Feedback: c.feedback, Endpoints: eps,
	}
	c.info.Store(info)
	c.dirty = false
	if o, ok := c.v.opts.Transports.(ConferenceObserver); ok {
		o.ConferenceChanged(info) // the media plane rebuilds its routing (mediatransport.go)
	}
}

func (c *conference) find(id string) *Endpoint {
	for _, ep := range c.endpoints {
		if ep.ID == id {
			return ep
		}
	}
	return nil
}

// addEndpoint records a created endpoint.
func (c *conference) addEndpoint(ep *Endpoint) {
	c.endpoints = append(c.endpoints, ep)
	c.dirty = true
	c.v.localEndpoints.Add(1)
	c.v.endpointsCreated.Add(1)
	if ep.Visitor {
		c.v.visitors.Add(1)
		c.v.visitorsCreated.Add(1)
	}
}

// removeEndpoint expires one endpoint: its transport is closed and, as in JVB
// (Videobridge.localEndpointExpired), the graceful-shutdown participant check runs.
func (c *conference) removeEndpoint(ep *Endpoint, reason string) {
	if i := slices.Index(c.endpoints, ep); i >= 0 {
		c.endpoints = slices.Delete(c.endpoints, i, i+1) // clears the vacated slot
	}
	c.dirty = true
	if ep.Transport != nil {
		ep.Transport.Close()
	}
	remaining := c.v.localEndpoints.Add(-1)
	if ep.Visitor {
		c.v.visitors.Add(-1)
	}
	c.log.Info("endpoint expired", zap.String("endpoint", ep.ID), zap.String("reason", reason))
	c.v.endpointExpired(remaining)
}

// expireIfEmpty is JVB's Conference.shouldExpire for the timer and out-of-band expiries.
func (c *conference) expireIfEmpty(reason string) {
	if len(c.endpoints) == 0 {
		c.expire(reason)
	}
}

// expire ends the conference: it leaves the registry, its endpoints expire, and the worker
// exits once the queue is drained.
func (c *conference) expire(reason string) {
	if c.expired {
		return
	}
	c.expired = true
	c.v.unregister(c)
	if c.stopEmpty != nil {
		c.stopEmpty()
	}
	for len(c.endpoints) > 0 {
		c.removeEndpoint(c.endpoints[len(c.endpoints)-1], "conference expired")
	}
	c.publish()
	lifetime := c.v.opts.Clock().Sub(c.created)
	c.v.conferencesCompleted.Add(1)
	c.v.conferenceMillis.Add(lifetime.Milliseconds())
	c.log.Info("conference expired", zap.String("reason", reason), zap.Duration("lifetime", lifetime))
}
