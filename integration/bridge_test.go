package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/integration/focus"
	"github.com/cityjitsi/videobridge/xmpp/xmpptest"
)

// The bridge binary under test, built once by TestMain.
var bridgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vb-integration")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bridgeBin = filepath.Join(dir, "videobridge")
	build := exec.Command("go", "build", "-o", bridgeBin, "github.com/cityjitsi/videobridge/cmd/videobridge")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the bridge:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedTestdata is the Jitsi configuration folder shipped beside the project.
func sharedTestdata(t testing.TB, name string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "shared", "testdata", "jitsi", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test data missing: %v", err)
	}
	return p
}

func freeTCPPort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeUDPPort(t testing.TB) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runningBridge is a bridge process started from a jvb.conf.
type runningBridge struct {
	cmd     *exec.Cmd
	media   int
	httpURL string
	logPath string
	exited  chan struct{}
}

// startBridge runs the bridge binary with the given jvb.conf text and waits for its HTTP API.
func startBridge(t testing.TB, conf string) *runningBridge {
	t.Helper()
	dir := t.TempDir()
	confPath := filepath.Join(dir, "jvb.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	httpPort, mediaPort := freeTCPPort(t), freeUDPPort(t)
	// Each test gets free private HTTP and media ports.
	extra := fmt.Sprintf("\nvideobridge.http-servers.private.port = %d\nvideobridge.ice.udp.port = %d\n", httpPort, mediaPort)
	if err := os.WriteFile(confPath, []byte(conf+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "bridge.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bridgeBin, "--config", confPath, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rb := &runningBridge{cmd: cmd, media: mediaPort, httpURL: "http://127.0.0.1:" + strconv.Itoa(httpPort), logPath: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(rb.exited) }()
	t.Cleanup(func() {
		rb.stop(t)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("bridge log:\n%s", tailLines(string(b), 60))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(rb.httpURL + "/about/version"); err == nil {
			resp.Body.Close()
			return rb
		}
		select {
		case <-rb.exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("bridge exited at start-up:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("bridge HTTP API did not come up within 15 s")
	return nil
}

func (rb *runningBridge) stop(t testing.TB) {
	select {
	case <-rb.exited:
		return
	default:
	}
	_ = rb.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-rb.exited:
	case <-time.After(10 * time.Second):
		_ = rb.cmd.Process.Kill()
		<-rb.exited
		t.Error("bridge did not exit within 10 s of SIGTERM")
	}
}

func (rb *runningBridge) mediaPort(testing.TB) int { return rb.media }

func (rb *runningBridge) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(rb.httpURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (rb *runningBridge) post(t testing.TB, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(rb.httpURL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// debianProsody starts a Prosody with the accounts and brewery of debian-jvb.conf, so the
// bridge runs on that file unchanged except for the port of the test server.
func debianProsody(t testing.TB, tls bool) *xmpptest.Prosody {
	return xmpptest.StartProsody(t, xmpptest.Options{
		TLS:       tls,
		Domain:    "auth.meet.example.org",
		MUCDomain: "internal.auth.meet.example.org",
		JVB:       xmpptest.Account{User: "jvb", Password: "Xq3vT9pLw2"},
	})
}

// debianConf is debian-jvb.conf, included unchanged, pointed at the test Prosody's port.
func debianConf(t testing.TB, p *xmpptest.Prosody) string {
	return fmt.Sprintf("include %q\nvideobridge.apis.xmpp-client.configs.shard.PORT = %d\n",
		sharedTestdata(t, "debian-jvb.conf"), p.Port)
}

const debianNick = "6f1c3f0e-2a9b-4d7e-9c55-0d7a8e1b2c34"

func joinFocus(t testing.TB, p *xmpptest.Prosody) *focus.Focus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := focus.Join(ctx, focus.Options{Addr: p.Addr(), Domain: p.Domain, Username: p.Focus.User,
		Password: p.Focus.Password, TLS: p.TLS, Brewery: p.Brewery})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}
