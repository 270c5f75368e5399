package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cityjitsi/videobridge/xmpp/xmpptest"
)

// LocalBridge is a bridge process the harness started on loopback.
type LocalBridge struct {
	Cmd        *exec.Cmd
	HTTP       string // private REST base URL
	MediaPort  int
	Nick       string
	LogPath    string
	ConfigPath string

	exited  chan struct{}
	waitErr error
}

// ErrBridgeExited means the bridge process ended while the harness needed it.
var ErrBridgeExited = errors.New("bench: bridge process exited")

// localBridgeStart bounds the wait for the bridge's HTTP API.
const localBridgeStart = 20 * time.Second

// bridgeConf are the values of the generated jvb.conf.
type bridgeConf struct {
	HTTPHost            string // private REST API (health, stats, metrics, debug hook)
	HTTPPort, MediaPort int
	XMPPHost            string // where the bridge reaches Prosody
	XMPPPort            int
	Domain              string
	User, Password      string
	Brewery, Nick       string
	// XMPPSecurity, when set, is the client's SECURITY_MODE. The bench Prosody has no TLS; on
	// a loopback host the bridge (like JVB) defaults to "ifpossible", elsewhere to "required",
	// so the veth network sets "disabled" (SASL then uses SCRAM-SHA-1, never PLAIN in clear).
	XMPPSecurity string
	// OnlyAddr, when set, is the bridge's only ICE host candidate (ice4j.harvest.allowed-
	// addresses): in the veth network the bridge's namespace also has 127.0.0.1, which the
	// endpoints in the other namespace cannot reach.
	OnlyAddr string
}

// bridgeConfig is the jvb.conf the harness writes: private HTTP on a free port, a free media
// port, the bench Prosody as its only XMPP client, and no public-address health requirement
// (loopback or a private veth only).
func bridgeConfig(c bridgeConf) string {
	var b strings.Builder
	security := ""
	if c.XMPPSecurity != "" {
		security = fmt.Sprintf("    SECURITY_MODE = %q\n", c.XMPPSecurity)
	}
	fmt.Fprintf(&b, `videobridge {
  http-servers.private { host = %q, port = %d }
  ice.udp.port = %d
  health.require-valid-address = false
  apis.xmpp-client.configs.bench {
    HOSTNAME = %q
    PORT = %d
    DOMAIN = %q
    USERNAME = %q
    PASSWORD = %q
    MUC_JIDS = %q
    MUC_NICKNAME = %q
%s  }
}
`, c.HTTPHost, c.HTTPPort, c.MediaPort, c.XMPPHost, c.XMPPPort, c.Domain, c.User, c.Password, c.Brewery, c.Nick, security)
	if c.OnlyAddr != "" {
		fmt.Fprintf(&b, "ice4j.harvest.allowed-addresses = [%q]\n", c.OnlyAddr)
	}
	return b.String()
}

// BridgeSpec says how to start a local bridge.
type BridgeSpec struct {
	Bin, Dir  string // the binary; where jvb.conf and bridge.log go
	Prosody   *xmpptest.Prosody
	CPUs      string // taskset list ("" not pinned)
	ExtraConf string // HOCON appended to the generated jvb.conf
	// Netns runs the bridge in this network namespace (ip netns exec), "" in ours.
	Netns string
	// XMPPAddr is where the bridge reaches Prosody (invalid: Prosody's own address).
	XMPPAddr netip.AddrPort
	// HostAddr is the bridge's address in Netns: its private HTTP API listens there and it is
	// its only ICE host candidate (invalid: 127.0.0.1, every local address harvested).
	HostAddr netip.Addr
}

// StartLocalBridge runs bin with a generated jvb.conf in dir, pinned with taskset to cpus when
// set, and waits for its HTTP API.
func StartLocalBridge(ctx context.Context, bin, dir string, p *xmpptest.Prosody, cpus string, extraConf string) (*LocalBridge, error) {
	return StartBridge(ctx, BridgeSpec{Bin: bin, Dir: dir, Prosody: p, CPUs: cpus, ExtraConf: extraConf})
}

// bridgeArgv is the bridge's command line: [ip netns exec NS] [taskset -c CPUS] bin --config
// conf. Both ip netns exec (outside its batch mode) and taskset exec in place, so the
// process started is the bridge itself and its PID is the one /proc accounting reads.
func bridgeArgv(bin, conf, cpus, netns string) []string {
	argv := []string{bin, "--config", conf}
	if cpus != "" {
		// taskset before exec, so the Go runtime sizes GOMAXPROCS from the affinity mask.
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	return argv
}

// StartBridge runs the bridge of spec and waits for its HTTP API.
func StartBridge(ctx context.Context, spec BridgeSpec) (*LocalBridge, error) {
	if _, err := os.Stat(spec.Bin); err != nil {
		return nil, fmt.Errorf("bench: bridge binary %s: %w (build it with `make build`)", spec.Bin, err)
	}
	if spec.CPUs != "" {
		if _, err := exec.LookPath("taskset"); err != nil {
			return nil, fmt.Errorf("bench: --bridge-cpus needs taskset (util-linux): %w", err)
		}
	}
	httpPort, err := xmpptest.FreeTCPPort()
	if err != nil {
		return nil, err
	}
	mediaPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	p := spec.Prosody
	c := bridgeConf{HTTPHost: "127.0.0.1", HTTPPort: httpPort, MediaPort: mediaPort, XMPPHost: p.Host, XMPPPort: p.Port,
		Domain: p.Domain, User: p.JVB.User, Password: p.JVB.Password, Brewery: p.Brewery, Nick: "bench-" + randomToken(6)}
	if spec.XMPPAddr.IsValid() {
		c.XMPPHost, c.XMPPPort = spec.XMPPAddr.Addr().String(), int(spec.XMPPAddr.Port())
		if !spec.XMPPAddr.Addr().IsLoopback() && !p.TLS {
			c.XMPPSecurity = "disabled"
		}
	}
	if spec.HostAddr.IsValid() {
		c.HTTPHost, c.OnlyAddr = spec.HostAddr.String(), spec.HostAddr.String()
	}
	b := &LocalBridge{HTTP: "http://" + net.JoinHostPort(c.HTTPHost, strconv.Itoa(httpPort)), MediaPort: mediaPort,
		Nick: c.Nick, LogPath: filepath.Join(spec.Dir, "bridge.log"),
		ConfigPath: filepath.Join(spec.Dir, "jvb.conf"), exited: make(chan struct{})}
	if err := os.WriteFile(b.ConfigPath, []byte(bridgeConfig(c)+spec.ExtraConf), 0o600); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	logf, err := os.Create(b.LogPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	argv := bridgeArgv(spec.Bin, b.ConfigPath, spec.CPUs, spec.Netns)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("bench: start bridge: %w", err)
	}
	b.Cmd = cmd
	go func() { b.waitErr = cmd.Wait(); logf.Close(); close(b.exited) }()
	if err := b.awaitHTTP(ctx); err != nil {
		b.Stop()
		return nil, err
	}
	if err := checkBridgeProcess(cmd.Process.Pid, spec.Bin); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// checkBridgeProcess makes sure the process started is the bridge binary (not a wrapper
// that forked it), since its PID is what the CPU and RSS figures are read from. The binary
// may have been rebuilt since it started, so a path match counts too.
func checkBridgeProcess(pid int, bin string) error {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	if want, err := os.Stat(bin); err == nil {
		if got, err := os.Stat(exe); err == nil && os.SameFile(want, got) {
			return nil
		}
	}
	link, err := os.Readlink(exe)
	if err != nil {
		return fmt.Errorf("bench: bridge process %d: %w", pid, err)
	}
	want, err := filepath.Abs(bin)
	if err == nil {
		if r, err := filepath.EvalSymlinks(want); err == nil {
			want = r
		}
	}
	if strings.TrimSuffix(link, " (deleted)") != want {
		return fmt.Errorf("bench: process %d runs %s, not %s (a wrapper forked the bridge?): its CPU would not be the bridge's", pid, link, bin)
	}
	return nil
}

func (b *LocalBridge) awaitHTTP(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, localBridgeStart)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		if resp, err := c.Get(b.HTTP + "/about/health"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("%w at start-up (%v); log:\n%s", ErrBridgeExited, b.waitErr, xmpptest.TailFile(b.LogPath, 30))
		case <-ctx.Done():
			return fmt.Errorf("bench: bridge HTTP API %s did not answer within %v: %w", b.HTTP, localBridgeStart, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Exited is closed when the process has ended.
func (b *LocalBridge) Exited() <-chan struct{} { return b.exited }

// ExitReport describes how the process ended, with the end of its log.
func (b *LocalBridge) ExitReport() string {
	state := "running"
	select {
	case <-b.exited:
		state = "exited"
		if b.Cmd.ProcessState != nil {
			state = b.Cmd.ProcessState.String()
		}
	default:
	}
	return fmt.Sprintf("bridge %s; last log lines:\n%s", state, xmpptest.TailFile(b.LogPath, 30))
}

// PID is the bridge's process ID (ip netns exec and taskset exec the bridge in place, so it
// is the same; StartBridge checks).
func (b *LocalBridge) PID() int { return b.Cmd.Process.Pid }

// Stop asks the bridge to stop (SIGTERM, as systemd would) and kills it after 10 s.
func (b *LocalBridge) Stop() {
	select {
	case <-b.exited:
		return
	default:
	}
	_ = b.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.Cmd.Process.Kill()
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
		}
	}
}
