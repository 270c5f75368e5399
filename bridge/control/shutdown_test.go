package control

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

type shutdownView struct {
	State                  string
	GracefulStat, ShutStat bool
	Shutdowns              int
}

func viewShutdown(tb *testBridge) shutdownView {
	stats := tb.Stats()
	return shutdownView{
		State:        tb.ShutdownState(),
		GracefulStat: statValue(stats, "graceful_shutdown") == true,
		ShutStat:     statValue(stats, "shutting_down") == true,
		Shutdowns:    len(tb.shutdowns),
	}
}

func TestGracefulShutdown(t *testing.T) {
	const maxDur, delay = 3 * time.Hour, 30 * time.Second
	opts := func(min int) func(*Options) {
		return func(o *Options) {
			o.GracefulShutdownMinParticipants, o.GracefulShutdownMaxDuration, o.ShuttingDownDelay = min, maxDur, delay
		}
	}
	running := shutdownView{State: ShutdownRunning}
	graceful := shutdownView{State: ShutdownGraceful, GracefulStat: true}
	shutting := shutdownView{State: ShutdownShuttingDown, GracefulStat: true, ShutStat: true}
	exited := shutdownView{State: ShutdownShuttingDown, GracefulStat: true, ShutStat: true, Shutdowns: 1}

	tests := []struct {
		name      string
		min       int
		endpoints []string
		steps     []func(*testing.T, *testBridge)
		want      []shutdownView // after each step
	}{
		{
			name:  "idle bridge goes straight to SHUTTING_DOWN, exits after the delay",
			steps: []func(*testing.T, *testBridge){start, fire(delay)},
			want:  []shutdownView{shutting, exited},
		},
		{
			name:      "leaves graceful shutdown when the last endpoint expires",
			endpoints: []string{"a", "b"},
			steps:     []func(*testing.T, *testBridge){start, expire("a"), expire("b"), fire(delay)},
			want:      []shutdownView{graceful, graceful, shutting, exited},
		},
		{
			name:      "min participants threshold",
			min:       1,
			endpoints: []string{"a", "b"},
			steps:     []func(*testing.T, *testBridge){start, expire("a")},
			want:      []shutdownView{graceful, shutting},
		},
		{
			name:      "max duration",
			endpoints: []string{"a"},
			steps:     []func(*testing.T, *testBridge){start, fire(maxDur), fire(delay)},
			want:      []shutdownView{graceful, shutting, exited},
		},
		{
			name:      "second graceful request is a no-op",
			endpoints: []string{"a"},
			steps:     []func(*testing.T, *testBridge){start, start, expire("a")},
			want:      []shutdownView{graceful, graceful, shutting},
		},
		{
			name:      "non-graceful shutdown skips GRACEFUL_SHUTDOWN (graceful_shutdown stays false)",
			endpoints: []string{"a"},
			steps:     []func(*testing.T, *testBridge){stop, fire(delay)},
			want: []shutdownView{{State: ShutdownShuttingDown, ShutStat: true},
				{State: ShutdownShuttingDown, ShutStat: true, Shutdowns: 1}},
		},
		{
			name:      "endpoint expiry while RUNNING does nothing",
			endpoints: []string{"a", "b"},
			steps:     []func(*testing.T, *testBridge){expire("a")},
			want:      []shutdownView{running},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBridge(t, opts(tt.min))
			for i, id := range tt.endpoints {
				mustDo(t, tb.Videobridge, allocate(meeting, i == 0, createEP(id)))
			}
			for i, step := range tt.steps {
				step(t, tb)
				if got := viewShutdown(tb); !reflect.DeepEqual(got, tt.want[i]) {
					t.Fatalf("after step %d: got %+v, want %+v", i, got, tt.want[i])
				}
			}
		})
	}
}

func start(_ *testing.T, tb *testBridge) { tb.StartGracefulShutdown() }
func stop(_ *testing.T, tb *testBridge)  { tb.StartShutdown() }

func fire(d time.Duration) func(*testing.T, *testBridge) {
	return func(t *testing.T, tb *testBridge) {
		t.Helper()
		if tb.timers.fire(d) != 1 {
			t.Fatalf("no pending %v timer", d)
		}
	}
}

func expire(id string) func(*testing.T, *testBridge) {
	return func(t *testing.T, tb *testBridge) {
		t.Helper()
		mustDo(t, tb.Videobridge, update(meeting, expireEP(id)))
	}
}

// TestGracefulShutdownKeepsExistingConferences: in graceful shutdown existing conferences still
// take new endpoints (§5.4); only new conferences are refused.
func TestGracefulShutdownKeepsExistingConferences(t *testing.T) {
	tb := newTestBridge(t, nil)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	tb.StartGracefulShutdown()
	mustDo(t, tb.Videobridge, allocate(meeting, false, createEP("b")))
	if _, err := do(t, tb.Videobridge, allocate("new", true, createEP("c"))); !reflect.DeepEqual(err, errGracefulShutdown()) {
		t.Fatalf("create in graceful shutdown: %v", err)
	}
	// The max-duration timer is replaced by the delay timer on the way to SHUTTING_DOWN.
	mustDo(t, tb.Videobridge, expireConf(meeting))
	if got := tb.ShutdownState(); got != ShutdownShuttingDown {
		t.Fatalf("state %s", got)
	}
	if tb.timers.pending(DefaultGracefulShutdownMaxDuration) != 0 || tb.timers.pending(DefaultShuttingDownDelay) != 1 {
		t.Fatal("timers not switched")
	}
	tb.Close()
	if tb.timers.pending(DefaultShuttingDownDelay) != 0 {
		t.Fatal("Close left the shutdown timer running")
	}
}

func TestDrainAndHealth(t *testing.T) {
	tb := newTestBridge(t, func(o *Options) { o.InitialDrain = true })
	if !tb.Drain() || statValue(tb.Stats(), "drain") != true {
		t.Fatal("initial drain not applied")
	}
	tb.SetDrain(false)
	if tb.Drain() || statValue(tb.Stats(), "drain") != false {
		t.Fatal("drain not disabled")
	}
	// Drain does not refuse creates.
	tb.SetDrain(true)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))

	if err := tb.Health(); err != nil || statValue(tb.Stats(), "healthy") != true {
		t.Fatalf("default health %v", err)
	}
	boom := errors.New("No valid IP addresses available for harvesting.")
	tb.SetHealthCheck(func() error { return boom })
	if err := tb.Health(); !errors.Is(err, boom) || statValue(tb.Stats(), "healthy") != false {
		t.Fatalf("health %v", err)
	}
	tb.SetHealthCheck(nil)
	if tb.Health() != nil {
		t.Fatal("health check not removed")
	}
}
