package bench

import (
	"errors"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bench/report"
	"github.com/cityjitsi/videobridge/bench/stats"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

func TestScenarios(t *testing.T) {
	for name, s := range Scenarios {
		if err := s.Validate(); err != nil || s.Name != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	want := map[string]int{"meeting-10": 10, "town-hall": 40, "many-small": 100, "lecture": 101}
	for name, n := range want {
		if got := Scenarios[name].Participants(); got != n {
			t.Errorf("%s: %d participants, want %d", name, got, n)
		}
	}
	bad := Scenarios["meeting-10"]
	bad.Senders, bad.View = 0, "gallery"
	if err := bad.Validate(); !errors.Is(err, ErrScenario) {
		t.Errorf("invalid scenario accepted: %v", err)
	}
}

// TestConstraintsMessages compares the whole JSON a receiver sends in each view with what
// jitsi-meet sends (media.md §1.3).
func TestConstraintsMessages(t *testing.T) {
	th := Scenarios["town-hall"]
	got := string(bridgechannel.Marshal(th.Constraints("abcd1234-v0")))
	want := `{"colibriClass":"ReceiverVideoConstraints","lastN":20,"onStageSources":["abcd1234-v0"],` +
		`"defaultConstraints":{"maxHeight":180,"maxFrameRate":-1.0},"constraints":{"abcd1234-v0":{"maxHeight":720,"maxFrameRate":-1.0}},` +
		`"assumedBandwidthBps":-1}`
	if got != want {
		t.Errorf("stage view:\n got %s\nwant %s", got, want)
	}
	ms := Scenarios["many-small"]
	got = string(bridgechannel.Marshal(ms.Constraints("abcd1234-v0")))
	want = `{"colibriClass":"ReceiverVideoConstraints","lastN":-1,"defaultConstraints":{"maxHeight":360,"maxFrameRate":-1.0},"assumedBandwidthBps":-1}`
	if got != want {
		t.Errorf("tile view:\n got %s\nwant %s", got, want)
	}
	if th.AskedHeight(true) != 720 || th.AskedHeight(false) != 180 || ms.AskedHeight(true) != 360 {
		t.Error("asked heights")
	}
}

func TestObjective(t *testing.T) {
	co := CapacityOptions{MaxLoss: 0.01, MaxP99: 50 * time.Millisecond}
	good := report.Summary{Loss: 0.001, Latency: stats.Quantiles{Count: 10, P99: 12}}
	for _, tc := range []struct {
		name     string
		sum      report.Summary
		failures int
		held     bool
		why      string
	}{
		{"held", good, 0, true, ""},
		{"loss", report.Summary{Loss: 0.02, Latency: good.Latency}, 0, false, "loss 2.00 % > 1.0 %"},
		{"latency", report.Summary{Latency: stats.Quantiles{Count: 10, P99: 51}}, 0, false, "p99 51.0 ms > 50ms"},
		{"no samples", report.Summary{}, 0, false, "no latency samples"},
		{"joins", good, 2, false, "2 joins failed"},
	} {
		held, why := Objective(co, tc.sum, tc.failures)
		if held != tc.held || why != tc.why {
			t.Errorf("%s: %v %q, want %v %q", tc.name, held, why, tc.held, tc.why)
		}
	}
}

func TestLimitedBy(t *testing.T) {
	pinned := Caps{Bridge: 1, Generator: 1, Machine: 2}
	shared := Caps{Bridge: 2, Generator: 2, Machine: 2, Shared: true}
	for _, tc := range []struct {
		sum  report.Summary
		caps Caps
		want string
	}{
		{report.Summary{BridgeCPU: 0.95, GeneratorCPU: 0.3}, pinned, "bridge"},
		{report.Summary{BridgeCPU: 0.5, GeneratorCPU: 0.9}, pinned, "generator"},
		{report.Summary{BridgeCPU: 0.5, GeneratorCPU: 0.1, Counters: report.Counters{SendQueueDrops: 1}}, pinned, "generator"},
		{report.Summary{BridgeCPU: 0.9, GeneratorCPU: 0.9}, pinned, "bridge and generator"},
		{report.Summary{BridgeCPU: 0.9, GeneratorCPU: 0.9}, shared, "machine (bridge and generator share the CPUs; pin them with --bridge-cpus and --generator-cpus)"},
		{report.Summary{BridgeCPU: 0.2, GeneratorCPU: 0.2}, pinned, "neither (no CPU saturated)"},
		{report.Summary{BridgeCPU: -1}, pinned, "unknown (no bridge CPU figure)"},
		{report.Summary{BridgeCPU: 0.3, GeneratorCPU: 0.3, GeneratorSocketDrops: 10}, pinned, "generator"},
		{report.Summary{BridgeCPU: 0.3, GeneratorCPU: 0.3, BridgeSocketDrops: 10}, pinned, "bridge"},
	} {
		if got := LimitedBy(tc.sum, tc.caps); got != tc.want {
			t.Errorf("%+v %+v: %q, want %q", tc.sum, tc.caps, got, tc.want)
		}
	}
}
