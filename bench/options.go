package bench

import (
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bench/client"
)

// ErrUsage marks bad flags or options: the command prints usage and exits 2.
var ErrUsage = errors.New("usage")

// Options configure a run (independent of how the bridge is reached).
type Options struct {
	Scenario Scenario
	// Warmup runs after the last join before measuring (zero: none); Duration is the measured
	// window.
	Warmup, Duration time.Duration
	// IdleMeasure is how long the bridge's idle CPU is measured before the first join
	// (default 2 s; negative: not measured).
	IdleMeasure time.Duration
	// JoinRate is how many endpoints join per second.
	JoinRate float64
	// JoinTimeout bounds one endpoint's join (allocation, ICE, DTLS; default 30 s, JVB's DTLS
	// handshake timeout). StallTimeout ends the run when no forwarded media arrives for that
	// long while endpoints are connected (default 10 s).
	JoinTimeout, StallTimeout time.Duration
	SampleEvery               int
	RecvLoss, SendLoss        float64
	SendDelay                 time.Duration
	// ReceiverGRO turns on UDP GRO on the endpoints' sockets: a burst the bridge sends as one
	// UDP GSO message then reaches an endpoint as one buffer. Over loopback the kernel charges
	// the endpoints' receive work to the bridge's CPU; with GRO that work is per burst instead
	// of per datagram, closer to a real network where it is not the bridge host's at all.
	ReceiverGRO bool
	// Pacer is the senders' video pacer model: "burst" (libwebrtc's since its 40 ms burst
	// interval: a frame leaves whole) or "interval" (the older 5 ms budget pacer).
	Pacer string
	// DataChannel is whether endpoints open the SCTP bridge channel: "auto" (when the
	// allocation offers SCTP; after a first failure no more tries), "on" (a join fails
	// without it) or "off".
	DataChannel string
	// Constraints is how receivers send ReceiverVideoConstraints: "auto" (the data channel
	// when open, else the target's setter), "sctp" (the data channel only), or "target"
	// (always the target's setter: colibri-ws, HTTP hook or none).
	Constraints string
	// GeneratorCPUs pins the harness (taskset list syntax), "" not pinned.
	GeneratorCPUs string
	// Capacity runs the capacity finder instead of a fixed run.
	Capacity CapacityOptions
	Seed     uint64
	// Progress receives the live progress; Live refreshes one line (a terminal).
	Progress io.Writer
	Live     bool
	Log      *zap.Logger
	// Commit is recorded in the result ("" asks git).
	Commit string
}

// CapacityOptions configure the capacity finder.
type CapacityOptions struct {
	Enabled bool
	// Step is the measured window per step (default 10 s); the settle time is Warmup.
	Step            time.Duration
	MaxParticipants int     // stop growing here (default 1000)
	MaxLoss         float64 // objective: loss above this breaks (default 0.01)
	MaxP99          time.Duration
}

// Objective describes the quality objective.
func (c CapacityOptions) Objective() string {
	return fmt.Sprintf("loss ≤ %.1f %% and p99 latency ≤ %v", 100*c.MaxLoss, c.MaxP99)
}

// Defaults fills zero fields.
func (o *Options) Defaults() {
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.IdleMeasure == 0 {
		o.IdleMeasure = 2 * time.Second
	}
	if o.JoinRate == 0 {
		o.JoinRate = 5
	}
	if o.JoinTimeout == 0 {
		o.JoinTimeout = 30 * time.Second
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = 10 * time.Second
	}
	if o.SampleEvery == 0 {
		o.SampleEvery = 10
	}
	if o.Capacity.Step == 0 {
		o.Capacity.Step = 10 * time.Second
	}
	if o.Capacity.MaxParticipants == 0 {
		o.Capacity.MaxParticipants = 1000
	}
	if o.Capacity.MaxLoss == 0 {
		o.Capacity.MaxLoss = 0.01
	}
	if o.Capacity.MaxP99 == 0 {
		o.Capacity.MaxP99 = 50 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.DataChannel == "" {
		o.DataChannel = "auto"
	}
	if o.Constraints == "" {
		o.Constraints = "auto"
	}
	if o.Pacer == "" {
		o.Pacer = string(client.PacerBurst)
	}
}

// Validate checks the options after Defaults.
func (o *Options) Validate() error {
	if err := o.Scenario.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	switch {
	case o.Warmup < 0 || o.Duration <= 0:
		return fmt.Errorf("%w: --warmup must be ≥ 0 and --duration > 0", ErrUsage)
	case o.JoinRate <= 0 || o.JoinRate > 1000:
		return fmt.Errorf("%w: --join-rate must be in (0, 1000] per second", ErrUsage)
	case o.SampleEvery < 1:
		return fmt.Errorf("%w: --sample-every must be ≥ 1", ErrUsage)
	case o.RecvLoss < 0 || o.RecvLoss >= 1 || o.SendLoss < 0 || o.SendLoss >= 1:
		return fmt.Errorf("%w: loss must be in [0, 1)", ErrUsage)
	case o.SendDelay < 0 || o.SendDelay > 10*time.Second:
		return fmt.Errorf("%w: --delay must be in [0, 10s]", ErrUsage)
	case o.JoinTimeout <= 0 || o.StallTimeout <= 0:
		return fmt.Errorf("%w: timeouts must be positive", ErrUsage)
	}
	if o.DataChannel != "auto" && o.DataChannel != "on" && o.DataChannel != "off" {
		return fmt.Errorf("%w: --datachannel %q (auto, on or off)", ErrUsage, o.DataChannel)
	}
	if o.Pacer != string(client.PacerBurst) && o.Pacer != string(client.PacerInterval) {
		return fmt.Errorf("%w: --pacer %q (burst or interval)", ErrUsage, o.Pacer)
	}
	if o.Constraints != "auto" && o.Constraints != "sctp" && o.Constraints != "target" {
		return fmt.Errorf("%w: constraints delivery %q", ErrUsage, o.Constraints)
	}
	if o.Constraints == "sctp" && o.DataChannel == "off" {
		return fmt.Errorf("%w: --constraints sctp needs the data channel", ErrUsage)
	}
	if o.Capacity.Enabled && (o.Capacity.Step <= 0 || o.Capacity.MaxLoss <= 0 || o.Capacity.MaxP99 <= 0) {
		return fmt.Errorf("%w: capacity step and objective must be positive", ErrUsage)
	}
	return nil
}
