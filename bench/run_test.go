package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bench/client"
	"github.com/cityjitsi/videobridge/bench/internal/loopsfu"
	"github.com/cityjitsi/videobridge/bench/report"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// loopSignaler plays the bridge's control plane for loopsfu, in process.
type loopSignaler struct {
	sfu       *loopsfu.SFU
	noForward bool  // accept endpoints but forward nothing (a stalled bridge)
	refuse    error // answer every allocation with this
}

func (l *loopSignaler) Allocate(_ context.Context, conf ConferenceRef, _ bool, ep EndpointRef) (Allocation, error) {
	if l.refuse != nil {
		return Allocation{}, l.refuse
	}
	loc, err := l.sfu.Allocate(conf.MeetingID, ep.ID)
	if err != nil {
		return Allocation{}, err
	}
	return Allocation{Remote: client.Remote{Ufrag: loc.Ufrag, Pwd: loc.Pwd,
		Fingerprints: map[string][]string{"sha-256": {loc.Fingerprint}}, Candidates: loc.Candidates}, SCTP: true}, nil
}

func (l *loopSignaler) Accept(_ context.Context, conf ConferenceRef, ep EndpointRef, lt LocalTransport, ssrcs *client.SSRCs) error {
	var fwd []uint32
	if ssrcs != nil && !l.noForward {
		fwd = []uint32{ssrcs.Audio, ssrcs.Video[0]}
	}
	return l.sfu.Accept(conf.MeetingID, ep.ID, endpoint.Remote{Ufrag: lt.Ufrag, Pwd: lt.Pwd,
		Fingerprints: map[string][]string{"sha-256": {lt.Fingerprint}}, Candidates: lt.Candidates}, fwd)
}

func (l *loopSignaler) ExpireConference(_ context.Context, conf ConferenceRef) error {
	l.sfu.ExpireConference(conf.MeetingID)
	return nil
}

// recordingConstraints keeps what receivers asked for.
type recordingConstraints struct {
	mu  sync.Mutex
	got map[string]*bridgechannel.ReceiverVideoConstraints
}

func (r *recordingConstraints) Name() string { return "recorded" }
func (r *recordingConstraints) Set(_ context.Context, _ ConferenceRef, ep EndpointRef, _ Allocation, m *bridgechannel.ReceiverVideoConstraints) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[ep.ID] = m
	return nil
}
func (r *recordingConstraints) Close() {}

func loopTarget(t *testing.T, sig *loopSignaler) (*Target, *recordingConstraints) {
	t.Helper()
	sfu, err := loopsfu.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sfu.Close)
	sig.sfu = sfu
	rc := &recordingConstraints{got: map[string]*bridgechannel.ReceiverVideoConstraints{}}
	return &Target{Signaler: sig, Constraints: rc, Probe: ProcProbe{PID: os.Getpid()},
		Info: report.BridgeInfo{Mode: "in-process loopsfu", Version: "loopsfu"}}, rc
}

func smokeOptions() Options {
	sc := Scenarios["smoke"]
	sc.View = ViewStage
	return Options{Scenario: sc, IdleMeasure: 300 * time.Millisecond, Warmup: 500 * time.Millisecond, Duration: 2 * time.Second, JoinRate: 50,
		SampleEvery: 5, StallTimeout: 5 * time.Second, JoinTimeout: 20 * time.Second}
}

// TestRunThroughForwarder is the harness's own smoke run: three endpoints through the loopback
// forwarder. It asserts that the numbers are present and plausible, not how fast they are.
func TestRunThroughForwarder(t *testing.T) {
	t.Parallel()
	sig := &loopSignaler{}
	tg, rc := loopTarget(t, sig)
	res, err := Run(context.Background(), smokeOptions(), tg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Outcome.Status != "ok" || res.Join.Connected != 3 || res.Join.Failed != 0 {
		t.Fatalf("outcome %+v join %+v", res.Outcome, res.Join)
	}
	s := res.Steady
	if s == nil || s.Participants != 3 || s.InPPS <= 0 || s.OutPPS <= 0 || s.Latency.Count == 0 ||
		s.VideoLatency.Count == 0 || s.AudioLatency.Count == 0 || s.Loss != 0 || s.BridgeCPU < 0 || s.CPUPerPacketUs <= 0 ||
		s.BridgeIdleCPU < 0 || s.CPUPerPacketMarginalUs < 0 {
		t.Fatalf("steady %+v", s)
	}
	if s.Counters.DecryptErrors != 0 || s.Counters.VerifyErrors != 0 || s.Counters.Sampled == 0 {
		t.Errorf("counters %+v", s.Counters)
	}
	for _, q := range []float64{res.Join.Allocate.P50, res.Join.ICE.P50, res.Join.DTLS.P50, res.Join.Total.P50} {
		if q <= 0 {
			t.Errorf("join phases not measured: %+v", res.Join)
		}
	}
	if res.Join.Media.Count != 3 {
		t.Errorf("first media measured for %d endpoints, want 3", res.Join.Media.Count)
	}
	// The forwarder sends the first encoding (180p); stage view asks 720 of the stage sender.
	if len(res.Layers) != 2 || res.Layers[0].Asked != 180 || res.Layers[1].Asked != 720 ||
		res.Layers[1].Received["180"] == 0 || res.Layers[1].Received["720"] != 0 {
		t.Errorf("layers %+v", res.Layers)
	}
	if len(res.Series) < 2 {
		t.Errorf("%d samples", len(res.Series))
	}
	// Constraints went over the SCTP bridge channel, opened by every endpoint.
	if res.Bridge.Constraints != "sctp" || res.Join.DataChannel.Count != 3 || len(rc.got) != 0 {
		t.Errorf("constraints via %q, %d data channels, %d through the target", res.Bridge.Constraints,
			res.Join.DataChannel.Count, len(rc.got))
	}
	ids := sig.sfu.EndpointIDs()
	if len(ids) != 3 {
		t.Errorf("%d endpoints sent bridge-channel messages, want 3", len(ids))
	}
	for _, id := range ids {
		for _, m := range sig.sfu.Messages(id) {
			if !strings.Contains(m, `"onStageSources"`) || !strings.Contains(m, `"maxHeight":720`) {
				t.Errorf("constraints on the data channel: %s", m)
			}
		}
	}
	dir := t.TempDir()
	if err := report.WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"result.json", "summary.md", "report.html", "cpu.svg", "packets.svg", "latency.svg", "vs-participants.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	back, err := report.Load(filepath.Join(dir, "result.json"))
	if err != nil || back.Steady.OutPPS != s.OutPPS {
		t.Errorf("reload: %v", err)
	}
}

// TestRunStalledBridge: endpoints connect but nothing is forwarded: the run ends after the
// stall timeout with ErrNoMedia and a partial result, not a hang. Constraints go through the
// target's setter here (no data channel).
func TestRunStalledBridge(t *testing.T) {
	t.Parallel()
	tg, rc := loopTarget(t, &loopSignaler{noForward: true})
	o := smokeOptions()
	o.StallTimeout, o.Duration = time.Second, time.Minute
	o.DataChannel, o.Constraints = "off", "target"
	res, err := Run(context.Background(), o, tg)
	if !errors.Is(err, ErrNoMedia) {
		t.Fatalf("err %v, want ErrNoMedia", err)
	}
	if res.Outcome.Status != "failed" || res.Join.Connected != 3 || res.Steady == nil || res.Steady.OutPPS != 0 {
		t.Errorf("outcome %+v join %+v", res.Outcome, res.Join)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 3 || res.Bridge.Constraints != "recorded" || res.Join.DataChannelNote == "" {
		t.Errorf("constraints through the target: %d, via %q", len(rc.got), res.Bridge.Constraints)
	}
	for id, m := range rc.got {
		if m.OnStageSources == nil || len(*m.OnStageSources) != 1 || m.Constraints[(*m.OnStageSources)[0]].MaxHeight != 720 ||
			m.DefaultConstraints == nil || m.DefaultConstraints.MaxHeight != 180 {
			t.Errorf("constraints of %s: %s", id, bridgechannel.Marshal(m))
		}
	}
}

// TestRunRefusingBridge: every allocation refused: the run stops after a few failures with
// the bridge's answer in the report.
func TestRunRefusingBridge(t *testing.T) {
	t.Parallel()
	refusal := errors.New("bench: bridge refused: service-unavailable (graceful-shutdown)")
	tg, _ := loopTarget(t, &loopSignaler{refuse: refusal})
	o := smokeOptions()
	o.Scenario.Size = 8
	res, err := Run(context.Background(), o, tg)
	if !errors.Is(err, refusal) || res.Outcome.Status != "failed" || res.Join.Connected != 0 || res.Join.Failed == 0 ||
		len(res.Join.Failures) == 0 {
		t.Fatalf("err %v outcome %+v join %+v", err, res.Outcome, res.Join)
	}
}

// TestRunBridgeExit: the bridge process ends mid-run: the run fails with its exit report.
func TestRunBridgeExit(t *testing.T) {
	t.Parallel()
	tg, _ := loopTarget(t, &loopSignaler{})
	exited := make(chan struct{})
	tg.Exited, tg.ExitReport = exited, func() string { return "exit status 2; last log lines: panic: boom" }
	o := smokeOptions()
	o.Duration = time.Minute
	time.AfterFunc(time.Second, func() { close(exited) })
	res, err := Run(context.Background(), o, tg)
	if !errors.Is(err, ErrBridgeExited) || res.Outcome.Status != "failed" {
		t.Fatalf("err %v outcome %+v", err, res.Outcome)
	}
	if want := "panic: boom"; !strings.Contains(res.Outcome.Error, want) {
		t.Errorf("error %q does not carry the exit report", res.Outcome.Error)
	}
}

// TestCapacityFinder grows the smoke scenario one conference per step: with a loose objective
// it stops at the participant cap; with an impossible one the first step breaks it.
func TestCapacityFinder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		maxP99 time.Duration
		steps  int
		held   int
	}{
		{"cap reached", time.Second, 2, 6},
		{"objective broken", time.Microsecond, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, _ := loopTarget(t, &loopSignaler{})
			o := smokeOptions()
			o.Warmup = 300 * time.Millisecond
			o.Capacity = CapacityOptions{Enabled: true, Step: time.Second, MaxParticipants: 6, MaxP99: tc.maxP99}
			res, err := Run(context.Background(), o, tg)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Capacity
			if len(res.Steps) != tc.steps || c == nil || c.Participants != tc.held || res.Steps[0].Participants != 3 {
				t.Fatalf("steps %+v capacity %+v", res.Steps, c)
			}
			if tc.held == 0 && (res.Steps[0].Held || !strings.HasPrefix(res.Steps[0].Why, "p99")) {
				t.Errorf("first step %+v", res.Steps[0])
			}
		})
	}
}

// TestRunWithoutSCTP: the allocation offers SCTP but the bridge does not answer it: the first
// endpoint gives up after dcAutoTimeout, the others do not try, and constraints take the
// target's path.
func TestRunWithoutSCTP(t *testing.T) {
	t.Parallel()
	sig := &loopSignaler{}
	tg, rc := loopTarget(t, sig)
	sig.sfu.NoSCTP.Store(true)
	res, err := Run(context.Background(), smokeOptions(), tg)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if res.Join.DataChannel.Count != 0 || res.Join.DataChannelNote == "" || len(rc.got) != 3 || res.Bridge.Constraints != "recorded" {
		t.Errorf("join %+v, %d constraints via %q", res.Join, len(rc.got), res.Bridge.Constraints)
	}
	found := false
	for _, n := range res.Outcome.Notes {
		found = found || strings.Contains(n, "not tried for the other endpoints")
	}
	if !found {
		t.Errorf("notes %q", res.Outcome.Notes)
	}
}
