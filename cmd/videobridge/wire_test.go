package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/config"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

func TestConstraintsMessage(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string // JSON of the decoded message; "" for an error
	}{
		{"legacy body", `{"defaultConstraints":{"maxHeight":180},"constraints":{"a-v0":{"maxHeight":720}}}`,
			`{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":180},"constraints":{"a-v0":{"maxHeight":720}}}`},
		{"full message", `{"colibriClass":"ReceiverVideoConstraints","lastN":2,"onStageSources":["a-v0"]}`,
			`{"colibriClass":"ReceiverVideoConstraints","lastN":2,"onStageSources":["a-v0"]}`},
		{"empty object", `{}`, `{"colibriClass":"ReceiverVideoConstraints"}`},
		{"other class", `{"colibriClass":"EndpointMessage","to":"a"}`, ""},
		{"class not a string", `{"colibriClass":1}`, ""},
		{"not an object", `[1]`, ""},
		{"null", `null`, ""},
		{"not JSON", `{`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := constraintsMessage([]byte(tc.body))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted: %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := bridgechannel.Decode(got)
			if err != nil {
				t.Fatalf("%s does not decode: %v", got, err)
			}
			w, _ := bridgechannel.Decode([]byte(tc.want))
			if string(bridgechannel.Marshal(m)) != string(bridgechannel.Marshal(w)) {
				t.Errorf("got %s, want %s", bridgechannel.Marshal(m), bridgechannel.Marshal(w))
			}
		})
	}
}

// FuzzConstraintsMessage: any body either is refused or becomes a ReceiverVideoConstraints
// that the bridge channel decodes.
func FuzzConstraintsMessage(f *testing.F) {
	for _, s := range []string{`{}`, `{"defaultConstraints":{"maxHeight":180}}`, `{"colibriClass":"ReceiverVideoConstraints"}`,
		`{"colibriClass":"X"}`, `[]`, `null`, `{"constraints":{"a":{"maxHeight":-1}},"lastN":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := constraintsMessage(body)
		if err != nil {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(out, &obj) != nil || string(obj["colibriClass"]) != `"ReceiverVideoConstraints"` {
			t.Fatalf("%q became %q", body, out)
		}
	})
}

// TestStandaloneAndPublicServers wires the bridge on the embedded defaults (no XMPP client)
// with a public server: the private server serves the demo page at / with the REST API
// behind it, and the public one answers colibri-ws paths.
func TestStandaloneAndPublicServers(t *testing.T) {
	cfg := config.Default()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.ICE.UDPPort = pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	cfg.HTTP.Private.Port = 0
	cfg.HTTP.Public.Host, cfg.HTTP.Public.Port = "127.0.0.1", 0
	cfg.Websockets.Enabled, cfg.Websockets.ServerID = true, "s1"
	b, err := wire(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.startHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.vb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.http.Shutdown(ctx)
		_ = b.public.Shutdown(ctx)
		b.closeMedia()
	})
	get := func(base, path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, tc := range []struct {
		server, path string
		code         int
		contains     string
	}{
		{b.http.Addr(), "/", 200, "standalone demo"},
		{b.http.Addr(), "/about/health", 200, ""},
		{b.public.Addr(), "/colibri-ws/other/conf/ep?pwd=x", 404, "server ID mismatch"},
		{b.public.Addr(), "/colibri-ws/s1/conf/ep?pwd=x", 403, "authentication failed"},
		{b.public.Addr(), "/", 404, ""},
	} {
		code, body := get(tc.server, tc.path)
		if code != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s on %s: %d %q, want %d with %q", tc.path, tc.server, code, body, tc.code, tc.contains)
		}
	}
}
