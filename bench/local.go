package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// bridgeConfig is the jvb.conf the harness writes: loopback private HTTP on a free port, a
// free media port, the bench Prosody as its only XMPP client, and no public-address health
// requirement (loopback only).
func bridgeConfig(p *xmpptest.Prosody, httpPort, mediaPort int, nick string) string {
	return fmt.Sprintf(`videobridge {
  http-servers.private { host = "127.0.0.1", port = %d }
  ice.udp.port = %d
  health.require-valid-address = false
  apis.xmpp-client.configs.bench {
    HOSTNAME = "127.0.0.1"
    PORT = %d
    DOMAIN = %q
    USERNAME = %q
    PASSWORD = %q
    MUC_JIDS = %q
    MUC_NICKNAME = %q
  }
}
`, httpPort, mediaPort, p.Port, p.Domain, p.JVB.User, p.JVB.Password, p.Brewery, nick)
}

// StartLocalBridge runs bin with a generated jvb.conf in dir, pinned with taskset to cpus when
// set, and waits for its HTTP API.
func StartLocalBridge(ctx context.Context, bin, dir string, p *xmpptest.Prosody, cpus string, extraConf string) (*LocalBridge, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("bench: bridge binary %s: %w (build it with `make build`)", bin, err)
	}
	httpPort, err := xmpptest.FreeTCPPort()
	if err != nil {
		return nil, err
	}
	mediaPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	b := &LocalBridge{HTTP: "http://127.0.0.1:" + strconv.Itoa(httpPort), MediaPort: mediaPort,
		Nick: "bench-" + randomToken(6), LogPath: filepath.Join(dir, "bridge.log"),
		ConfigPath: filepath.Join(dir, "jvb.conf"), exited: make(chan struct{})}
	conf := bridgeConfig(p, httpPort, mediaPort, b.Nick) + extraConf
	if err := os.WriteFile(b.ConfigPath, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	logf, err := os.Create(b.LogPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	args := []string{"--config", b.ConfigPath}
	if cpus != "" {
		// taskset before exec, so the Go runtime sizes GOMAXPROCS from the affinity mask.
		if _, err := exec.LookPath("taskset"); err != nil {
			logf.Close()
			return nil, fmt.Errorf("bench: --bridge-cpus needs taskset (util-linux): %w", err)
		}
		args = append([]string{"-c", cpus, bin}, args...)
		bin = "taskset"
	}
	cmd := exec.Command(bin, args...)
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
	return b, nil
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

// PID is the bridge's process ID (taskset execs the bridge in place, so it is the same).
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
