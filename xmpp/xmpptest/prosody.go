// Package xmpptest starts a real Prosody for tests and provides a minimal Jicofo-like focus.
//
// StartProsody writes a loopback-only configuration into t.TempDir(), registers the jvb and
// focus accounts with prosodyctl, runs `prosody -F` and kills it (SIGKILL) in t.Cleanup. The
// layout mirrors the Debian/docker Jitsi setup (environment.md §2): accounts on an auth
// VirtualHost, the brewery room on an internal MUC component.
//
// Start does the same without testing.TB (the caller owns dir and calls Stop), so the bench
// harness's self-contained mode runs the very same server as the tests.
//
// Prosody is a hard requirement: when it is not installed the helper fails the test with a
// message saying how to install it, it does not skip (CI installs it).
package xmpptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrNoProsody means the prosody or prosodyctl binary is not in PATH.
var ErrNoProsody = errors.New("xmpptest: prosody is not installed (install it with " +
	"`DEBIAN_FRONTEND=noninteractive apt-get install -y prosody`)")

// Account is an XMPP account registered on the auth domain.
type Account struct {
	User     string
	Password string
}

// Options choose the Prosody flavour.
type Options struct {
	// TLS enables STARTTLS with a freshly generated self-signed certificate,
	// c2s_require_encryption and internal_hashed authentication (SASL SCRAM-SHA-1), as docker
	// Jitsi runs it. Without TLS: no TLS module, internal_plain and unencrypted PLAIN allowed.
	TLS bool
	// AnonymousRooms makes new MUC rooms semi-anonymous (muc_room_default_public_jids=false), so
	// a test can tell whether the room creator submitted muc#roomconfig_whois=anyone.
	AnonymousRooms bool
	// Accounts are registered in addition to the JVB and focus accounts.
	Accounts []Account
	// Domain and MUCDomain override auth.meet.test and internal.auth.meet.test, so that a
	// real deployment's jvb.conf (e.g. the Debian package's) can be used unchanged.
	Domain, MUCDomain string
	// JVB overrides the bridge account jvb/jvbpass.
	JVB Account
	// Focus overrides the focus account focus/focuspass.
	Focus Account
	// C2SRate overrides the c2s rate limit "10mb/s" (Prosody's limits module syntax); a load
	// test's focus signals for many endpoints and must not be throttled.
	C2SRate string
	// StartTimeout overrides the 10 s bound on each prosodyctl registration and on each wait
	// for the c2s port (Start, Restart).
	StartTimeout time.Duration
}

// Prosody is a running (or killed) Prosody instance.
type Prosody struct {
	Host      string // TCP host: 127.0.0.1
	Port      int    // c2s port (STARTTLS or plain)
	Domain    string // account domain: auth.meet.test
	MUCDomain string // MUC component: internal.auth.meet.test
	Brewery   string // bridge brewery room JID on MUCDomain
	JVB       Account
	Focus     Account
	TLS       bool

	Dir        string // config, data, certs and log live here
	ConfigPath string
	LogPath    string

	startTimeout time.Duration

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd has exited
}

const startTimeout = 10 * time.Second

// StartProsody starts a Prosody for the test. It fails the test if prosody is not installed
// or does not start listening within 10 s.
func StartProsody(t testing.TB, opts Options) *Prosody {
	t.Helper()
	if err := lookPrograms(); err != nil {
		t.Fatalf("%v", err)
	}
	p, err := prepare(context.Background(), opts, t.TempDir())
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		p.Kill(t)
		if t.Failed() {
			t.Logf("xmpptest: prosody log tail:\n%s", TailFile(p.LogPath, 40))
		}
	})
	p.Start(t)
	return p
}

// Start starts a Prosody whose files live in dir (created if needed) without testing.TB: the
// caller stops it with Stop and owns dir. ctx bounds registration and start-up in addition to
// opts.StartTimeout. It returns an error wrapping ErrNoProsody when prosody is not installed.
func Start(ctx context.Context, opts Options, dir string) (*Prosody, error) {
	if err := lookPrograms(); err != nil {
		return nil, err
	}
	p, err := prepare(ctx, opts, dir)
	if err != nil {
		return nil, err
	}
	if err := p.run(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func lookPrograms() error {
	for _, bin := range []string{"prosody", "prosodyctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w: %s not found in PATH: %w", ErrNoProsody, bin, err)
		}
	}
	return nil
}

// prepare picks a port, writes the configuration (and certificate) into dir and registers
// the accounts; it does not start prosody.
func prepare(ctx context.Context, opts Options, dir string) (*Prosody, error) {
	port, err := FreeTCPPort()
	if err != nil {
		return nil, err
	}
	p := &Prosody{
		Host:         "127.0.0.1",
		Port:         port,
		Domain:       "auth.meet.test",
		MUCDomain:    "internal.auth.meet.test",
		JVB:          Account{User: "jvb", Password: "jvbpass"},
		Focus:        Account{User: "focus", Password: "focuspass"},
		TLS:          opts.TLS,
		Dir:          dir,
		ConfigPath:   filepath.Join(dir, "prosody.cfg.lua"),
		LogPath:      filepath.Join(dir, "prosody.log"),
		startTimeout: startTimeout,
	}
	if opts.Domain != "" {
		p.Domain = opts.Domain
	}
	if opts.MUCDomain != "" {
		p.MUCDomain = opts.MUCDomain
	}
	if opts.JVB.User != "" {
		p.JVB = opts.JVB
	}
	if opts.Focus.User != "" {
		p.Focus = opts.Focus
	}
	if opts.StartTimeout > 0 {
		p.startTimeout = opts.StartTimeout
	}
	p.Brewery = "jvbbrewery@" + p.MUCDomain
	for _, sub := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("xmpptest: %w", err)
		}
	}
	if opts.TLS {
		if err := writeSelfSigned(filepath.Join(dir, "certs"), p.Domain,
			[]string{p.Domain, p.MUCDomain, "localhost"}); err != nil {
			return nil, fmt.Errorf("xmpptest: certificate: %w", err)
		}
	}
	if err := os.WriteFile(p.ConfigPath, []byte(p.config(opts)), 0o600); err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	accounts := append([]Account{p.JVB, p.Focus}, opts.Accounts...)
	for _, a := range accounts {
		if err := p.register(ctx, a); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Addr is Host:Port.
func (p *Prosody) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// JID returns the bare JID of an account user on the auth domain.
func (p *Prosody) JID(user string) string { return user + "@" + p.Domain }

// Start runs prosody with the written config and waits until the c2s port accepts
// connections. It is called by StartProsody and may be called again after Kill.
func (p *Prosody) Start(t testing.TB) {
	t.Helper()
	if err := p.run(context.Background()); err != nil {
		t.Fatalf("%v", err)
	}
}

// run starts prosody and waits, bounded by ctx and p.startTimeout, for the c2s port. On
// failure prosody is not left running.
func (p *Prosody) run(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("xmpptest: prosody already running")
	}
	out, err := os.OpenFile(filepath.Join(p.Dir, "prosody.stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	cmd := exec.Command("prosody", "--config", p.ConfigPath, "-F")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("xmpptest: start prosody: %w", err)
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(exit)
	}()
	p.cmd, p.exit = cmd, exit
	ctx, cancel := context.WithTimeout(ctx, p.startTimeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exit:
			p.cmd = nil
			return fmt.Errorf("xmpptest: prosody exited during startup; log:\n%s\nstdout:\n%s",
				TailFile(p.LogPath, 40), TailFile(filepath.Join(p.Dir, "prosody.stdout"), 40))
		case <-ctx.Done():
			_ = p.killLocked()
			return fmt.Errorf("xmpptest: prosody not listening on %s after %v: %w; log:\n%s",
				p.Addr(), p.startTimeout, ctx.Err(), TailFile(p.LogPath, 40))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL to prosody and waits for it to exit. Safe to call when not running.
func (p *Prosody) Kill(t testing.TB) {
	t.Helper()
	if err := p.Stop(); err != nil {
		t.Errorf("%v", err)
	}
}

// Stop is Kill without testing.TB: SIGKILL, then a bounded wait for the exit. Safe to call
// when not running.
func (p *Prosody) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killLocked()
}

func (p *Prosody) killLocked() error {
	if p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil }()
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exit:
		return nil
	case <-time.After(p.startTimeout):
		return fmt.Errorf("xmpptest: prosody pid %d did not exit after SIGKILL", p.cmd.Process.Pid)
	}
}

// Restart kills prosody and starts it again on the same port with the same data: existing
// client connections drop, accounts survive, MUC rooms are gone.
func (p *Prosody) Restart(t testing.TB) {
	t.Helper()
	p.Kill(t)
	p.Start(t)
}

func (p *Prosody) register(ctx context.Context, a Account) error {
	ctx, cancel := context.WithTimeout(ctx, p.startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "prosodyctl", "--config", p.ConfigPath, "register", a.User, p.Domain, a.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xmpptest: prosodyctl register %s: %w\n%s", a.User, err, out)
	}
	return nil
}

// config renders the Lua configuration. Loopback only: no s2s, http or component ports.
func (p *Prosody) config(opts Options) string {
	q := strconv.Quote // Go's quoting is valid Lua for the paths and names used here
	var b strings.Builder
	fmt.Fprintf(&b, "pidfile = %s\n", q(filepath.Join(p.Dir, "prosody.pid")))
	fmt.Fprintf(&b, "data_path = %s\n", q(filepath.Join(p.Dir, "data")))
	fmt.Fprintf(&b, "admin_socket = %s\n", q(filepath.Join(p.Dir, "prosody.sock")))
	fmt.Fprintf(&b, "certificates = %s\n", q(filepath.Join(p.Dir, "certs")))
	fmt.Fprintf(&b, "log = { info = %s; error = \"*console\"; }\n", q(p.LogPath))
	b.WriteString(`plugin_paths = {}
run_as_root = true
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = {}
s2s_ports = {}
component_ports = {}
http_ports = {}
https_ports = {}
s2s_require_encryption = false
storage = "internal"
`)
	rate := opts.C2SRate
	if rate == "" {
		rate = "10mb/s"
	}
	fmt.Fprintf(&b, "limits = { c2s = { rate = %s; burst = \"2s\" } }\n", q(rate))
	fmt.Fprintf(&b, "c2s_ports = { %d }\n", p.Port)
	if opts.TLS {
		b.WriteString(`modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "presence"; "posix"; }
modules_disabled = { "s2s"; "offline" }
c2s_require_encryption = true
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
`)
	} else {
		b.WriteString(`modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence"; "posix"; }
modules_disabled = { "s2s"; "tls"; "offline" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
`)
	}
	fmt.Fprintf(&b, "\nVirtualHost %s\n", q(p.Domain))
	if opts.TLS {
		fmt.Fprintf(&b, "  ssl = { certificate = %s; key = %s; }\n",
			q(filepath.Join(p.Dir, "certs", p.Domain+".crt")), q(filepath.Join(p.Dir, "certs", p.Domain+".key")))
	}
	fmt.Fprintf(&b, "\nComponent %s \"muc\"\n", q(p.MUCDomain))
	b.WriteString("  modules_enabled = {}\n  muc_room_locking = false\n  restrict_room_creation = false\n  muc_tombstones = false\n")
	fmt.Fprintf(&b, "  muc_room_default_public_jids = %t\n", !opts.AnonymousRooms)
	return b.String()
}

// FreeTCPPort asks the kernel for a free loopback TCP port. Another process could take it before
// it is bound; on these single-tenant test machines that has not been a problem.
func FreeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("xmpptest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TailFile returns the last lines of a log file (or the read error), for failure reports.
func TailFile(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	all := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}
