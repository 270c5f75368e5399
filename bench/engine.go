package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bench/client"
	"github.com/cityjitsi/videobridge/bench/traffic"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// memberState is where an endpoint is in its life.
type memberState int32

const (
	statePlanned memberState = iota
	stateJoining
	stateConnected
	stateFailed
)

// conference is one planned conference.
type conference struct {
	idx         int
	ref         ConferenceRef
	talker      *traffic.Talker
	stageSource string // first sender's video source, on stage in stage view
	stageSender uint32 // its endpoint index
	created     chan struct{}
	createErr   error
	members     []*member
}

// member is one planned endpoint.
type member struct {
	idx   uint32
	conf  *conference
	ep    EndpointRef
	sends bool
	talk  int // member index in the talker
	ssrcs client.SSRCs
	state atomic.Int32

	// Written by the join goroutine before state becomes connected or failed.
	c        *client.Client
	alloc    Allocation
	allocate time.Duration
	jt       client.JoinTimes
	dc       time.Duration // data channel open, 0 when not opened
	total    time.Duration
	dtlsDone time.Time
	err      error
}

// engine runs one load against one target.
type engine struct {
	o    Options
	t    *Target
	log  *zap.Logger
	reg  *client.Registry
	cert *dtls.Certificate

	ctx    context.Context
	cancel context.CancelCauseFunc
	start  time.Time

	mu      sync.Mutex
	rng     *rand.Rand
	confs   []*conference
	members []*member
	joined  sync.WaitGroup
	sem     chan struct{}

	failures  atomic.Int32
	connected atomic.Int32
	// constraint delivery: the first error is kept for the report.
	constraintErrs  atomic.Int32
	constraintFirst atomic.Pointer[string]
	constraintVia   atomic.Pointer[string] // the first method that delivered constraints
	// dcSkip is set after the data channel failed in auto mode: the bridge does not serve it.
	dcSkip      atomic.Bool
	dcOpened    atomic.Int32
	dcFailed    atomic.Int32
	dcNote      atomic.Pointer[string]
	lastConnect atomic.Int64 // Unix ns
}

func newEngine(ctx context.Context, o Options, t *Target) (*engine, error) {
	cert, err := dtls.NewCertificate()
	if err != nil {
		return nil, err
	}
	e := &engine{o: o, t: t, log: o.Log.With(zap.String("component", "bench")), reg: client.NewRegistry(), cert: cert,
		rng: rand.New(rand.NewPCG(o.Seed, 0x853c49e6748fea9b)), sem: make(chan struct{}, 32), start: time.Now()}
	e.ctx, e.cancel = context.WithCancelCause(ctx)
	return e, nil
}

// fail ends the run with cause (the first cause wins).
func (e *engine) fail(cause error) { e.cancel(cause) }

// hexID is a Jitsi-style 8-hex-digit endpoint ID.
func (e *engine) hexID() string { return fmt.Sprintf("%08x", e.rng.Uint32()) }

// addConferences plans n conferences of the scenario's shape and returns their members.
func (e *engine) addConferences(n int) []*member {
	e.mu.Lock()
	defer e.mu.Unlock()
	sc := e.o.Scenario
	var out []*member
	for i := 0; i < n; i++ {
		c := &conference{idx: len(e.confs), created: make(chan struct{})}
		c.ref = ConferenceRef{MeetingID: fmt.Sprintf("%08x-bench-%04x-%04x-%012x", e.rng.Uint32(), c.idx, e.rng.IntN(1<<16), e.rng.Uint64()>>16),
			Name: fmt.Sprintf("bench%d@conference.meet.test", c.idx)}
		c.talker = traffic.NewTalker(traffic.TalkerConfig{Members: sc.Senders, Seed: e.o.Seed + uint64(c.idx)}, time.Hour)
		e.confs = append(e.confs, c)
		for k := 0; k < sc.Size; k++ {
			out = append(out, e.addMember(c, k < sc.Senders))
		}
	}
	return out
}

// addReceivers plans n receive-only members in the first conference.
func (e *engine) addReceivers(n int) []*member {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*member
	for i := 0; i < n && len(e.confs) > 0; i++ {
		out = append(out, e.addMember(e.confs[0], false))
	}
	return out
}

// addMember plans one endpoint; e.mu is held.
func (e *engine) addMember(c *conference, sends bool) *member {
	idx := uint32(len(e.members))
	id := e.hexID()
	m := &member{idx: idx, conf: c, ep: EndpointRef{ID: id, StatsID: "bench-" + id}, sends: sends}
	if sends {
		m.talk = 0
		for _, o := range c.members {
			if o.sends {
				m.talk++
			}
		}
		// 32 SSRCs per endpoint from a random run base: unique within the run.
		m.ssrcs = client.SSRCsFor(0x10000000 + idx*32)
		if c.stageSource == "" {
			c.stageSource, c.stageSender = id+"-v0", idx
		}
	}
	c.members = append(c.members, m)
	e.members = append(e.members, m)
	return m
}

// joinAll joins members at the configured rate and returns when every join has ended (or the
// run was cancelled). Joins overlap: each runs in its own goroutine.
func (e *engine) joinAll(ms []*member) {
	interval := time.Duration(float64(time.Second) / e.o.JoinRate)
	t := time.NewTicker(interval)
	defer t.Stop()
	for i, m := range ms {
		if i > 0 {
			select {
			case <-t.C:
			case <-e.ctx.Done():
				e.joined.Wait()
				return
			}
		}
		select {
		case e.sem <- struct{}{}:
		case <-e.ctx.Done():
			e.joined.Wait()
			return
		}
		e.joined.Add(1)
		go func() {
			defer func() { <-e.sem; e.joined.Done() }()
			e.join(m)
		}()
	}
	e.joined.Wait()
}

// join runs one endpoint's whole join; it never blocks beyond JoinTimeout.
func (e *engine) join(m *member) {
	m.state.Store(int32(stateJoining))
	ctx, cancel := context.WithTimeout(e.ctx, e.o.JoinTimeout)
	defer cancel()
	err := e.joinSteps(ctx, m)
	if err != nil {
		m.err = err
		if m.c != nil {
			m.c.Close()
		}
		m.state.Store(int32(stateFailed))
		n := e.failures.Add(1)
		e.log.Info("join failed", zap.String("endpoint", m.ep.ID), zap.Error(err))
		// Nothing joins at all: stop early with the reason instead of timing out every endpoint.
		if n >= 5 && e.connected.Load() == 0 {
			e.fail(fmt.Errorf("no endpoint could join (%d failures); first: %w", n, err))
		}
		return
	}
	e.connected.Add(1)
	e.lastConnect.Store(time.Now().UnixNano())
	m.state.Store(int32(stateConnected))
}

func (e *engine) joinSteps(ctx context.Context, m *member) error {
	c := m.conf
	create := c.members[0] == m
	if !create {
		select {
		case <-c.created:
			if c.createErr != nil {
				return fmt.Errorf("conference not created: %w", c.createErr)
			}
		case <-ctx.Done():
			return fmt.Errorf("waiting for the conference: %w", context.Cause(ctx))
		}
	}
	t0 := time.Now()
	alloc, err := e.t.Signaler.Allocate(ctx, c.ref, create, m.ep)
	if create {
		c.createErr = err
		close(c.created)
	}
	if err != nil {
		return err
	}
	m.alloc = alloc
	cfg := client.Config{Index: m.idx, Certificate: e.cert, Registry: e.reg, SampleEvery: e.o.SampleEvery,
		RecvLoss: e.o.RecvLoss, SendLoss: e.o.SendLoss, SendDelay: e.o.SendDelay, Seed: e.o.Seed + uint64(m.idx)*7919,
		LocalAddr: e.t.ClientAddr, GRO: e.o.ReceiverGRO, Pacer: client.Pacer(e.o.Pacer), Log: e.o.Log}
	var ssrcs *client.SSRCs
	if m.sends {
		ssrcs = &m.ssrcs
		cfg.Send = &client.SendConfig{SSRCs: m.ssrcs, Talker: c.talker, Member: m.talk}
		e.reg.Add(m.ssrcs.Origins(m.idx, true))
	}
	cl, err := client.New(cfg)
	if err != nil {
		return err
	}
	m.c = cl
	cr := cl.Credentials()
	if err := e.t.Signaler.Accept(ctx, c.ref, m.ep, LocalTransport{Ufrag: cr.Ufrag, Pwd: cr.Pwd,
		Fingerprint: cl.Fingerprint(), Candidates: []ice.Candidate{cl.Candidate()}}, ssrcs); err != nil {
		return err
	}
	m.allocate = time.Since(t0)
	jt, err := cl.Connect(ctx, alloc.Remote)
	m.jt = jt
	if err != nil {
		return err
	}
	m.total, m.dtlsDone = time.Since(t0), time.Now()
	// Media starts at once, as a browser's does once DTLS is up; the bridge channel follows.
	if err := cl.Start(); err != nil {
		return err
	}
	if err := e.openDataChannel(ctx, m, cl); err != nil {
		return err
	}
	e.sendConstraints(ctx, m, cl)
	return nil
}

// dcAutoTimeout bounds the first data channel attempt in auto mode: a bridge that serves SCTP
// answers within milliseconds on loopback (and well under a second across a WAN).
const dcAutoTimeout = 2 * time.Second

// openDataChannel opens the SCTP bridge channel as the DataChannel option says. Only "on"
// makes a failure fail the join.
func (e *engine) openDataChannel(ctx context.Context, m *member, cl *client.Client) error {
	switch {
	case e.o.DataChannel == "off":
		return nil
	case e.o.DataChannel == "auto" && (!m.alloc.SCTP || e.dcSkip.Load()):
		return nil
	}
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if e.o.DataChannel == "auto" {
		dctx, cancel = context.WithTimeout(ctx, dcAutoTimeout)
	}
	defer cancel()
	d, err := cl.OpenDataChannel(dctx)
	if err == nil {
		m.dc = d
		e.dcOpened.Add(1)
		return nil
	}
	if e.o.DataChannel == "on" {
		return err
	}
	if e.dcOpened.Load() > 0 {
		// The bridge serves SCTP: this endpoint's channel failed (the join goes on without it).
		if e.dcFailed.Add(1) == 1 {
			s := fmt.Sprintf("some data channels did not open (first: %v); those endpoints used the fallback", err)
			e.dcNote.Store(&s)
		}
		return nil
	}
	if !e.dcSkip.Swap(true) {
		s := fmt.Sprintf("the data channel did not open (%v): not tried for the other endpoints", err)
		e.dcNote.Store(&s)
	}
	return nil
}

// sendConstraints delivers the receiver's ReceiverVideoConstraints: on the data channel when
// open (and allowed), else through the target's setter. Failures are counted, not fatal: the
// report says the bridge may then forward no video.
func (e *engine) sendConstraints(ctx context.Context, m *member, cl *client.Client) {
	msg := e.o.Scenario.Constraints(m.conf.stageSource)
	var err error
	via := ""
	switch {
	case m.dc > 0 && e.o.Constraints != "target":
		err, via = cl.SendMessage(bridgechannel.Marshal(msg)), "sctp"
	case e.o.Constraints == "sctp":
		err = client.ErrNoDataChannel
	default:
		err, via = e.t.Constraints.Set(ctx, m.conf.ref, m.ep, m.alloc, msg), e.t.Constraints.Name()
	}
	if err != nil {
		if e.constraintErrs.Add(1) == 1 {
			s := err.Error()
			e.constraintFirst.Store(&s)
		}
		return
	}
	e.constraintVia.CompareAndSwap(nil, &via)
}

// connectedMembers returns the members with a running client.
func (e *engine) connectedMembers() []*member {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*member
	for _, m := range e.members {
		if memberState(m.state.Load()) == stateConnected {
			out = append(out, m)
		}
	}
	return out
}

// teardown closes every client and expires the conferences (bounded).
func (e *engine) teardown() {
	e.joined.Wait()
	e.mu.Lock()
	ms := append([]*member(nil), e.members...)
	confs := append([]*conference(nil), e.confs...)
	e.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, m := range ms {
		if memberState(m.state.Load()) != stateConnected {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer func() { <-sem; wg.Done() }(); m.c.Close() }()
	}
	wg.Wait()
	for _, c := range confs {
		select {
		case <-c.created:
			if c.createErr != nil {
				continue
			}
		default:
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := e.t.Signaler.ExpireConference(ctx, c.ref); err != nil && !errors.Is(err, context.Canceled) {
			e.log.Info("conference expire failed", zap.String("meeting", c.ref.MeetingID), zap.Error(err))
		}
		cancel()
	}
}
