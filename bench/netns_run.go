package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cityjitsi/videobridge/bench/report"
)

// netChildEnv carries the VethNet (JSON) to the harness re-executed inside the harness
// namespace: re-executing is the robust way in, since setns(2) moves only the calling thread
// and the Go runtime runs goroutines on threads of its choosing.
const netChildEnv = "VIDEOBRIDGE_BENCH_NET_CHILD"

const (
	// ipTimeout bounds each ip(8) invocation.
	ipTimeout = 10 * time.Second
	// childGrace is how long the re-executed harness has to write its partial results after
	// SIGINT/SIGTERM before it is killed.
	childGrace = 30 * time.Second
	// leftoverGrace is how long processes still in a namespace at teardown (a bridge or
	// Prosody whose harness was killed) have between SIGTERM and SIGKILL.
	leftoverGrace = 5 * time.Second
)

// childNet is the veth network this process was re-executed into, nil when it is not such a
// child. The variable is cleared so the bridge and Prosody do not inherit it.
func childNet() (*VethNet, error) {
	v, ok := os.LookupEnv(netChildEnv)
	if !ok {
		return nil, nil
	}
	_ = os.Unsetenv(netChildEnv)
	var n VethNet
	if err := json.Unmarshal([]byte(v), &n); err != nil {
		return nil, fmt.Errorf("%w: malformed %s: %w", ErrNetns, netChildEnv, err)
	}
	if n.HarnessNS == "" || n.BridgeNS == "" || !n.HarnessAddr.IsValid() || !n.BridgeAddr.IsValid() {
		return nil, fmt.Errorf("%w: incomplete %s", ErrNetns, netChildEnv)
	}
	return &n, nil
}

// vethPreflight checks what --net veth needs before anything is created.
func vethPreflight() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: --net veth needs root (it creates network namespaces and a veth pair); run it as root or with sudo", ErrNetns)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: --net veth needs iproute2's ip command (apt-get install -y iproute2): %w", ErrNetns, err)
	}
	return nil
}

// runIP runs one command with a deadline and returns its output; the error carries the
// output, which is where ip(8) explains itself.
func runIP(ctx context.Context, argv []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ipTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s: %w: %s", ErrNetns, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// setupVeth builds the network and applies and verifies RPS. On error the caller tears down
// what exists.
func setupVeth(ctx context.Context, n VethNet) error {
	for _, c := range n.SetupCommands() {
		if _, err := runIP(ctx, c); err != nil {
			return err
		}
	}
	for _, s := range n.RPSSteps() {
		if _, err := runIP(ctx, s.Write); err != nil {
			return fmt.Errorf("%w (is the kernel built with CONFIG_RPS?)", err)
		}
		got, err := runIP(ctx, s.Read)
		if err != nil {
			return err
		}
		if !sameMask(got, s.Mask) {
			return fmt.Errorf("%w: the %s side's rps_cpus reads %q after writing %q", ErrNetns, s.Side, strings.TrimSpace(got), s.Mask)
		}
	}
	return nil
}

// teardownVeth ends what is left in the namespaces (normally nothing: the harness stops the
// bridge and Prosody itself; after a crash or SIGKILL they would outlive it) and deletes both
// namespaces, which removes the veth pair. A namespace that does not exist is not an error.
func teardownVeth(n VethNet, stderr io.Writer) {
	ctx := context.Background()
	for _, ns := range []string{n.HarnessNS, n.BridgeNS} {
		if !nsExists(ctx, ns) {
			continue
		}
		endLeftovers(ctx, ns, stderr)
	}
	for _, c := range n.TeardownCommands() {
		if !nsExists(ctx, c[len(c)-1]) {
			continue
		}
		if _, err := runIP(ctx, c); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
		}
	}
}

func nsExists(ctx context.Context, ns string) bool {
	out, err := runIP(ctx, []string{"ip", "netns", "list"})
	if err != nil {
		return true // let the delete say why
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == ns {
			return true
		}
	}
	return false
}

// nsPIDs are the processes in a namespace.
func nsPIDs(ctx context.Context, ns string) []int {
	out, err := runIP(ctx, []string{"ip", "netns", "pids", ns})
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if p, err := strconv.Atoi(f); err == nil && p > 0 {
			pids = append(pids, p)
		}
	}
	return pids
}

// endLeftovers stops the processes this run left in its namespace: SIGTERM, then SIGKILL.
func endLeftovers(ctx context.Context, ns string, stderr io.Writer) {
	pids := nsPIDs(ctx, ns)
	if len(pids) == 0 {
		return
	}
	fmt.Fprintf(stderr, "bench: stopping processes left in %s: %v\n", ns, pids)
	for _, p := range pids {
		_ = unix.Kill(p, unix.SIGTERM)
	}
	deadline := time.Now().Add(leftoverGrace)
	for time.Now().Before(deadline) && len(nsPIDs(ctx, ns)) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range nsPIDs(ctx, ns) {
		_ = unix.Kill(p, unix.SIGKILL)
	}
}

// pidAlive says whether a process exists (EPERM: it exists but is not ours to signal).
func pidAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// removeStaleNamespaces deletes vbh-*/vbb-* namespaces whose harness is gone. Processes still
// inside are left alone (they belong to that run, not this one) but named, since a leftover
// bridge on the pinned CPUs would distort this run's figures.
func removeStaleNamespaces(ctx context.Context, stderr io.Writer) {
	out, err := runIP(ctx, []string{"ip", "netns", "list"})
	if err != nil {
		return
	}
	for _, ns := range staleNamespaces(out, pidAlive) {
		if pids := nsPIDs(ctx, ns); len(pids) > 0 {
			fmt.Fprintf(stderr, "bench: warning: stale namespace %s still holds processes %v (a killed run's bridge or Prosody?)\n", ns, pids)
		}
		if _, err := runIP(ctx, []string{"ip", "netns", "del", ns}); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			continue
		}
		fmt.Fprintf(stderr, "bench: removed stale namespace %s\n", ns)
	}
}

// childArgs are the parent's arguments for the re-executed harness, with the results folder
// made explicit so both processes agree on it.
func childArgs(args []string, cmdOut, out string) []string {
	a := append([]string(nil), args...)
	if cmdOut == "" {
		a = append(a, "--out", out)
	}
	return a
}

// runVethParent is --net veth outside the namespaces: it builds the network, re-executes the
// harness inside the harness namespace (which starts Prosody, the bridge in the bridge
// namespace, and the endpoints), forwards SIGINT/SIGTERM to it, and tears the network down on
// every way out. The child's exit code is the command's.
func runVethParent(cmd *Command, args []string, stdout, stderr io.Writer) int {
	out := cmd.Out
	if out == "" {
		out = defaultOut(cmd.Options.Scenario.Name)
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "bench:", strings.TrimPrefix(err.Error(), "bench: "))
		if mkErr := os.MkdirAll(out, 0o755); mkErr == nil {
			res := setupFailure(cmd.Options, cmd.Mode, NetVeth, err)
			if report.WriteDir(out, res) == nil {
				printHeadline(stdout, res, out)
			}
		}
		return 1
	}
	if err := vethPreflight(); err != nil {
		return fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		return fail(fmt.Errorf("%w: own executable: %w", ErrNetns, err))
	}
	n, err := NewVethNet(os.Getpid(), cmd.Options.GeneratorCPUs, cmd.Local.CPUs)
	if err != nil {
		return fail(err)
	}
	// From here on a signal must not kill this process before the teardown.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx := context.Background()
	removeStaleNamespaces(ctx, stderr)
	defer teardownVeth(n, stderr)
	if err := setupVeth(ctx, n); err != nil {
		return fail(err)
	}
	select {
	case <-sigs:
		return fail(fmt.Errorf("%w: interrupted during setup", ErrNetns))
	default:
	}
	if n.HarnessRPS == "" || n.BridgeRPS == "" {
		fmt.Fprintln(stderr, "bench: --net veth without --bridge-cpus and --generator-cpus: RPS left off on the unpinned side")
	}
	env, _ := json.Marshal(n)
	c := exec.Command("ip", append([]string{"netns", "exec", n.HarnessNS, self}, childArgs(args, cmd.Out, out)...)...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, stderr
	c.Env = append(os.Environ(), netChildEnv+"="+string(env))
	if err := c.Start(); err != nil {
		return fail(fmt.Errorf("%w: start the harness in %s: %w", ErrNetns, n.HarnessNS, err))
	}
	return waitChild(c, sigs, stderr)
}

// waitChild waits for the re-executed harness, forwarding signals (a terminal's Ctrl-C
// reaches it directly too; a SIGTERM sent to this process does not) and killing it when it
// does not finish within childGrace of the first.
func waitChild(c *exec.Cmd, sigs <-chan os.Signal, stderr io.Writer) int {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var kill <-chan time.Time
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &ee) && ee.ExitCode() > 0:
				return ee.ExitCode()
			default:
				fmt.Fprintln(stderr, "bench: harness:", err)
				return 1
			}
		case s := <-sigs:
			_ = c.Process.Signal(s)
			if kill == nil {
				kill = time.After(childGrace)
			}
		case <-kill:
			fmt.Fprintf(stderr, "bench: the harness did not stop within %v; killing it\n", childGrace)
			_ = c.Process.Kill()
		}
	}
}

// defaultOut is the results folder when --out is not given.
func defaultOut(scenario string) string {
	return filepath.Join("bench", "results", scenario+"-"+time.Now().Format("20060102-150405"))
}
