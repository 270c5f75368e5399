package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bench/report"
	"github.com/cityjitsi/videobridge/integration/focus"
)

// Target is a bridge ready to be loaded.
type Target struct {
	Signaler    Signaler
	Probe       Probe // nil: no resource figures
	Constraints ConstraintSetter
	Info        report.BridgeInfo
	// Exited is closed if the bridge process ends (nil when the harness cannot watch it);
	// ExitReport then says how.
	Exited     <-chan struct{}
	ExitReport func() string
	// Alive reports whether the bridge is still in the brewery (deployment mode watches its
	// presence).
	Alive func() error
	// MediaPort is the bridge's UDP port when it runs on this machine (socket drop counts).
	MediaPort int
	// MediaNetDir is the /proc/<pid>/net folder of the bridge's network namespace, where its
	// socket's drop counter is ("" this process's /proc/net).
	MediaNetDir string
	// ClientAddr is the address the endpoints bind (invalid: 127.0.0.1).
	ClientAddr netip.Addr
	// Net is the local network mode (NetLoopback, NetVeth; "" for a deployment) and NetNote
	// describes it for the report.
	Net, NetNote string
	// SSRCRewriting says whether allocations offer the ssrc-rewriting capability.
	SSRCRewriting bool
	close         []func()
}

// Close tears the target down in reverse order of setup.
func (t *Target) Close() {
	for i := len(t.close) - 1; i >= 0; i-- {
		t.close[i]()
	}
	t.close = nil
}

// LocalOptions configure the self-contained mode.
type LocalOptions struct {
	BridgeBin string // the videobridge binary
	CPUs      string // taskset list for the bridge ("" = not pinned)
	Dir       string // where the bridge's jvb.conf and log go ("" a temporary folder)
	// ExtraConfig is appended to the generated jvb.conf.
	ExtraConfig string
	// ConstraintsURL overrides the HTTP hook template (relative to the private server
	// unless it has a scheme).
	ConstraintsURL string
	// ConstraintsMode is auto, ws, http or none.
	ConstraintsMode string
	SSRCRewriting   bool
	// Veth is the veth network this harness runs in (nil: loopback). The harness itself must
	// already be inside Veth.HarnessNS; the bridge is started in Veth.BridgeNS.
	Veth *VethNet
}

// DeploymentOptions configure the mode against an existing deployment.
type DeploymentOptions struct {
	XMPP       string // Prosody c2s host:port
	Domain     string // XMPP domain of the focus account (auth.meet.example.org)
	User, Pass string
	TLS        bool
	Brewery    string // jvbbrewery@internal.auth.meet.example.org
	BridgeNick string // the bridge's MUC nickname
	MetricsURL string // the bridge's Prometheus endpoint, if reachable
	BridgePID  int    // when the bridge runs on this machine: CPU and RSS from /proc
	// ConstraintsURL is the HTTP hook template, if the bridge has one.
	ConstraintsURL  string
	ConstraintsMode string
	SSRCRewriting   bool
}

// setupTimeout bounds each step of target setup.
const setupTimeout = 30 * time.Second

// StartLocal brings up Prosody, the bridge binary and the embedded focus on loopback, or with
// o.Veth the bridge in its own namespace across the veth pair.
func StartLocal(ctx context.Context, o LocalOptions, log *zap.Logger) (*Target, error) {
	t := &Target{Info: report.BridgeInfo{Mode: "local", CPUs: o.CPUs}, Net: NetLoopback}
	if o.Veth != nil {
		t.Net, t.NetNote, t.ClientAddr = NetVeth, o.Veth.Note(), o.Veth.HarnessAddr
	}
	fail := func(err error) (*Target, error) { t.Close(); return nil, err }
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "bench-local")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		o.Dir = d
		t.close = append(t.close, func() { os.RemoveAll(d) })
	}
	// Prosody's files (a throwaway server's accounts) never go to the results folder.
	pdir, err := os.MkdirTemp("", "bench-prosody")
	if err != nil {
		return fail(fmt.Errorf("bench: %w", err))
	}
	t.close = append(t.close, func() { os.RemoveAll(pdir) })
	p, err := StartProsody(ctx, pdir)
	if err != nil {
		return fail(err)
	}
	t.close = append(t.close, func() { _ = p.Stop() })
	log.Info("prosody started", zap.String("addr", p.Addr()))
	spec := BridgeSpec{Bin: o.BridgeBin, Dir: o.Dir, Prosody: p, CPUs: o.CPUs, ExtraConf: o.ExtraConfig}
	if o.Veth != nil {
		// Prosody (xmpp/xmpptest) listens on 127.0.0.1 only, which the bridge's namespace
		// cannot reach: relay its c2s port on the harness's veth address.
		r, err := startTCPRelay(netip.AddrPortFrom(o.Veth.HarnessAddr, 0), p.Addr())
		if err != nil {
			return fail(err)
		}
		t.close = append(t.close, r.Close)
		spec.Netns, spec.XMPPAddr, spec.HostAddr = o.Veth.BridgeNS, r.Addr(), o.Veth.BridgeAddr
		log.Info("xmpp relay", zap.Stringer("listen", r.Addr()), zap.String("prosody", p.Addr()))
	}
	b, err := StartBridge(ctx, spec)
	if err != nil {
		return fail(err)
	}
	t.close = append(t.close, b.Stop)
	t.Exited, t.ExitReport = b.Exited(), b.ExitReport
	t.Info.PID, t.Info.Nick, t.MediaPort = b.PID(), b.Nick, b.MediaPort
	t.MediaNetDir = fmt.Sprintf("/proc/%d/net", b.PID())
	log.Info("bridge started", zap.Int("pid", b.PID()), zap.String("http", b.HTTP), zap.String("log", b.LogPath))
	jctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	f, err := focus.Join(jctx, focus.Options{Addr: p.Addr(), Domain: p.Domain, Username: p.Focus.User,
		Password: p.Focus.Password, Brewery: p.Brewery, Nick: "focus"})
	if err != nil {
		return fail(fmt.Errorf("bench: focus login: %w", err))
	}
	t.close = append(t.close, f.Close)
	if _, err := f.WaitBridge(jctx, b.Nick, nil); err != nil {
		return fail(fmt.Errorf("bench: bridge never joined the brewery: %w; %s", err, b.ExitReport()))
	}
	t.Info.Version = bridgeVersion(ctx, b.HTTP)
	t.Signaler = &focusSignaler{f: f, nick: b.Nick, rewriting: o.SSRCRewriting}
	t.SSRCRewriting = o.SSRCRewriting
	t.Probe = combinedProbe{proc: &ProcProbe{PID: b.PID()}, metrics: &MetricsProbe{URL: b.HTTP + "/metrics"}}
	t.Alive = func() error { return presenceAlive(f, b.Nick) }
	hook := o.ConstraintsURL
	if hook == "" {
		hook = DefaultConstraintsPath
	}
	if !strings.Contains(hook, "://") {
		hook = b.HTTP + hook
	}
	cs, err := constraintSetter(o.ConstraintsMode, hook)
	if err != nil {
		return fail(err)
	}
	t.Constraints = cs
	t.close = append(t.close, cs.Close)
	return t, nil
}

// StartDeployment joins a deployment's brewery as a focus and targets one bridge in it.
func StartDeployment(ctx context.Context, o DeploymentOptions, log *zap.Logger) (*Target, error) {
	t := &Target{Info: report.BridgeInfo{Mode: "deployment", Nick: o.BridgeNick, PID: o.BridgePID}}
	jctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	// A unique nickname: the deployment's own Jicofo is in the room as "focus".
	f, err := focus.Join(jctx, focus.Options{Addr: o.XMPP, Domain: o.Domain, Username: o.User, Password: o.Pass,
		TLS: o.TLS, Brewery: o.Brewery, Nick: "bench-" + randomToken(6)})
	if err != nil {
		return nil, fmt.Errorf("bench: focus login to %s: %w", o.XMPP, err)
	}
	t.close = append(t.close, f.Close)
	st, err := f.WaitBridge(jctx, o.BridgeNick, nil)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("bench: bridge %q not in brewery %s: %w", o.BridgeNick, o.Brewery, err)
	}
	t.Info.Version = st["version"]
	log.Info("bridge found", zap.String("nick", o.BridgeNick), zap.String("version", t.Info.Version))
	t.Signaler = &focusSignaler{f: f, nick: o.BridgeNick, rewriting: o.SSRCRewriting}
	t.SSRCRewriting = o.SSRCRewriting
	var cp combinedProbe
	if o.MetricsURL != "" {
		cp.metrics = &MetricsProbe{URL: o.MetricsURL}
	}
	if o.BridgePID > 0 {
		cp.proc = &ProcProbe{PID: o.BridgePID}
	}
	if cp.metrics != nil || cp.proc != nil {
		t.Probe = cp
	}
	t.Alive = func() error { return presenceAlive(f, o.BridgeNick) }
	cs, err := constraintSetter(o.ConstraintsMode, o.ConstraintsURL)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Constraints = cs
	t.close = append(t.close, cs.Close)
	return t, nil
}

// ErrBridgeLeft means the bridge left the brewery (crashed, shut down or lost XMPP).
var ErrBridgeLeft = errors.New("bench: bridge left the brewery")

func presenceAlive(f *focus.Focus, nick string) error {
	if _, ok := f.Bridge(nick); !ok {
		return ErrBridgeLeft
	}
	return nil
}

func constraintSetter(mode, hook string) (ConstraintSetter, error) {
	switch mode {
	case "", "auto":
		a := &autoConstraints{ws: &WSConstraints{}}
		if hook != "" {
			a.http = &HTTPConstraints{URL: hook}
		}
		return a, nil
	case "ws":
		return &WSConstraints{}, nil
	case "http":
		if hook == "" {
			return nil, fmt.Errorf("%w: --constraints http needs --constraints-url", ErrUsage)
		}
		return &HTTPConstraints{URL: hook}, nil
	case "none", "sctp": // sctp: the engine uses the data channel; nothing else
		return noConstraints{}, nil
	}
	return nil, fmt.Errorf("%w: --constraints %q (auto, sctp, ws, http or none)", ErrUsage, mode)
}

func bridgeVersion(ctx context.Context, base string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/about/version", nil)
	if err != nil {
		return ""
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct{ Name, Version string }
	if json.NewDecoder(resp.Body).Decode(&v) != nil {
		return ""
	}
	return strings.TrimSpace(v.Name + " " + v.Version)
}
