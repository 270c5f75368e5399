package media

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cityjitsi/videobridge/bridge/receiver"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/sender"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

// Sentinel errors.
var (
	ErrEndpointExists = errors.New("media: endpoint already exists")
	ErrClosed         = errors.New("media: plane closed")
)

// Conference is the media state of one conference: its endpoints and the routing snapshot
// they read per packet. Update and NewEndpoint are called by the control plane (one
// conference worker at a time); the packet path only loads snapshots.
type Conference struct {
	p  *Plane
	id string

	mu     sync.Mutex // guards the fields below (control path only)
	eps    map[string]*Endpoint
	states map[sourceKey]*sourceState
	cfg    router.Config
	fbSSRC uint32
	gen    uint64
}

// sourceKey identifies a source across snapshots: its owner and first SSRC.
type sourceKey struct {
	owner string
	ssrc  uint32
}

// sourceState is what outlives a routing snapshot for one source.
type sourceState struct {
	// layers is written by the owner's ingress and read by every receiver's egress.
	layers receiver.Layers
	// kf is the per-source keyframe request limit, shared by all receivers.
	kf sender.SourceLimiter
}

// srcView is a source as one snapshot sees it.
type srcView struct {
	rs    *router.Source
	st    *sourceState
	owner *Endpoint
	// ext and pli are the owner's header extension ids and PLI support.
	ext router.Extensions
	pli bool
	// workers has bit i set when Plane.workers[i] owns a subscriber (ingress queues the
	// packet once per worker).
	workers uint64
	// subs are the subscribers' endpoints by owning worker (subs[i] for Plane.workers[i], in
	// the router's order): a worker walks only its own, and its prefetch distances count
	// endpoints it forwards to.
	subs [][]*Endpoint
	idx  int // in snapshot.srcs
}

// subsOf returns the subscribers of sv that w owns.
func (sv *srcView) subsOf(w *worker) []*Endpoint {
	if int(w.idx) < len(sv.subs) {
		return sv.subs[w.idx]
	}
	return nil
}

// snapshot is what the packet path reads: the routing table plus the media objects its
// indexes point at. Immutable once published.
type snapshot struct {
	gen    uint64
	routes *router.Snapshot
	eps    []*Endpoint // parallel to routes.Endpoints; nil where no media endpoint exists
	srcs   []srcView   // parallel to routes.Sources
	fbSSRC uint32      // the conference's jvb-v0 SSRC: sender SSRC of the bridge's RTCP
}

// view is one endpoint's position in a snapshot, published per endpoint so that a single
// atomic load gives a consistent pair.
type view struct {
	snap *snapshot
	idx  int
}

func newConference(p *Plane, id string) *Conference {
	return &Conference{p: p, id: id, eps: map[string]*Endpoint{}, states: map[sourceKey]*sourceState{}}
}

// ID returns the control plane's conference id.
func (c *Conference) ID() string { return c.id }

// NewEndpoint creates the media endpoint id with local ICE credentials creds. It receives no
// media until an Update includes it.
func (c *Conference) NewEndpoint(id string, creds ice.Credentials) (*Endpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.eps[id]; dup {
		return nil, fmt.Errorf("%w: %s/%s", ErrEndpointExists, c.id, id)
	}
	e, err := newEndpoint(c, id, creds)
	if err != nil {
		return nil, err
	}
	c.eps[id] = e
	// Only a configuration that already lists id routes anything to or from e. Otherwise the
	// next Update adds it, and a snapshot now would be the current one again, rebuilt and
	// handed to every endpoint: a join storm paid that once per join for the whole conference.
	if slices.ContainsFunc(c.cfg.Endpoints, func(ec router.EndpointConfig) bool { return ec.ID == id }) {
		c.publishLocked()
	}
	return e, nil
}

// Update replaces the conference's routing configuration: cfg lists the endpoints in
// creation order with their media and sources; fbSSRC is the conference's video feedback
// SSRC (jvb-v0). cfg is kept and read, never modified: the control plane shares an unchanged
// endpoint's slices between consecutive configurations.
func (c *Conference) Update(cfg router.Config, fbSSRC uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg, c.fbSSRC = cfg, fbSSRC
	c.publishLocked()
}

// remove forgets a closed endpoint and republishes without it.
func (c *Conference) remove(e *Endpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.eps[e.id] == e {
		delete(c.eps, e.id)
		c.publishLocked()
	}
}

func (c *Conference) endpointList() []*Endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Endpoint, 0, len(c.eps))
	for _, e := range c.eps {
		out = append(out, e)
	}
	return out
}

// publishLocked builds a snapshot from the configuration and the live endpoints and hands
// every endpoint its view. Source state is carried over by (owner, first SSRC); state of
// sources that are gone is dropped.
func (c *Conference) publishLocked() {
	c.gen++
	routes := router.Build(c.cfg)
	s := &snapshot{gen: c.gen, routes: routes, fbSSRC: c.fbSSRC,
		eps: make([]*Endpoint, len(routes.Endpoints)), srcs: make([]srcView, len(routes.Sources))}
	for i := range routes.Endpoints {
		s.eps[i] = c.eps[routes.Endpoints[i].ID]
	}
	states := make(map[sourceKey]*sourceState, len(routes.Sources))
	for i := range routes.Sources {
		rs := &routes.Sources[i]
		owner := &routes.Endpoints[rs.Owner]
		k := sourceKey{owner: owner.ID, ssrc: rs.SSRCs[0]}
		st := c.states[k]
		if st == nil {
			st = &sourceState{}
		}
		states[k] = st
		s.srcs[i] = srcView{rs: rs, st: st, owner: s.eps[rs.Owner], ext: owner.Ext, pli: owner.PLI, idx: i}
		sv := &s.srcs[i]
		for _, sub := range rs.Subscribers {
			if e := s.eps[sub]; e != nil && e.w != nil {
				sv.workers |= 1 << e.w.idx
				if sv.subs == nil {
					sv.subs = make([][]*Endpoint, len(c.p.workers))
				}
				sv.subs[e.w.idx] = append(sv.subs[e.w.idx], e)
			}
		}
	}
	internSubs(s.srcs)
	c.states = states
	for i, e := range s.eps {
		if e != nil {
			e.view.Store(&view{snap: s, idx: i})
			// Wake the egress even when no media comes, so that it releases the RTX history
			// of sources that are gone; a full queue wakes it anyway.
			e.push(item{kind: itemRefresh})
		}
	}
	// Endpoints the configuration does not (or no longer) list keep no view. Only this
	// function stores views, under c.mu, so a view of another snapshot means unlisted (a
	// search by id per endpoint made each publish quadratic in the conference's size).
	for _, e := range c.eps {
		if v := e.view.Load(); v != nil && v.snap != s {
			e.view.Store(nil)
		}
	}
}

// internSubs makes sources with equal subscriber lists (per worker) share one slice, so that a
// worker recognises them by identity: a round's packets of such sources go to each subscriber
// together (worker.round), and its audio can ride at the end of its video's GSO send. Sources
// of one owner usually have equal lists (everyone else), so only those are compared.
func internSubs(srcs []srcView) {
	last := make(map[int]int, len(srcs)) // owner → its latest source so far
	for i := range srcs {
		owner := srcs[i].rs.Owner
		if j, ok := last[owner]; ok && equalSubs(srcs[i].subs, srcs[j].subs) {
			srcs[i].subs = srcs[j].subs
		}
		last[owner] = i
	}
}

func equalSubs(a, b [][]*Endpoint) bool {
	if len(a) != len(b) {
		return false
	}
	for w := range a {
		if !slices.Equal(a[w], b[w]) {
			return false
		}
	}
	return true
}
