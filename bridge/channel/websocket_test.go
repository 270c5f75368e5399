package channel

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
	"github.com/coder/websocket"
	"go.uber.org/zap"
)

func TestParseWebSocketPath(t *testing.T) {
	tests := []struct {
		path             string
		server, conf, ep string
		ok               bool
	}{
		{"/colibri-ws/jvb1/c0ffee/a1b2c3d4", "jvb1", "c0ffee", "a1b2c3d4", true},
		{"/colibri-ws/default-id/c/e/extra/more", "default-id", "c", "e", true},
		{"/colibri-ws/my%2Fserver/c/ep%20x", "my/server", "c", "ep x", true},
		{"/colibri-ws//c/e", "", "c", "e", true},
		{"/colibri-ws/jvb1/c", "", "", "", false},
		{"/colibri-ws/", "", "", "", false},
		{"/colibri-relay-ws/jvb1/c/r", "", "", "", false},
		{"/colibri-ws/jvb1/c/%zz", "", "", "", false},
	}
	for _, tt := range tests {
		s, c, e, err := ParseWebSocketPath(tt.path)
		if (err == nil) != tt.ok || s != tt.server || c != tt.conf || e != tt.ep {
			t.Errorf("%s: got %q %q %q %v", tt.path, s, c, e, err)
		}
	}
}

type wsFixture struct {
	th  *testHub
	srv *httptest.Server
	ep  *Channel
}

// newWSFixture serves colibri-ws for conference "c1" with endpoints ep1 (pwd "secret1") and
// ep2 (pwd "secret2").
func newWSFixture(t *testing.T, cfg WebSocketConfig) *wsFixture {
	t.Helper()
	th := newTestHub(t, newFakeConf(cam("ep1", "ep1-v0")), Options{})
	f := &wsFixture{th: th, ep: th.add(t, "ep1", false)}
	th.add(t, "ep2", false)
	pwds := map[string]string{"ep1": "secret1", "ep2": "secret2"}
	cfg.ServerID = "jvb1"
	cfg.Log = zap.NewNop()
	cfg.Password = func(conf, ep string) (string, bool) {
		p, ok := pwds[ep]
		return p, ok && conf == "c1"
	}
	cfg.Channel = func(conf, ep string) (*Channel, bool) {
		if conf != "c1" {
			return nil, false
		}
		return th.Channel(ep)
	}
	mux := http.NewServeMux()
	mux.Handle(WebSocketPathPrefix, NewWebSocketHandler(cfg))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *wsFixture) url(path string) string {
	return "ws" + strings.TrimPrefix(f.srv.URL, "http") + path
}

func (f *wsFixture) dial(t *testing.T, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, f.url(path), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	if resp.Body != nil {
		_ = resp.Body.Close()
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func read(t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	typ, b, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("got a %v message", typ)
	}
	return string(b)
}

func readAll(t *testing.T, conn *websocket.Conn, want ...bc.Message) {
	t.Helper()
	for i, m := range want {
		if got, w := read(t, conn), string(bc.Marshal(m)); got != w {
			t.Fatalf("message %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

// closeStatus reads until the socket ends and returns the server's close frame.
func closeStatus(t *testing.T, conn *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	for {
		_, _, err := conn.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("socket ended without a close frame: %v", err)
		}
		return ce
	}
}

func write(t *testing.T, conn *websocket.Conn, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(js)); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketRefusals(t *testing.T) {
	f := newWSFixture(t, WebSocketConfig{})
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/colibri-ws/jvb1/c1", http.StatusNotFound, "invalid path"},
		{"/colibri-ws/other/c1/ep1?pwd=secret1", http.StatusNotFound, "server ID mismatch"},
		{"/colibri-ws/jvb1/c1/ep1?pwd=wrong", http.StatusForbidden, "authentication failed"},
		{"/colibri-ws/jvb1/c1/ep1?pwd=secret2", http.StatusForbidden, "authentication failed"},
		{"/colibri-ws/jvb1/c1/ep1?pwd=secret1x", http.StatusForbidden, "authentication failed"},
		{"/colibri-ws/jvb1/c1/ep1?x=1&pwd=secret1", http.StatusForbidden, "authentication failed"},
		{"/colibri-ws/jvb1/c1/ep1", http.StatusForbidden, "authentication failed"},
		{"/colibri-ws/jvb1/c2/ep1?pwd=secret1", http.StatusForbidden, "authentication failed"},
		{"/colibri-ws/jvb1/c1/nobody?pwd=secret1", http.StatusForbidden, "authentication failed"},
	}
	for _, tt := range tests {
		resp, err := http.Get(f.srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tt.status || strings.TrimSpace(string(body)) != tt.body {
			t.Errorf("%s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
	}
	// A WebSocket client with a wrong password is refused before the upgrade.
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, f.url("/colibri-ws/jvb1/c1/ep1?pwd=nope"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong pwd: %v %v", resp, err)
	}
}

func TestWebSocketSession(t *testing.T) {
	f := newWSFixture(t, WebSocketConfig{})
	conn := f.dial(t, "/colibri-ws/jvb1/c1/ep1?pwd=secret1")
	// ServerHello first, then the resync.
	readAll(t, conn, &bc.ServerHello{},
		&bc.SenderSourceConstraints{SourceName: "ep1-v0"}, &bc.ForwardedSources{})
	write(t, conn, `{"colibriClass":"ClientHello"}`)
	readAll(t, conn, &bc.ServerHello{})

	// A message from ep2 reaches ep1 over its socket.
	ep2, _ := f.th.Channel("ep2")
	l2 := connect(t, ep2)
	expect(t, l2, &bc.ForwardedSources{})
	receive(t, ep2, l2, `{"colibriClass":"EndpointMessage","to":"ep1","msgPayload":{"n":1}}`)
	if got, want := read(t, conn), `{"colibriClass":"EndpointMessage","to":"ep1","msgPayload":{"n":1},"from":"ep2"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// ep1 → ep2 over the socket.
	write(t, conn, `{"colibriClass":"EndpointMessage","to":"ep2","msgPayload":{"n":2}}`)
	expectRaw(t, l2, `{"colibriClass":"EndpointMessage","to":"ep2","msgPayload":{"n":2},"from":"ep1"}`, 0)

	// Reconnecting (the client re-dials the same URL) replaces the old socket with 1000
	// "replaced" and resyncs the new one with the current state.
	f.th.SetForwardedSources("ep1", strs("ep2-v0"))
	readAll(t, conn, &bc.ForwardedSources{ForwardedSources: strs("ep2-v0")})
	f.th.conf.mu.Lock()
	f.th.conf.forwarded["ep1"] = strs("ep2-v0")
	f.th.conf.mu.Unlock()
	f.th.SetEndpointActive("ep2", false)
	readAll(t, conn, &bc.EndpointConnectivityStatusChangeEvent{Endpoint: "ep2", Active: false})
	conn2 := f.dial(t, "/colibri-ws/jvb1/c1/ep1?pwd=secret1")
	if ce := closeStatus(t, conn); ce.Code != websocket.StatusNormalClosure || ce.Reason != "replaced" {
		t.Fatalf("old socket closed with %v", ce)
	}
	readAll(t, conn2, &bc.ServerHello{},
		&bc.SenderSourceConstraints{SourceName: "ep1-v0"},
		&bc.ForwardedSources{ForwardedSources: strs("ep2-v0")},
		&bc.EndpointConnectivityStatusChangeEvent{Endpoint: "ep2", Active: false})

	// Endpoint expiry closes the socket with 1001 "endpoint closed".
	f.th.RemoveEndpoint("ep1")
	if ce := closeStatus(t, conn2); ce.Code != websocket.StatusGoingAway || ce.Reason != "endpoint closed" {
		t.Fatalf("expiry closed with %v", ce)
	}
	if f.ep.Connected() {
		t.Fatal("closed channel still connected")
	}
}

func TestWebSocketIdleTimeout(t *testing.T) {
	// Pings every 20 ms keep a silent but responsive client alive well past the idle timeout.
	f := newWSFixture(t, WebSocketConfig{PingInterval: 20 * time.Millisecond, IdleTimeout: time.Second})
	conn := f.dial(t, "/colibri-ws/jvb1/c1/ep1?pwd=secret1")
	pongs := make(chan error, 1)
	go func() { // reading answers the server's pings
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				pongs <- err
				return
			}
		}
	}()
	time.Sleep(2 * time.Second)
	write(t, conn, `{"colibriClass":"ClientHello"}`)
	ep2, _ := f.th.Channel("ep2")
	l2 := connect(t, ep2)
	expect(t, l2, &bc.ForwardedSources{})
	write(t, conn, `{"colibriClass":"EndpointMessage","to":"ep2","msgPayload":{}}`)
	expectRaw(t, l2, `{"colibriClass":"EndpointMessage","to":"ep2","msgPayload":{},"from":"ep1"}`, 0)
	_ = conn.CloseNow()
	<-pongs

	// Without pings a silent client is closed once the idle timeout passes.
	f2 := newWSFixture(t, WebSocketConfig{PingInterval: time.Hour, IdleTimeout: 200 * time.Millisecond})
	conn = f2.dial(t, "/colibri-ws/jvb1/c1/ep1?pwd=secret1")
	if ce := closeStatus(t, conn); ce.Code != websocket.StatusGoingAway || ce.Reason != "idle timeout" {
		t.Fatalf("idle socket closed with %v", ce)
	}
}
