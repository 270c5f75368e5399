package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cityjitsi/videobridge/bench/report"
)

// Main runs the bench command line and returns the exit code: 0 success, 1 a failed run (its
// partial results are written), 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd, err := ParseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	switch cmd.Name {
	case "list":
		for _, n := range ScenarioNames() {
			s := Scenarios[n]
			fmt.Fprintf(stdout, "%-11s %d × %d participants, %d senders each, last-N %d, %s view\n",
				n, s.Conferences, s.Size, s.Senders, s.LastN, s.View)
		}
		return 0
	case "compare":
		return compareFiles(cmd.CompareA, cmd.CompareB, stdout, stderr)
	case "report":
		r, err := report.Load(filepath.Join(cmd.Out, "result.json"))
		if err == nil {
			err = report.WriteDir(cmd.Out, r)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	veth, err := childNet()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	switch {
	case veth != nil && cmd.Net != NetVeth:
		fmt.Fprintf(stderr, "bench: %s is set but --net is %s\n", netChildEnv, cmd.Net)
		return 2
	case veth != nil:
		cmd.Local.Veth = veth
	case cmd.Net == NetVeth:
		return runVethParent(cmd, args, stdout, stderr)
	}
	return runCommand(cmd, stdout, stderr)
}

func compareFiles(a, b string, stdout, stderr io.Writer) int {
	ra, err := report.Load(a)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	rb, err := report.Load(b)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := report.Compare(stdout, ra, rb, a, b); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

func runCommand(cmd *Command, stdout, stderr io.Writer) int {
	o := cmd.Options
	out := cmd.Out
	if out == "" {
		out = defaultOut(o.Scenario.Name)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	log, closeLog, err := fileLogger(filepath.Join(out, "bench.log"), cmd.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer closeLog()
	o.Log = log
	o.Progress = stderr
	o.Live = cmd.Progress == "live" || (cmd.Progress == "auto" && isTerminal(stderr))
	if cmd.Progress == "none" {
		o.Progress = nil
	}
	if cmd.Profile {
		f, err := os.Create(filepath.Join(out, "bench.pprof"))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "bench: %s against a %s bridge%s; results in %s\n", o.Scenario.Name, cmd.Mode, netSuffix(cmd), out)
	var t *Target
	if cmd.Mode == "local" {
		cmd.Local.Dir = out
		t, err = StartLocal(ctx, cmd.Local, log)
	} else {
		t, err = StartDeployment(ctx, cmd.Deployment, log)
	}
	var res *report.Result
	if err != nil {
		res = setupFailure(o, cmd.Mode, cmd.Net, err)
	} else {
		res, err = Run(ctx, o, t)
		t.Close()
		if res == nil { // invalid options: already validated by ParseArgs, but keep the contract
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
	}
	if werr := report.WriteDir(out, res); werr != nil {
		fmt.Fprintln(stderr, "bench:", werr)
		return 1
	}
	printHeadline(stdout, res, out)
	if err != nil {
		fmt.Fprintln(stderr, "bench: run failed:", err)
		return 1
	}
	return 0
}

// setupFailure is the result of a run whose bridge never became ready.
func setupFailure(o Options, mode, net string, err error) *report.Result {
	o.Defaults()
	if mode != "local" {
		net = "" // a deployment's network is not the harness's to describe
	}
	res := newResult(o, &Target{Info: report.BridgeInfo{Mode: mode}, Net: net})
	res.Ended = time.Now()
	res.Outcome = report.Outcome{Status: "failed", Error: "bridge not ready: " + err.Error(), Limited: "unknown"}
	res.Bridge.Constraints = "none"
	return res
}

func printHeadline(w io.Writer, r *report.Result, dir string) {
	fmt.Fprintf(w, "outcome: %s%s\n", r.Outcome.Status, map[bool]string{true: " (" + r.Outcome.Error + ")", false: ""}[r.Outcome.Error != ""])
	fmt.Fprintf(w, "joins: %d connected, %d failed (allocation→DTLS p50 %.1f ms)\n", r.Join.Connected, r.Join.Failed, r.Join.Total.P50)
	if s := r.Steady; s != nil {
		fmt.Fprintf(w, "steady: %d participants, bridge %.2f cores, %.2f µs/forwarded packet, out %.0f pps, latency p50 %.2f / p99 %.2f ms, loss %.3f %%, RSS/participant %.0f KiB\n",
			s.Participants, s.BridgeCPU, s.CPUPerPacketUs, s.OutPPS, s.Latency.P50, s.Latency.P99, 100*s.Loss, s.RSSPerParticipant/1024)
		fmt.Fprintf(w, "limited by: %s\n", r.Outcome.Limited)
	}
	if c := r.Capacity; c != nil {
		fmt.Fprintf(w, "capacity: %d participants (%s)\n", c.Participants, c.Objective)
	}
	fmt.Fprintf(w, "results: %s (summary.md, report.html, result.json)\n", dir)
}

func fileLogger(path, level string) (*zap.Logger, func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		f.Close()
		return nil, nil, err
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(f), lvl)
	log := zap.New(core).With(zap.String("component", "bench"))
	return log, func() { _ = log.Sync(); f.Close() }, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// netSuffix names the network of a local run in the start-up line.
func netSuffix(cmd *Command) string {
	if cmd.Mode != "local" {
		return ""
	}
	if v := cmd.Local.Veth; v != nil {
		return fmt.Sprintf(" over veth (%s ↔ %s)", v.HarnessAddr, v.BridgeAddr)
	}
	return " on " + cmd.Net
}
