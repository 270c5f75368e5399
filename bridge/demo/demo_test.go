package demo

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

func TestRoutes(t *testing.T) {
	vb := newTestBridge(t, nil)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := startDemo(t, vb, Options{SCTP: true, Fallback: api})
	tests := []struct {
		method, path string
		code         int
		typ, body    string // content type prefix and a part of the body
	}{
		{"GET", "/", 200, "text/html", "standalone demo"},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/demo/app.js", 200, "text/javascript", "ReceiverVideoConstraints"},
		{"GET", "/demo/sdp.js", 200, "text/javascript", "mungeSimulcast"},
		{"GET", "/demo/style.css", 200, "text/css", ".tile"},
		{"GET", "/demo/missing.js", 404, "", ""},
		{"GET", "/demo/ws", 426, "", ""}, // not an upgrade
		{"GET", "/about/health", 418, "", ""},
		{"POST", "/", 418, "", ""},
		{"GET", "/index.html", 418, "", ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.typ) || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s %s = %d %q (%d bytes), want %d %q containing %q", tt.method, tt.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), len(b), tt.code, tt.typ, tt.body)
		}
		if tt.code == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s %s: no Content-Security-Policy", tt.method, tt.path)
		}
	}

	// Without a fallback, unknown paths are 404.
	bare := startDemo(t, vb, Options{SCTP: true})
	resp, err := http.Get(bare.URL + "/about/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("without fallback: %d", resp.StatusCode)
	}
}

// TestCrossOriginSocket: another site cannot open the signalling socket from a visitor's
// browser.
func TestCrossOriginSocket(t *testing.T) {
	srv := startDemo(t, newTestBridge(t, nil), Options{SCTP: true})
	h := http.Header{"Origin": []string{"https://evil.example"}}
	_, resp, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+SocketPath,
		&websocket.DialOptions{HTTPHeader: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin dial: err %v, response %v", err, resp)
	}
}
