package bench

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Command is a parsed command line.
type Command struct {
	Name       string // run, capacity, compare, report, list
	Options    Options
	Mode       string // local or deployment
	Net        string // local: loopback or veth (NetLoopback, NetVeth)
	Local      LocalOptions
	Deployment DeploymentOptions
	Out        string
	CompareA   string
	CompareB   string
	LogLevel   string
	Progress   string // auto, live, lines or none
	Profile    bool   // CPU profile of the harness itself
}

const usageHead = `usage:
  bench [run] [flags]        run a scenario and write a results folder
  bench capacity [flags]     grow the load until the quality objective breaks
  bench compare A B          ratios between two result.json files (B/A)
  bench report DIR           render DIR/result.json again (summary.md, report.html, plots)
  bench list                 list the named scenarios

Modes: --mode local (default) starts the bridge binary, a private Prosody and an embedded
focus on loopback; --mode deployment joins a deployment's brewery as a focus does and loads
the bridge named by --bridge-nick (ours or Jitsi Videobridge).

Networks (local mode): --net loopback (default) runs everything on 127.0.0.1, where the
kernel charges the endpoints' UDP receive work to the bridge's CPU; --net veth (root,
iproute2) puts the bridge and the harness in two network namespaces joined by a veth pair,
with RPS steering each side's receive work to its own pinned CPUs, as a NIC would.

flags:
`

// ParseArgs parses the command line. Bad input returns an error wrapping ErrUsage (the usage
// text is written to stderr); -h returns flag.ErrHelp.
func ParseArgs(args []string, stderr io.Writer) (*Command, error) {
	cmd := &Command{Name: "run"}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd.Name, args = args[0], args[1:]
	}
	switch cmd.Name {
	case "run", "capacity":
	case "compare":
		if len(args) != 2 {
			fmt.Fprint(stderr, usageHead)
			return nil, fmt.Errorf("%w: compare takes two result files", ErrUsage)
		}
		cmd.CompareA, cmd.CompareB = args[0], args[1]
		return cmd, nil
	case "report":
		if len(args) != 1 {
			fmt.Fprint(stderr, usageHead)
			return nil, fmt.Errorf("%w: report takes one results folder", ErrUsage)
		}
		cmd.Out = args[0]
		return cmd, nil
	case "list":
		if len(args) != 0 {
			return nil, fmt.Errorf("%w: list takes no arguments", ErrUsage)
		}
		return cmd, nil
	default:
		fmt.Fprint(stderr, usageHead)
		return nil, fmt.Errorf("%w: unknown command %q", ErrUsage, cmd.Name)
	}
	fs, v := newFlagSet(cmd, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if err := v.apply(cmd, fs); err != nil {
		fs.Usage()
		return nil, err
	}
	return cmd, nil
}

// flagValues holds what needs post-processing after parsing.
type flagValues struct {
	scenario                          string
	conferences, size, senders, lastN int
	view                              string
	tileHeight                        int
	grow                              int
	credentials                       string
	constraints, constraintsURL       *string
	rewriting                         *bool
	set                               map[string]bool
}

func newFlagSet(cmd *Command, stderr io.Writer) (*flag.FlagSet, *flagValues) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageHead); fs.PrintDefaults() }
	v := &flagValues{}
	o, l, d := &cmd.Options, &cmd.Local, &cmd.Deployment
	fs.StringVar(&v.scenario, "scenario", "meeting-10", "named scenario: "+strings.Join(ScenarioNames(), ", "))
	fs.IntVar(&v.conferences, "conferences", 0, "override: number of conferences")
	fs.IntVar(&v.size, "size", 0, "override: participants per conference")
	fs.IntVar(&v.senders, "senders", 0, "override: senders per conference (the rest receive only)")
	fs.IntVar(&v.lastN, "last-n", -2, "override: last-N (-1 unlimited)")
	fs.StringVar(&v.view, "view", "", "override: tile or stage")
	fs.IntVar(&v.tileHeight, "tile-height", 0, "override: maxHeight of tiles/thumbnails (180, 360, 720)")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "measured steady-state window")
	fs.DurationVar(&o.Warmup, "warmup", 5*time.Second, "settling time after the last join (and per capacity step)")
	fs.Float64Var(&o.JoinRate, "join-rate", 5, "endpoints joining per second")
	fs.DurationVar(&o.IdleMeasure, "idle", 2*time.Second, "measure the bridge's idle CPU this long before the first join (negative: skip)")
	fs.DurationVar(&o.JoinTimeout, "join-timeout", 30*time.Second, "deadline of one endpoint's join")
	fs.DurationVar(&o.StallTimeout, "stall-timeout", 10*time.Second, "end the run after this long without forwarded media")
	fs.IntVar(&o.SampleEvery, "sample-every", 10, "decrypt and verify 1 RTP packet in N per stream")
	fs.Float64Var(&o.RecvLoss, "recv-loss", 0, "induced loss on what endpoints receive (fraction)")
	fs.Float64Var(&o.SendLoss, "send-loss", 0, "induced loss on what endpoints send (fraction)")
	fs.DurationVar(&o.SendDelay, "delay", 0, "added delay on what endpoints send")
	fs.BoolVar(&o.ReceiverGRO, "receiver-gro", true, "UDP GRO on the endpoints' sockets (over loopback their receive work is charged to the bridge; GRO makes it per burst)")
	fs.StringVar(&o.Pacer, "pacer", "burst", "senders' video pacer: burst (Chrome's libwebrtc pacer since its 40 ms burst interval: a frame leaves whole) or interval (the older 5 ms budget pacer)")
	fs.StringVar(&o.GeneratorCPUs, "generator-cpus", "", "pin the harness to these CPUs (taskset list, e.g. 0)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed of the traffic model and IDs")
	fs.StringVar(&o.Commit, "commit", "", "commit to record (default: from the build or git)")
	fs.DurationVar(&o.Capacity.Step, "step", 10*time.Second, "capacity: measured window per step")
	fs.IntVar(&o.Capacity.MaxParticipants, "max-participants", 1000, "capacity: stop growing here")
	fs.IntVar(&v.grow, "grow", 0, "capacity: add this many conferences (or receivers, for lecture-like scenarios) per step")
	fs.Float64Var(&o.Capacity.MaxLoss, "max-loss", 0.01, "capacity objective: maximum loss (fraction)")
	fs.DurationVar(&o.Capacity.MaxP99, "max-p99", 50*time.Millisecond, "capacity objective: maximum p99 latency")
	fs.StringVar(&cmd.Out, "out", "", "results folder (default bench/results/<scenario>-<time>)")
	fs.StringVar(&cmd.Mode, "mode", "local", "local or deployment")
	fs.StringVar(&cmd.LogLevel, "log-level", "warn", "debug, info, warn or error (logs go to <out>/bench.log)")
	fs.StringVar(&cmd.Progress, "progress", "auto", "auto, live, lines or none")
	fs.BoolVar(&cmd.Profile, "cpuprofile", false, "write the harness's CPU profile to <out>/bench.pprof")
	fs.StringVar(&l.BridgeBin, "bridge-bin", "bin/videobridge", "local: the bridge binary")
	fs.StringVar(&l.CPUs, "bridge-cpus", "", "local: pin the bridge to these CPUs (taskset list, e.g. 1)")
	fs.StringVar(&l.ExtraConfig, "bridge-config", "", "local: HOCON appended to the generated jvb.conf")
	fs.StringVar(&cmd.Net, "net", NetLoopback, "local: network between bridge and endpoints: loopback, or veth (namespaces + veth pair + RPS; needs root and iproute2)")
	constraints := fs.String("constraints", "auto", "how to send ReceiverVideoConstraints: auto (data channel, else colibri-ws, else HTTP hook), sctp, ws, http or none")
	fs.StringVar(&o.DataChannel, "datachannel", "auto", "open the SCTP bridge channel: auto (when offered), on (required) or off")
	constraintsURL := fs.String("constraints-url", "", "HTTP hook template ({conference}, {endpoint}); local default "+DefaultConstraintsPath)
	rewriting := fs.Bool("ssrc-rewriting", false, "offer the ssrc-rewriting capability in allocations")
	fs.StringVar(&d.XMPP, "xmpp", "", "deployment: Prosody c2s host:port")
	fs.StringVar(&d.Domain, "xmpp-domain", "", "deployment: XMPP domain of the focus account")
	fs.StringVar(&d.User, "xmpp-user", "", "deployment: focus account user")
	fs.StringVar(&d.Pass, "xmpp-password", "", "deployment: focus account password")
	fs.BoolVar(&d.TLS, "xmpp-tls", false, "deployment: STARTTLS (certificate not verified)")
	fs.StringVar(&d.Brewery, "brewery", "", "deployment: brewery room JID")
	fs.StringVar(&d.BridgeNick, "bridge-nick", "", "deployment: the bridge's MUC nickname")
	fs.StringVar(&d.MetricsURL, "bridge-metrics", "", "deployment: the bridge's Prometheus URL (CPU, memory)")
	fs.IntVar(&d.BridgePID, "bridge-pid", 0, "deployment: the bridge's PID when it runs on this machine")
	fs.StringVar(&v.credentials, "credentials", "", "deployment: file of flag=value lines (xmpp, xmpp-user, ...)")
	v.set = map[string]bool{}
	v.constraints, v.constraintsURL, v.rewriting = constraints, constraintsURL, rewriting
	return fs, v
}

// deploymentFlags may only be used with --mode deployment; localFlags only with local.
var (
	deploymentFlags = []string{"xmpp", "xmpp-domain", "xmpp-user", "xmpp-password", "xmpp-tls", "brewery",
		"bridge-nick", "bridge-metrics", "bridge-pid", "credentials"}
	localFlags = []string{"bridge-bin", "bridge-cpus", "bridge-config", "net"}
)

// scenarioOf is the named scenario with the command line's overrides.
func (v *flagValues) scenarioOf() (Scenario, error) {
	sc, ok := Scenarios[v.scenario]
	if !ok {
		return Scenario{}, fmt.Errorf("%w: unknown scenario %q (%s)", ErrUsage, v.scenario, strings.Join(ScenarioNames(), ", "))
	}
	if v.conferences != 0 {
		sc.Conferences = v.conferences
	}
	if v.size != 0 {
		sc.Size = v.size
		sc.Senders = min(sc.Senders, sc.Size)
	}
	if v.senders != 0 {
		sc.Senders = v.senders
	}
	if v.lastN != -2 {
		sc.LastN = v.lastN
	}
	if v.view != "" {
		sc.View = View(v.view)
	}
	if v.tileHeight != 0 {
		sc.TileHeight = v.tileHeight
	}
	if v.grow < 0 {
		return Scenario{}, fmt.Errorf("%w: --grow must be positive", ErrUsage)
	}
	if v.grow > 0 {
		if sc.GrowConferences > 0 {
			sc.GrowConferences = v.grow
		} else {
			sc.GrowReceivers = v.grow
		}
	}
	if v.set["conferences"] || v.set["size"] || v.set["senders"] || v.set["last-n"] || v.set["view"] || v.set["tile-height"] {
		sc.Name += "-custom"
	}
	return sc, nil
}

func (v *flagValues) apply(cmd *Command, fs *flag.FlagSet) error {
	fs.Visit(func(f *flag.Flag) { v.set[f.Name] = true })
	sc, err := v.scenarioOf()
	if err != nil {
		return err
	}
	o := &cmd.Options
	o.Scenario = sc
	o.Capacity.Enabled = cmd.Name == "capacity"
	cmd.Local.ConstraintsMode, cmd.Local.ConstraintsURL = *v.constraints, *v.constraintsURL
	cmd.Deployment.ConstraintsMode, cmd.Deployment.ConstraintsURL = *v.constraints, *v.constraintsURL
	cmd.Local.SSRCRewriting, cmd.Deployment.SSRCRewriting = *v.rewriting, *v.rewriting
	if err := v.applyMode(cmd, fs); err != nil {
		return err
	}
	if cmd.Net != NetLoopback && cmd.Net != NetVeth {
		return fmt.Errorf("%w: --net %q (loopback or veth)", ErrUsage, cmd.Net)
	}
	switch cmd.Progress {
	case "auto", "live", "lines", "none":
	default:
		return fmt.Errorf("%w: --progress %q (auto, live, lines or none)", ErrUsage, cmd.Progress)
	}
	switch cmd.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%w: --log-level %q (debug, info, warn or error)", ErrUsage, cmd.LogLevel)
	}
	switch *v.constraints {
	case "auto":
		o.Constraints = "auto"
	case "sctp":
		o.Constraints = "sctp"
	case "ws", "http", "none":
		o.Constraints = "target"
	default:
		return fmt.Errorf("%w: --constraints %q (auto, sctp, ws, http or none)", ErrUsage, *v.constraints)
	}
	for _, l := range []string{o.GeneratorCPUs, cmd.Local.CPUs} {
		if l != "" {
			if _, err := ParseCPUList(l); err != nil {
				return err
			}
		}
	}
	// Zero means "default" in Options; on the command line it is a mistake.
	for _, f := range []string{"duration", "join-rate", "join-timeout", "stall-timeout", "sample-every", "step",
		"max-participants", "max-loss", "max-p99"} {
		if v.set[f] {
			if n, err := strconvParse(fs.Lookup(f).Value.String()); err != nil || n <= 0 {
				return fmt.Errorf("%w: --%s must be positive", ErrUsage, f)
			}
		}
	}
	o.Defaults()
	return o.Validate()
}

// strconvParse reads a flag's printed value: a number or a duration.
func strconvParse(s string) (float64, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return float64(d), nil
	}
	return strconv.ParseFloat(s, 64)
}

func (v *flagValues) applyMode(cmd *Command, fs *flag.FlagSet) error {
	switch cmd.Mode {
	case "local":
		for _, f := range deploymentFlags {
			if v.set[f] {
				return fmt.Errorf("%w: --%s needs --mode deployment", ErrUsage, f)
			}
		}
		return nil
	case "deployment":
	default:
		return fmt.Errorf("%w: --mode %q (local or deployment)", ErrUsage, cmd.Mode)
	}
	for _, f := range localFlags {
		if v.set[f] {
			return fmt.Errorf("%w: --%s needs --mode local", ErrUsage, f)
		}
	}
	if v.credentials != "" {
		f, err := os.Open(v.credentials)
		if err != nil {
			return fmt.Errorf("%w: --credentials: %w", ErrUsage, err)
		}
		kv, err := ParseCredentials(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrUsage, v.credentials, err)
		}
		for k, val := range kv {
			if v.set[k] {
				continue // the command line wins
			}
			if err := fs.Set(k, val); err != nil {
				return fmt.Errorf("%w: %s: %s: %w", ErrUsage, v.credentials, k, err)
			}
		}
	}
	d := cmd.Deployment
	var missing []string
	for _, m := range []struct{ name, val string }{{"xmpp", d.XMPP}, {"xmpp-domain", d.Domain}, {"xmpp-user", d.User},
		{"xmpp-password", d.Pass}, {"brewery", d.Brewery}, {"bridge-nick", d.BridgeNick}} {
		if m.val == "" {
			missing = append(missing, "--"+m.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: --mode deployment needs %s (flags or --credentials)", ErrUsage, strings.Join(missing, ", "))
	}
	return nil
}

// credentialKeys are the flags a credentials file may set.
var credentialKeys = map[string]bool{"xmpp": true, "xmpp-domain": true, "xmpp-user": true, "xmpp-password": true,
	"xmpp-tls": true, "brewery": true, "bridge-nick": true, "bridge-metrics": true, "bridge-pid": true}

// ErrCredentials is a malformed credentials file.
var ErrCredentials = errors.New("bench: malformed credentials file")

// ParseCredentials reads "key = value" (or "key: value") lines naming deployment flags, so
// passwords need not be on the command line. '#' starts a comment line; a value may be
// double-quoted.
func ParseCredentials(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<16))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("%w: line %d: want key = value", ErrCredentials, n)
		}
		k, val := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		if !credentialKeys[k] {
			return nil, fmt.Errorf("%w: line %d: unknown key %q", ErrCredentials, n, k)
		}
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if strings.ContainsAny(val, "\x00\n") {
			return nil, fmt.Errorf("%w: line %d: control character in value", ErrCredentials, n)
		}
		out[k] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	return out, nil
}
