package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"time"

	"github.com/cityjitsi/videobridge/bench/report"
	"github.com/cityjitsi/videobridge/bench/stats"
)

// Run loads the target with the scenario (or runs the capacity finder) and returns the
// result. On failure the result is still returned, partial, with the reason in its outcome;
// err is then the same reason. Every wait is bounded: joins by JoinTimeout, silence by
// StallTimeout, the bridge's death by its process or presence.
func Run(ctx context.Context, o Options, t *Target) (*report.Result, error) {
	o.Defaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.GeneratorCPUs != "" {
		if err := pinSelf(o.GeneratorCPUs); err != nil {
			return nil, err
		}
	}
	e, err := newEngine(ctx, o, t)
	if err != nil {
		return nil, err
	}
	res := newResult(o, t)
	s := newSampler(e)
	sctx, stopSampling := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.run(sctx); close(done) }()
	s.measureIdle(o.IdleMeasure)
	if o.Capacity.Enabled {
		e.capacity(s, res)
	} else {
		e.fixed(s, res)
	}
	stopSampling()
	<-done
	s.progress.done()
	cause := context.Cause(e.ctx)
	res.Series = s.seriesCopy()
	res.Join = e.joinSummary()
	e.finishOutcome(res, cause)
	e.teardown()
	e.cancel(nil)
	res.Ended = time.Now()
	if res.Outcome.Status != "ok" {
		return res, cause
	}
	return res, nil
}

func newResult(o Options, t *Target) *report.Result {
	sc := o.Scenario
	c := o.Commit
	if c == "" {
		c = commit()
	}
	return &report.Result{Schema: report.Schema, Started: time.Now(), Commit: c, Machine: machineInfo(), Bridge: t.Info,
		Scenario: report.ScenarioInfo{Name: sc.Name, Conferences: sc.Conferences, Size: sc.Size, Senders: sc.Senders,
			LastN: sc.LastN, View: string(sc.View)},
		Settings: report.Settings{JoinRate: o.JoinRate, WarmupS: o.Warmup.Seconds(), DurationS: o.Duration.Seconds(),
			SampleEvery: o.SampleEvery, RecvLoss: o.RecvLoss, SendLoss: o.SendLoss,
			SendDelayMs: float64(o.SendDelay) / float64(time.Millisecond), GeneratorCPUs: o.GeneratorCPUs,
			SSRCRewriting: t.SSRCRewriting, Net: t.Net, NetNote: t.NetNote, ReceiverGRO: o.ReceiverGRO, Pacer: o.Pacer}}
}

// sleep waits for d or the run's end; false means the run ended.
func (e *engine) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.ctx.Done():
		return false
	}
}

// fixed is a plain run: join everybody, warm up, measure one window.
func (e *engine) fixed(s *sampler, res *report.Result) {
	s.setPhase("joining")
	e.joinAll(e.addConferences(e.o.Scenario.Conferences))
	if e.ctx.Err() != nil {
		return
	}
	s.setPhase("warm-up")
	if !e.sleep(e.o.Warmup) {
		return
	}
	s.startWindow("measuring")
	e.sleep(e.o.Duration) // a failure mid-window still summarizes the partial window
	sum := s.endWindow()
	res.Steady = &sum
	res.Layers = s.layers()
	res.Outcome.Limited = e.limitedBy(sum)
}

// capacity grows the load step by step until the objective breaks, and reports the largest
// load that held.
func (e *engine) capacity(s *sampler, res *report.Result) {
	co := e.o.Capacity
	res.Capacity = &report.Capacity{Objective: co.Objective(), LimitedBy: "unknown"}
	ms := e.addConferences(e.o.Scenario.Conferences)
	var lastHeld *report.Summary
	for step := 1; ; step++ {
		before := e.failures.Load()
		s.setPhase(fmt.Sprintf("step %d join", step))
		e.joinAll(ms)
		if e.ctx.Err() != nil || !e.sleep(e.o.Warmup) {
			break
		}
		sum, held, why := e.measureStep(s, res, step, int(e.failures.Load()-before))
		lim := e.limitedBy(sum)
		if held {
			res.Capacity.Participants, res.Capacity.LimitedBy = sum.Participants, lim
			held := sum
			lastHeld = &held
		} else {
			res.Capacity.LimitedBy = lim + " (" + why + ")"
		}
		if !held || e.ctx.Err() != nil {
			break
		}
		if lim == "generator" || lim == "bridge and generator" {
			res.Outcome.Notes = append(res.Outcome.Notes, "the generator saturated its CPUs: the capacity is a lower bound")
			break
		}
		if sum.Participants >= co.MaxParticipants {
			res.Outcome.Notes = append(res.Outcome.Notes, fmt.Sprintf("stopped at the %d-participant cap", co.MaxParticipants))
			break
		}
		if g := e.o.Scenario.GrowConferences; g > 0 {
			ms = e.addConferences(g)
		} else {
			ms = e.addReceivers(max(e.o.Scenario.GrowReceivers, 1))
		}
	}
	if lastHeld != nil {
		res.Steady = lastHeld
		res.Outcome.Limited = res.Capacity.LimitedBy
	} else if n := len(res.Steps); n > 0 {
		res.Steady = &res.Steps[n-1].Summary
	}
	res.Layers = s.layers()
}

// noisyCPU is how much CPU other processes may use during a step before a failed step is
// measured again: on a shared machine a neighbour's burst should not decide the capacity.
const noisyCPU = 0.2

// measureStep measures one capacity step's window, once more when it failed while other
// processes were busy, and records it.
func (e *engine) measureStep(s *sampler, res *report.Result, step, joinFailures int) (report.Summary, bool, string) {
	for try := 0; ; try++ {
		s.startWindow(fmt.Sprintf("step %d", step))
		e.sleep(e.o.Capacity.Step)
		sum := s.endWindow()
		held, why := e.objective(sum, joinFailures)
		if !held && try == 0 && joinFailures == 0 && sum.OtherCPU > noisyCPU && e.ctx.Err() == nil {
			why += fmt.Sprintf(" (other processes used %.2f cores: measured again)", sum.OtherCPU)
			res.Steps = append(res.Steps, report.Step{Participants: sum.Participants, Summary: sum, Why: why})
			continue
		}
		res.Steps = append(res.Steps, report.Step{Participants: sum.Participants, Summary: sum, Held: held, Why: why})
		return sum, held, why
	}
}

// objective is the capacity finder's quality objective for one step.
func (e *engine) objective(sum report.Summary, joinFailures int) (bool, string) {
	return Objective(e.o.Capacity, sum, joinFailures)
}

// Objective says whether a step held: no failed joins, loss and p99 latency within bounds.
func Objective(co CapacityOptions, sum report.Summary, joinFailures int) (bool, string) {
	switch {
	case joinFailures > 0:
		return false, fmt.Sprintf("%d joins failed", joinFailures)
	case sum.Loss > co.MaxLoss:
		return false, fmt.Sprintf("loss %.2f %% > %.1f %%", 100*sum.Loss, 100*co.MaxLoss)
	case sum.Latency.Count == 0:
		return false, "no latency samples"
	case sum.Latency.P99 > ms(co.MaxP99):
		return false, fmt.Sprintf("p99 %.1f ms > %v", sum.Latency.P99, co.MaxP99)
	}
	return true, ""
}

// limitedBy says which side ran out of CPU for the engine's target and pinning.
func (e *engine) limitedBy(sum report.Summary) string {
	bridgeCap := float64(runtime.NumCPU())
	if cpus, err := ParseCPUList(e.t.Info.CPUs); err == nil && e.t.Info.CPUs != "" {
		bridgeCap = float64(len(cpus))
	}
	shared := e.t.Info.CPUs == "" && e.o.GeneratorCPUs == "" && e.t.Info.Mode == "local"
	return LimitedBy(sum, Caps{Bridge: bridgeCap, Generator: float64(runtime.GOMAXPROCS(0)),
		Machine: float64(runtime.NumCPU()), Shared: shared})
}

// Caps are the CPUs each side may use.
type Caps struct {
	Bridge, Generator, Machine float64
	Shared                     bool // bridge and generator unpinned on the same machine
}

// saturated is the share of its CPUs at which a side counts as the limit.
const saturated = 0.85

// LimitedBy says which side ran out in a window: the bridge (its CPUs, or its socket's receive
// buffer overflowing), the generator (its CPUs, its send queues or its sockets' receive
// buffers overflowing), both, the shared machine, or neither.
func LimitedBy(sum report.Summary, c Caps) string {
	if sum.BridgeCPU < 0 {
		return "unknown (no bridge CPU figure)"
	}
	bridge := sum.BridgeCPU >= saturated*c.Bridge || sum.BridgeSocketDrops > 0
	gen := sum.GeneratorCPU >= saturated*c.Generator || sum.Counters.SendQueueDrops > 0 || sum.GeneratorSocketDrops > 0
	switch {
	case bridge && gen:
		return "bridge and generator"
	case bridge:
		return "bridge"
	case gen:
		return "generator"
	case c.Shared && sum.BridgeCPU+sum.GeneratorCPU >= saturated*c.Machine:
		return "machine (bridge and generator share the CPUs; pin them with --bridge-cpus and --generator-cpus)"
	}
	return "neither (no CPU saturated)"
}

// joinSummary aggregates every attempted join.
func (e *engine) joinSummary() report.JoinSummary {
	e.mu.Lock()
	ms := append([]*member(nil), e.members...)
	e.mu.Unlock()
	var alloc, iceH, dtlsH, dcH, total, media stats.Histogram
	js := report.JoinSummary{}
	seen := map[string]bool{}
	for _, m := range ms {
		switch memberState(m.state.Load()) {
		case statePlanned, stateJoining:
			continue
		case stateFailed:
			js.Failed++
			if msg := m.err.Error(); !seen[msg] && len(js.Failures) < 5 {
				seen[msg] = true
				js.Failures = append(js.Failures, msg)
			}
		case stateConnected:
			js.Connected++
			iceH.Record(m.jt.ICE)
			dtlsH.Record(m.jt.DTLS)
			total.Record(m.total)
			if m.dc > 0 {
				dcH.Record(m.dc)
			}
			if fm := m.c.FirstMedia(); !fm.IsZero() {
				media.Record(fm.Sub(m.dtlsDone))
			}
		}
		js.Attempted++
		if m.allocate > 0 {
			alloc.Record(m.allocate)
		}
	}
	js.Allocate, js.ICE, js.DTLS, js.Total, js.Media = alloc.Summary(), iceH.Summary(), dtlsH.Summary(), total.Summary(), media.Summary()
	js.DataChannel = dcH.Summary()
	switch {
	case e.o.DataChannel == "off":
		js.DataChannelNote = "not opened (--datachannel off)"
	case js.DataChannel.Count == 0:
		js.DataChannelNote = "not opened: the bridge offered no SCTP or did not answer it"
	}
	sort.Strings(js.Failures)
	return js
}

// finishOutcome records how the run ended and what the reader should know.
func (e *engine) finishOutcome(res *report.Result, cause error) {
	o := &res.Outcome
	switch {
	case cause == nil:
		o.Status = "ok"
	case errors.Is(cause, context.Canceled): // the caller's context: Ctrl-C
		o.Status, o.Error = "interrupted", "interrupted"
	default:
		o.Status, o.Error = "failed", cause.Error()
	}
	if o.Limited == "" {
		o.Limited = "unknown"
	}
	res.Bridge.Constraints = "none"
	if v := e.constraintVia.Load(); v != nil {
		res.Bridge.Constraints = *v
	}
	if n := e.dcNote.Load(); n != nil {
		o.Notes = append(o.Notes, *n)
	}
	if n := e.constraintErrs.Load(); n > 0 {
		first := ""
		if p := e.constraintFirst.Load(); p != nil {
			first = *p
		}
		o.Notes = append(o.Notes, fmt.Sprintf("ReceiverVideoConstraints could not be delivered to %d endpoints (first error: %s); "+
			"a JVB-compatible bridge forwards no video to an endpoint without them", n, first))
	}
	if res.Settings.Net == NetLoopback {
		o.Notes = append(o.Notes, "loopback network: the kernel runs the endpoints' UDP receive path inside the bridge's send "+
			"softirq, so part of the harness's receive work is charged to the bridge's CPU (--net veth gives each side its own)")
	}
	if !res.Settings.SSRCRewriting {
		o.Notes = append(o.Notes, "classic SSRC mode: the ssrc-rewriting capability is not offered (--ssrc-rewriting offers it; stream origins then come from decrypted samples)")
	}
	if s := res.Steady; s != nil && s.OtherCPU > 0.2 {
		o.Notes = append(o.Notes, fmt.Sprintf("other processes used %.2f cores during the window: the machine was shared, read the figures with care", s.OtherCPU))
	}
	o.Notes = append(o.Notes, fmt.Sprintf("latency and layers come from decrypted samples (1 in %d RTP packets per stream); counts, loss and freezes from every packet's clear header", e.o.SampleEvery))
}
