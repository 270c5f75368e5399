package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// allOn enables every API.
func allOn() Options {
	return Options{
		Version: "2.3.0-gabcdef", RESTEnabled: true, ShutdownEnabled: true, DrainEnabled: true,
		HealthEnabled: true, VersionEnabled: true, PrometheusEnabled: true, Log: zap.NewNop(),
	}
}

// reply is the part of a response the tests compare.
type reply struct {
	Status      int
	ContentType string
	Body        string
	CORS        string
}

func do(t *testing.T, h http.Handler, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return reply{
		Status:      res.StatusCode,
		ContentType: res.Header.Get("Content-Type"),
		Body:        string(b),
		CORS:        res.Header.Get("Access-Control-Allow-Origin"),
	}
}

func TestEndpoints(t *testing.T) {
	wantOS := osName(runtime.GOOS)
	tests := []struct {
		name           string
		healthErr      error
		stats          []Stat
		method, path   string
		body           string
		want           reply
		wantDrainAfter bool
	}{
		{name: "health ok", method: "GET", path: "/about/health",
			want: reply{200, "application/json", "", "*"}},
		{name: "health HEAD", method: "HEAD", path: "/about/health",
			want: reply{200, "application/json", "", "*"}},
		{name: "health failing", healthErr: errFakeUnhealthy, method: "GET", path: "/about/health",
			want: reply{500, "text/plain; charset=utf-8", "health check failed: ice agent stuck", "*"}},
		{name: "version", method: "GET", path: "/about/version",
			want: reply{200, "application/json", `{"name":"JVB","version":"2.3.0-gabcdef","os":"` + wantOS + `"}`, "*"}},
		{name: "stats", stats: []Stat{{"conferences", 2}, {"stress_level", 0.0}, {"drain", false}, {"version", "2.3"}},
			method: "GET", path: "/colibri/stats",
			want: reply{200, "application/json", `{"conferences":2,"stress_level":0.0,"drain":false,"version":"2.3"}`, "*"}},
		{name: "stats empty", method: "GET", path: "/colibri/stats",
			want: reply{200, "application/json", `{}`, "*"}},
		{name: "drain state", method: "GET", path: "/colibri/drain",
			want: reply{200, "application/json", `{"drain":false}`, "*"}},
		{name: "drain enable", method: "POST", path: "/colibri/drain/enable",
			want: reply{200, "", "", "*"}, wantDrainAfter: true},
		{name: "drain disable", method: "POST", path: "/colibri/drain/disable",
			want: reply{200, "", "", "*"}},
		{name: "health POST", method: "POST", path: "/about/health",
			want: reply{405, "text/plain; charset=utf-8", "Method Not Allowed\n", "*"}},
		{name: "drain enable GET", method: "GET", path: "/colibri/drain/enable",
			want: reply{405, "text/plain; charset=utf-8", "Method Not Allowed\n", "*"}},
		{name: "shutdown GET", method: "GET", path: "/colibri/shutdown",
			want: reply{405, "text/plain; charset=utf-8", "Method Not Allowed\n", "*"}},
		{name: "stats POST", method: "POST", path: "/colibri/stats",
			want: reply{405, "text/plain; charset=utf-8", "Method Not Allowed\n", "*"}},
		{name: "TRACE known path", method: "TRACE", path: "/about/health",
			want: reply{405, "text/plain; charset=utf-8", "method not allowed\n", "*"}},
		{name: "TRACE unknown path", method: "TRACE", path: "/nope",
			want: reply{405, "text/plain; charset=utf-8", "method not allowed\n", "*"}},
		{name: "unknown path", method: "GET", path: "/colibri/conferences",
			want: reply{404, "text/plain; charset=utf-8", "404 page not found\n", "*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &fakeBridge{healthErr: tt.healthErr, stats: tt.stats}
			h := NewHandler(fb, nil, NewRegistry(), allOn())
			got := do(t, h, tt.method, tt.path, tt.body, nil)
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if fb.Drain() != tt.wantDrainAfter {
				t.Errorf("drain after = %v, want %v", fb.Drain(), tt.wantDrainAfter)
			}
		})
	}
}

func TestDisabledAPIsAnswer404(t *testing.T) {
	paths := []struct{ method, path string }{
		{"GET", "/about/health"},
		{"GET", "/about/version"},
		{"GET", "/colibri/stats"},
		{"POST", "/colibri/shutdown"},
		{"GET", "/colibri/drain"},
		{"POST", "/colibri/drain/enable"},
		{"POST", "/colibri/drain/disable"},
		{"GET", "/metrics"},
	}
	// statusOf answers each path's status under opts.
	statusOf := func(opts Options, reg bool) []int {
		h := NewHandler(&fakeBridge{}, nil, nil, opts)
		if reg {
			h = NewHandler(&fakeBridge{}, nil, NewRegistry(), opts)
		}
		var out []int
		for _, p := range paths {
			body := ""
			if p.path == "/colibri/shutdown" {
				body = `{"graceful-shutdown": true}`
			}
			out = append(out, do(t, h, p.method, p.path, body, nil).Status)
		}
		return out
	}
	tests := []struct {
		name string
		opts Options
		reg  bool
		want []int
	}{
		{"all off", Options{}, true, []int{404, 404, 404, 404, 404, 404, 404, 404}},
		{"all on", allOn(), true, []int{200, 200, 200, 200, 200, 200, 200, 200}},
		// JVB defaults: COLIBRI REST and shutdown off, the rest on.
		{"jvb defaults", Options{DrainEnabled: true, HealthEnabled: true, VersionEnabled: true, PrometheusEnabled: true},
			true, []int{200, 200, 404, 404, 200, 200, 200, 200}},
		// /colibri/shutdown needs both switches.
		{"shutdown without rest", Options{ShutdownEnabled: true}, true, []int{404, 404, 404, 404, 404, 404, 404, 404}},
		{"rest without shutdown", Options{RESTEnabled: true}, true, []int{404, 404, 200, 404, 404, 404, 404, 404}},
		{"prometheus without registry", Options{PrometheusEnabled: true}, false, []int{404, 404, 404, 404, 404, 404, 404, 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusOf(tt.opts, tt.reg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestShutdownBodies(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		wantStatus    int
		wantGraceful  int
		wantImmediate int
	}{
		{"bool true", `{"graceful-shutdown": true}`, 200, 1, 0},
		{"string true (graceful_shutdown.sh)", `{"graceful-shutdown": "true"}`, 200, 1, 0},
		{"string TRUE", `{"graceful-shutdown":"TRUE"}`, 200, 1, 0},
		{"bool false", `{"graceful-shutdown": false}`, 200, 0, 1},
		{"string false", `{"graceful-shutdown": "false"}`, 200, 0, 1},
		{"extra properties ignored", `{"x":1,"graceful-shutdown":true}`, 200, 1, 0},
		{"missing property", `{}`, 400, 0, 0},
		{"other property", `{"graceful":true}`, 400, 0, 0},
		{"null property", `{"graceful-shutdown": null}`, 400, 0, 0},
		{"number", `{"graceful-shutdown": 1}`, 400, 0, 0},
		{"other string", `{"graceful-shutdown": "yes"}`, 400, 0, 0},
		{"malformed", `{"graceful-shutdown": tru`, 400, 0, 0},
		{"trailing garbage", `{"graceful-shutdown": true} x`, 400, 0, 0},
		{"array", `[true]`, 400, 0, 0},
		{"null body", `null`, 400, 0, 0},
		{"empty body", ``, 400, 0, 0},
		{"too large", `{"x":"` + strings.Repeat("a", maxShutdownBody) + `","graceful-shutdown":true}`, 413, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &fakeBridge{}
			h := NewHandler(fb, nil, nil, allOn())
			got := do(t, h, "POST", "/colibri/shutdown", tt.body, map[string]string{"Content-Type": "application/json"})
			if got.Status != tt.wantStatus {
				t.Errorf("status = %d (%q), want %d", got.Status, got.Body, tt.wantStatus)
			}
			if g, i := fb.shutdownCalls(); g != tt.wantGraceful || i != tt.wantImmediate {
				t.Errorf("calls graceful=%d immediate=%d, want %d/%d", g, i, tt.wantGraceful, tt.wantImmediate)
			}
		})
	}
}

func TestParseShutdownRequest(t *testing.T) {
	tests := []struct {
		body     string
		graceful bool
		err      error
	}{
		{`{"graceful-shutdown":true}`, true, nil},
		{`{"graceful-shutdown":"True"}`, true, nil},
		{`{"graceful-shutdown":false}`, false, nil},
		{`{"graceful-shutdown":"false"}`, false, nil},
		{`{}`, false, ErrShutdownPropertyMissing},
		{`{"graceful-shutdown":null}`, false, ErrShutdownPropertyMissing},
		{`{"graceful-shutdown":0}`, false, ErrShutdownPropertyInvalid},
		{`{"graceful-shutdown":{}}`, false, ErrShutdownPropertyInvalid},
		{`{"graceful-shutdown":"1"}`, false, ErrShutdownPropertyInvalid},
		{`"true"`, false, ErrShutdownBodyMalformed},
		{`{`, false, ErrShutdownBodyMalformed},
		{``, false, ErrShutdownBodyMalformed},
	}
	for _, tt := range tests {
		g, err := ParseShutdownRequest([]byte(tt.body))
		if g != tt.graceful || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ParseShutdownRequest(%q) = %v, %v; want %v, %v", tt.body, g, err, tt.graceful, tt.err)
		}
	}
}

func TestDrainToggle(t *testing.T) {
	fb := &fakeBridge{}
	h := NewHandler(fb, nil, nil, allOn())
	steps := []struct {
		method, path string
		want         reply
	}{
		{"GET", "/colibri/drain", reply{200, "application/json", `{"drain":false}`, "*"}},
		{"POST", "/colibri/drain/enable", reply{200, "", "", "*"}},
		{"GET", "/colibri/drain", reply{200, "application/json", `{"drain":true}`, "*"}},
		{"POST", "/colibri/drain/enable", reply{200, "", "", "*"}}, // idempotent
		{"GET", "/colibri/drain", reply{200, "application/json", `{"drain":true}`, "*"}},
		{"POST", "/colibri/drain/disable", reply{200, "", "", "*"}},
		{"GET", "/colibri/drain", reply{200, "application/json", `{"drain":false}`, "*"}},
	}
	for i, s := range steps {
		if got := do(t, h, s.method, s.path, "", nil); got != s.want {
			t.Errorf("step %d %s %s: got %+v, want %+v", i, s.method, s.path, got, s.want)
		}
	}
}

// TestStatsKeyOrder decodes /colibri/stats token by token and checks that the
// keys come out exactly in Stats() order and the values keep their JSON types.
func TestStatsKeyOrder(t *testing.T) {
	fb := &fakeBridge{stats: sampleStats()}
	h := NewHandler(fb, nil, nil, allOn())
	got := do(t, h, "GET", "/colibri/stats", "", nil)
	if got.Status != 200 {
		t.Fatalf("status %d", got.Status)
	}
	dec := json.NewDecoder(strings.NewReader(got.Body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("first token %v, %v", tok, err)
	}
	var keys []string
	var kinds []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		v, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, reflect.TypeOf(v).String())
	}
	var wantKeys, wantKinds []string
	for _, s := range sampleStats() {
		wantKeys = append(wantKeys, s.Name)
		switch s.Value.(type) {
		case bool:
			wantKinds = append(wantKinds, "bool")
		case string:
			wantKinds = append(wantKinds, "string")
		default:
			wantKinds = append(wantKinds, "json.Number")
		}
	}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("keys\n got %v\nwant %v", keys, wantKeys)
	}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("value kinds\n got %v\nwant %v", kinds, wantKinds)
	}
}

func TestCORSPreflight(t *testing.T) {
	h := NewHandler(&fakeBridge{}, nil, nil, allOn())
	req := httptest.NewRequest("OPTIONS", "/colibri/stats", nil)
	req.Header.Set("Origin", "https://meet.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	got := map[string]string{
		"status":  http.StatusText(rec.Code),
		"origin":  rec.Header().Get("Access-Control-Allow-Origin"),
		"methods": rec.Header().Get("Access-Control-Allow-Methods"),
		"headers": rec.Header().Get("Access-Control-Allow-Headers"),
	}
	want := map[string]string{
		"status":  "No Content",
		"origin":  "*",
		"methods": "GET, POST, HEAD",
		"headers": "X-Requested-With, Content-Type, Accept, Origin",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// A plain OPTIONS (not a preflight) is a wrong method.
	if r := do(t, h, "OPTIONS", "/colibri/stats", "", nil); r.Status != 405 {
		t.Errorf("plain OPTIONS status = %d, want 405", r.Status)
	}
}

func TestOSName(t *testing.T) {
	for goos, want := range map[string]string{"linux": "Linux", "darwin": "Mac OS X", "windows": "Windows", "plan9": "plan9"} {
		if got := osName(goos); got != want {
			t.Errorf("osName(%q) = %q, want %q", goos, got, want)
		}
	}
}
