package bench

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
	"syscall"
	"time"
)

// ErrNoProsody means the self-contained mode cannot run: it needs the prosody binaries.
var ErrNoProsody = errors.New("bench: prosody is not installed (apt-get install -y prosody)")

// Prosody is a private, loopback-only Prosody the self-contained mode starts as the XMPP server
// between the embedded focus (integration/focus, Jicofo's emulator) and the bridge: the bridge
// binary serves colibri2 only over XMPP, as JVB does, so "needs nothing else" means the harness
// brings its own server. It does what xmpp/xmpptest does for tests, without testing.TB:
// a configuration in Dir, the jvb and focus accounts registered with prosodyctl, `prosody -F`
// in its own process group, SIGKILL on Close.
type Prosody struct {
	Host, Domain, MUCDomain, Brewery string
	Port                             int
	JVBUser, JVBPassword             string
	FocusUser, FocusPassword         string
	Dir                              string

	cmd  *exec.Cmd
	exit chan struct{}
}

// prosodyStartTimeout bounds registration and start-up.
const prosodyStartTimeout = 15 * time.Second

// StartProsody starts a Prosody whose files live in dir (created if needed).
func StartProsody(ctx context.Context, dir string) (*Prosody, error) {
	for _, bin := range []string{"prosody", "prosodyctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNoProsody, bin, err)
		}
	}
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	p := &Prosody{Host: "127.0.0.1", Port: port, Domain: "auth.meet.test", MUCDomain: "internal.auth.meet.test",
		JVBUser: "jvb", JVBPassword: randomToken(16), FocusUser: "focus", FocusPassword: randomToken(16), Dir: dir}
	p.Brewery = "jvbbrewery@" + p.MUCDomain
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("bench: prosody dir: %w", err)
	}
	cfg := filepath.Join(dir, "prosody.cfg.lua")
	if err := os.WriteFile(cfg, []byte(p.config()), 0o600); err != nil {
		return nil, fmt.Errorf("bench: prosody config: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, prosodyStartTimeout)
	defer cancel()
	for _, a := range [][2]string{{p.JVBUser, p.JVBPassword}, {p.FocusUser, p.FocusPassword}} {
		out, err := exec.CommandContext(ctx, "prosodyctl", "--config", cfg, "register", a[0], p.Domain, a[1]).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("bench: prosodyctl register %s: %w: %s", a[0], err, bytes.TrimSpace(out))
		}
	}
	if err := p.start(ctx, cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// Addr is the c2s address.
func (p *Prosody) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

func (p *Prosody) start(ctx context.Context, cfg string) error {
	out, err := os.Create(filepath.Join(p.Dir, "prosody.stdout"))
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	cmd := exec.Command("prosody", "--config", cfg, "-F")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("bench: start prosody: %w", err)
	}
	p.cmd, p.exit = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(p.exit) }()
	for {
		c, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.exit:
			return fmt.Errorf("bench: prosody exited at start-up:\n%s", tailFile(filepath.Join(p.Dir, "prosody.log"), 20))
		case <-ctx.Done():
			p.Close()
			return fmt.Errorf("bench: prosody not listening on %s: %w", p.Addr(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close kills Prosody and waits (bounded) for it to exit.
func (p *Prosody) Close() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exit:
	case <-time.After(5 * time.Second):
	}
	p.cmd = nil
}

// config is loopback-only: no s2s, HTTP or component ports; plain c2s with PLAIN auth (the
// focus and the bridge log in over loopback); the brewery on an internal MUC component, as
// the Debian and docker Jitsi layouts have it.
func (p *Prosody) config() string {
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "pidfile = %s\ndata_path = %s\nadmin_socket = %s\n", q(filepath.Join(p.Dir, "prosody.pid")),
		q(filepath.Join(p.Dir, "data")), q(filepath.Join(p.Dir, "prosody.sock")))
	fmt.Fprintf(&b, "log = { info = %s; error = \"*console\"; }\n", q(filepath.Join(p.Dir, "prosody.log")))
	fmt.Fprintf(&b, "c2s_ports = { %d }\n", p.Port)
	b.WriteString(`plugin_paths = {}
run_as_root = true
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = {}
s2s_ports = {}
component_ports = {}
http_ports = {}
https_ports = {}
storage = "internal"
limits = { c2s = { rate = "100mb/s"; burst = "2s" } }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence"; "posix"; }
modules_disabled = { "s2s"; "tls"; "offline" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
`)
	fmt.Fprintf(&b, "\nVirtualHost %s\n", q(p.Domain))
	fmt.Fprintf(&b, "\nComponent %s \"muc\"\n", q(p.MUCDomain))
	b.WriteString("  modules_enabled = {}\n  muc_room_locking = false\n  restrict_room_creation = false\n  muc_tombstones = false\n")
	return b.String()
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func tailFile(path string, lines int) string {
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
