package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bench/report"
	"github.com/cityjitsi/videobridge/xmpp/xmpptest"
)

func TestChildNet(t *testing.T) {
	n, err := NewVethNet(5, "0", "1")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(netChildEnv, `{"harness_ns":"vbh-5","bridge_ns":"vbb-5","harness_dev":"vbh0","bridge_dev":"vbb0",`+
		`"harness_addr":"10.203.0.1","bridge_addr":"10.203.0.2","harness_rps":"1","bridge_rps":"2","generator_cpus":"0","bridge_cpus":"1"}`)
	got, err := childNet()
	if err != nil || got == nil || *got != n {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, set := os.LookupEnv(netChildEnv); set {
		t.Error("the variable must not reach the bridge and Prosody")
	}
	for _, bad := range []string{"{", `{"harness_ns":"vbh-5"}`, `{"harness_ns":"a","bridge_ns":"b","harness_addr":"x"}`} {
		t.Setenv(netChildEnv, bad)
		if _, err := childNet(); !errors.Is(err, ErrNetns) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	os.Unsetenv(netChildEnv)
	if n, err := childNet(); n != nil || err != nil {
		t.Errorf("without the variable: %v %v", n, err)
	}
}

// benchBinary builds cmd/bench: --net veth re-executes the binary inside a namespace, so
// the real command is what runs.
func benchBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bench")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/cityjitsi/videobridge/cmd/bench").CombinedOutput(); err != nil {
		t.Fatalf("building bench: %v\n%s", err, out)
	}
	return bin
}

// vethLeftovers lists what a run with harness PID pid may have left: its namespaces, and
// bridge processes using a jvb.conf in its results folder out (other tests run bridges from
// the same binary at the same time).
func vethLeftovers(t *testing.T, pid int, out string) []string {
	t.Helper()
	list, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v %s", err, list)
	}
	var left []string
	for _, line := range strings.Split(string(list), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == fmt.Sprintf("vbh-%d", pid) || f[0] == fmt.Sprintf("vbb-%d", pid)) {
			left = append(left, "namespace "+f[0])
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), filepath.Join(out, "jvb.conf")) {
			left = append(left, "bridge process "+p)
		}
	}
	return left
}

// TestVethRun runs the real command with --net veth: a smoke-sized run whose packets cross
// the veth pair, a run interrupted by SIGTERM, and one whose bridge cannot start. Every one
// must leave neither namespace nor bridge behind. It needs root and iproute2 (CI has both).
func TestVethRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs root, iproute2 and prosody, and builds both binaries")
	}
	if os.Geteuid() != 0 {
		t.Skip("--net veth needs root to create network namespaces (CI runs the tests as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("--net veth needs iproute2 (apt-get install -y iproute2): %v", err)
	}
	bridge, err := filepath.Abs(bridgeBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	bench := benchBinary(t)
	pin := runtime.NumCPU() >= 2
	run := func(t *testing.T, out string, extra []string, during func(*exec.Cmd)) (int, *report.Result) {
		args := []string{"--net", "veth", "--scenario", "smoke", "--idle", "500ms", "--warmup", "1s", "--join-rate", "50",
			"--bridge-bin", bridge, "--out", out, "--progress", "none"}
		if pin {
			args = append(args, "--bridge-cpus", "1", "--generator-cpus", "0")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bench, append(args, extra...)...)
		var outb, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &outb, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if during != nil {
			during(cmd)
		}
		err := cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if left := vethLeftovers(t, cmd.Process.Pid, out); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
		r, err := report.Load(filepath.Join(out, "result.json"))
		if err != nil {
			t.Fatalf("exit %d, no result: %v\nstdout %s\nstderr %s", code, err, outb.String(), errb.String())
		}
		t.Logf("exit %d\nstdout %s\nstderr %s", code, outb.String(), errb.String())
		return code, r
	}

	t.Run("forwards", func(t *testing.T) {
		out := t.TempDir()
		code, r := run(t, out, []string{"--duration", "3s"}, nil)
		s := r.Steady
		if code != 0 || r.Outcome.Status != "ok" || r.Join.Connected != 3 || s == nil || s.OutPPS <= 0 || s.Latency.Count == 0 ||
			s.BridgeCPU < 0 || s.CPUPerPacketUs <= 0 || s.BridgeReportOut <= 0 {
			t.Fatalf("exit %d outcome %+v join %+v steady %+v\nbridge log:\n%s", code, r.Outcome, r.Join, s,
				xmpptest.TailFile(filepath.Join(out, "bridge.log"), 30))
		}
		if r.Settings.Net != NetVeth || !strings.Contains(r.Settings.NetNote, "veth pair between namespaces vbh-") ||
			pin != strings.Contains(r.Settings.NetNote, "bridge receive softirq on CPUs 1 (RPS mask 2)") {
			t.Errorf("network %q: %q", r.Settings.Net, r.Settings.NetNote)
		}
		conf, _ := os.ReadFile(filepath.Join(out, "jvb.conf"))
		if !strings.Contains(string(conf), `HOSTNAME = "10.203.0.1"`) || !strings.Contains(string(conf), `host = "10.203.0.2"`) {
			t.Errorf("jvb.conf does not use the veth addresses:\n%s", conf)
		}
		md, _ := os.ReadFile(filepath.Join(out, "summary.md"))
		if !strings.Contains(string(md), "| network | veth: ") {
			t.Error("summary.md does not name the network")
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		out := t.TempDir()
		code, r := run(t, out, []string{"--duration", "1m"}, func(c *exec.Cmd) {
			// Signal once the endpoints are sending (the first progress sample has landed in
			// the bench log), bounded.
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if b, err := os.ReadFile(filepath.Join(out, "bridge.log")); err == nil && len(b) > 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(3 * time.Second)
			_ = c.Process.Signal(syscall.SIGTERM)
		})
		if code != 1 || (r.Outcome.Status != "interrupted" && r.Outcome.Status != "failed") || r.Settings.Net != NetVeth {
			t.Errorf("exit %d outcome %+v net %q", code, r.Outcome, r.Settings.Net)
		}
	})

	t.Run("bridge cannot start", func(t *testing.T) {
		// A killed run's namespace (its harness PID is gone) is removed by the next run.
		gone := exec.Command("true")
		if err := gone.Run(); err != nil {
			t.Fatal(err)
		}
		stale := fmt.Sprintf("vbh-%d", gone.ProcessState.Pid())
		if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		out := t.TempDir()
		code, r := run(t, out, []string{"--duration", "3s", "--bridge-config", "videobridge.ice.udp.port = \"not a port\"\n"}, nil)
		if code != 1 || r.Outcome.Status != "failed" || !strings.Contains(r.Outcome.Error, "bridge not ready") || r.Settings.Net != NetVeth {
			t.Errorf("exit %d outcome %+v net %q", code, r.Outcome, r.Settings.Net)
		}
		if left := vethLeftovers(t, gone.ProcessState.Pid(), out); len(left) > 0 {
			_ = exec.Command("ip", "netns", "del", stale).Run()
			t.Errorf("stale namespace not removed: %v", left)
		}
	})
}
