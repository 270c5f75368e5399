package bench

import (
	"context"
	"fmt"
	"github.com/cityjitsi/videobridge/xmpp/xmpptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

var (
	bridgeOnce sync.Once
	bridgeBin  string
	bridgeErr  error
	bridgeDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bridgeDir != "" {
		os.RemoveAll(bridgeDir)
	}
	os.Exit(code)
}

// bridgeBinary builds the bridge once for the tests that run it.
func bridgeBinary(t *testing.T) string {
	t.Helper()
	bridgeOnce.Do(func() {
		if bridgeDir, bridgeErr = os.MkdirTemp("", "bench-bridge"); bridgeErr != nil {
			return
		}
		bridgeBin = filepath.Join(bridgeDir, "videobridge")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bridgeBin, "github.com/cityjitsi/videobridge/cmd/videobridge").CombinedOutput()
		if err != nil {
			bridgeErr = fmt.Errorf("building the bridge: %w\n%s", err, out)
		}
	})
	if bridgeErr != nil {
		t.Fatal(bridgeErr)
	}
	return bridgeBin
}

// TestSmokeLocalBridge is the CI smoke run of the self-contained mode: the real bridge binary,
// a private Prosody, the embedded focus, three endpoints for a few seconds. It asserts that the
// numbers are present and plausible (packets flowed, latency and CPU measured), not how fast.
func TestSmokeLocalBridge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs prosody and builds the bridge binary")
	}
	bin := bridgeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	tg, err := StartLocal(ctx, LocalOptions{BridgeBin: bin, Dir: dir}, zap.NewNop())
	if err != nil {
		t.Fatal(err) // prosody missing says how to install it
	}
	defer tg.Close()
	o := Options{Scenario: Scenarios["smoke"], IdleMeasure: time.Second, Warmup: time.Second, Duration: 3 * time.Second, JoinRate: 20}
	res, err := Run(ctx, o, tg)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, xmpptest.TailFile(filepath.Join(dir, "bridge.log"), 30))
	}
	s := res.Steady
	if res.Join.Connected != 3 || res.Join.ICE.Count != 3 || res.Join.DTLS.Count != 3 || res.Join.Allocate.P50 <= 0 {
		t.Errorf("joins %+v", res.Join)
	}
	if s == nil || s.InPPS <= 0 || s.OutPPS <= 0 || s.Latency.Count == 0 || s.BridgeCPU < 0 || s.CPUPerPacketUs <= 0 ||
		s.RSS <= 0 || s.Heap <= 0 || s.Goroutines <= 0 || s.BridgeReportOut <= 0 {
		t.Fatalf("steady %+v", s)
	}
	if s.Counters.DecryptErrors != 0 || s.Counters.VerifyErrors != 0 {
		t.Errorf("the bridge forwarded packets that fail SRTP or verification: %+v", s.Counters)
	}
	if res.Bridge.Version == "" || res.Bridge.Constraints == "none" {
		t.Errorf("bridge info %+v", res.Bridge)
	}
}

// TestDeploymentMode drives a bridge the way --mode deployment does (a focus joining an
// existing brewery with its own credentials, resources from /metrics and /proc), against a
// Prosody and bridge started here, since the tests stay on loopback.
func TestDeploymentMode(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs prosody and builds the bridge binary")
	}
	bin := bridgeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := StartProsody(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop() }()
	b, err := StartLocalBridge(ctx, bin, t.TempDir(), p, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	tg, err := StartDeployment(ctx, DeploymentOptions{XMPP: p.Addr(), Domain: p.Domain, User: p.Focus.User,
		Pass: p.Focus.Password, Brewery: p.Brewery, BridgeNick: b.Nick, MetricsURL: b.HTTP + "/metrics",
		BridgePID: b.PID(), ConstraintsURL: b.HTTP + DefaultConstraintsPath, ConstraintsMode: "http"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	o := Options{Scenario: Scenarios["smoke"], IdleMeasure: -1, Warmup: time.Second, Duration: 2 * time.Second,
		JoinRate: 20, DataChannel: "off"}
	res, err := Run(ctx, o, tg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Bridge.Mode != "deployment" || res.Bridge.Version == "" || res.Bridge.Constraints != "http-debug" ||
		res.Join.Connected != 3 || res.Steady.OutPPS <= 0 || res.Steady.BridgeCPU < 0 || res.Steady.Heap <= 0 {
		t.Errorf("bridge %+v join %+v steady %+v", res.Bridge, res.Join, res.Steady)
	}
	// The bridge leaving the brewery mid-run ends the run (presence watch), not a hang.
	b.Stop()
	o.Duration, o.StallTimeout = time.Minute, 30*time.Second
	res, err = Run(ctx, o, tg)
	if err == nil || res.Outcome.Status != "failed" {
		t.Errorf("run against a stopped bridge: %v %+v", err, res.Outcome)
	}
}
