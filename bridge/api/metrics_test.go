package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var startedAt = time.UnixMilli(1_787_000_000_000)

// bridgeRegistry returns a registry holding the bridge collector over
// sampleStats (with a fixed start time) plus the event metrics.
func bridgeRegistry(t *testing.T, fb *fakeBridge, x XMPPStatus) *prometheus.Registry {
	t.Helper()
	reg := NewRegistry()
	reg.MustRegister(newBridgeCollector(fb, x, startedAt))
	c2 := NewColibri2Metrics(reg)
	c2.Observe(Colibri2ResultSuccess, 2*time.Millisecond)
	c2.Observe("item-not-found", 30*time.Millisecond)
	NewXMPPMetrics(reg).SetConnected("shard0", true)
	return reg
}

// wantJVB is every unlabelled jitsi_jvb_* sample expected from sampleStats
// and fakeXMPP{2,1,1,1,3}. Metrics whose stats key is missing from
// sampleStats (e.g. tcc_unmatched_feedback) must be absent.
var wantJVB = map[string]float64{
	"jitsi_jvb_conferences":                       1,
	"jitsi_jvb_current_endpoints":                 4,
	"jitsi_jvb_local_endpoints":                   3,
	"jitsi_jvb_stress":                            0.0412,
	"jitsi_jvb_healthy":                           1,
	"jitsi_jvb_graceful_shutdown":                 0,
	"jitsi_jvb_shutting_down":                     0,
	"jitsi_jvb_drain_mode":                        1,
	"jitsi_jvb_largest_conference":                4,
	"jitsi_jvb_incoming_loss_fraction":            0.0125,
	"jitsi_jvb_outgoing_loss_fraction":            0,
	"jitsi_jvb_loss_fraction":                     0.005,
	"jitsi_jvb_incoming_bitrate":                  1834000,
	"jitsi_jvb_outgoing_bitrate":                  3620000,
	"jitsi_jvb_incoming_packet_rate":              210,
	"jitsi_jvb_outgoing_packet_rate":              415,
	"jitsi_jvb_average_rtt":                       42.5,
	"jitsi_jvb_endpoints_with_high_outgoing_loss": 1,
	"jitsi_jvb_active_endpoints":                  3,
	"jitsi_jvb_endpoints_relayed":                 1,
	"jitsi_jvb_conferences_with_relay":            0,
	"jitsi_jvb_conferences_inactive":              0,
	"jitsi_jvb_conferences_p2p":                   0,
	"jitsi_jvb_thread_count":                      57,
	"jitsi_jvb_conferences_created_total":         17,
	"jitsi_jvb_conferences_completed_total":       16,
	"jitsi_jvb_endpoints_total":                   58,
	"jitsi_jvb_bytes_received_total":              123456789,
	"jitsi_jvb_bytes_sent_total":                  987654321,
	"jitsi_jvb_packets_received_total":            100000,
	"jitsi_jvb_packets_sent_total":                200000,
	"jitsi_jvb_dominant_speaker_changes_total":    9,
	"jitsi_jvb_endpoints_ice_failed_total":        2,
	"jitsi_jvb_muc_clients_configured":            2,
	"jitsi_jvb_muc_clients_connected":             1,
	"jitsi_jvb_mucs_configured":                   1,
	"jitsi_jvb_mucs_connected":                    1,
	"jitsi_jvb_mucs_joined":                       1,
	"jitsi_jvb_xmpp_disconnects_total":            3,
	"jitsi_jvb_startup_time":                      1_787_000_000_000,
}

// wantLabelled are the labelled and histogram samples of bridgeRegistry.
var wantLabelled = map[string]float64{
	`jitsi_jvb_region_info{region="eu-west-1"}`:                       1,
	`jitsi_jvb_colibri2_requests_total{result="success"}`:             1,
	`jitsi_jvb_colibri2_requests_total{result="item-not-found"}`:      1,
	`jitsi_jvb_colibri2_request_duration_seconds_count`:               2,
	`jitsi_jvb_colibri2_request_duration_seconds_sum`:                 0.032,
	`jitsi_jvb_colibri2_request_duration_seconds_bucket{le="0.0025"}`: 1,
	`jitsi_jvb_colibri2_request_duration_seconds_bucket{le="0.05"}`:   2,
	`jitsi_jvb_xmpp_connected{client="shard0"}`:                       1,
}

var testXMPP = fakeXMPP{clientsConfigured: 2, clientsConnected: 1, mucsConfigured: 1, mucsJoined: 1, disconnects: 3}

// flatten turns families into sample-name → value, keeping only jitsi_jvb_*.
// Histograms contribute _count, _sum and the buckets named in wantLabelled.
func flatten(families []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range families {
		name := mf.GetName()
		if !strings.HasPrefix(name, metricPrefix) {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := name + labelString(m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_UNTYPED:
				out[key] = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"] = round(m.GetHistogram().GetSampleSum())
				for _, b := range m.GetHistogram().GetBucket() {
					k := fmt.Sprintf(`%s_bucket{le="%g"}`, name, b.GetUpperBound())
					if _, want := wantLabelled[k]; want {
						out[k] = float64(b.GetCumulativeCount())
					}
				}
			}
		}
	}
	return out
}

func round(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func wantAll() map[string]float64 {
	all := map[string]float64{}
	for k, v := range wantJVB {
		all[k] = v
	}
	for k, v := range wantLabelled {
		all[k] = v
	}
	return all
}

func TestMetricsTextFormat(t *testing.T) {
	fb := &fakeBridge{stats: sampleStats()}
	h := NewHandler(fb, nil, bridgeRegistry(t, fb, testXMPP), allOn())
	for _, accept := range []string{"", "text/plain", "text/plain;version=0.0.4;q=0.5,application/x-unknown"} {
		got := do(t, h, "GET", "/metrics", "", map[string]string{"Accept": accept})
		if got.Status != 200 || got.ContentType != "text/plain; version=0.0.4; charset=utf-8" {
			t.Fatalf("Accept %q: status %d, content type %q", accept, got.Status, got.ContentType)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(got.Body))
		if err != nil {
			t.Fatalf("Accept %q: parse: %v", accept, err)
		}
		var list []*dto.MetricFamily
		for _, mf := range fams {
			list = append(list, mf)
		}
		if diff := diffMaps(flatten(list), wantAll()); diff != "" {
			t.Errorf("Accept %q: samples differ:\n%s", accept, diff)
		}
		if _, ok := fams["go_goroutines"]; !ok {
			t.Errorf("Accept %q: Go collector missing", accept)
		}
	}
}

func TestMetricsOpenMetricsFormat(t *testing.T) {
	fb := &fakeBridge{stats: sampleStats()}
	h := NewHandler(fb, nil, bridgeRegistry(t, fb, testXMPP), allOn())
	// Prometheus' own scrape Accept header, and curl's default.
	for _, accept := range []string{
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		"*/*",
	} {
		got := do(t, h, "GET", "/metrics", "", map[string]string{"Accept": accept})
		if got.Status != 200 || got.ContentType != "application/openmetrics-text; version=1.0.0; charset=utf-8" {
			t.Fatalf("Accept %q: status %d, content type %q", accept, got.Status, got.ContentType)
		}
		lines := map[string]bool{}
		for _, l := range strings.Split(got.Body, "\n") {
			lines[l] = true
		}
		for _, want := range []string{
			"# TYPE jitsi_jvb_conferences gauge",
			"jitsi_jvb_conferences 1.0",
			"# TYPE jitsi_jvb_conferences_created counter",
			"jitsi_jvb_conferences_created_total 17.0",
			"jitsi_jvb_endpoints_total 58.0",
			"jitsi_jvb_stress 0.0412",
			"jitsi_jvb_drain_mode 1.0",
			"jitsi_jvb_packets_received_total 100000.0",
			"jitsi_jvb_xmpp_disconnects_total 3.0",
			`jitsi_jvb_colibri2_requests_total{result="item-not-found"} 1.0`,
			`jitsi_jvb_region_info{region="eu-west-1"} 1.0`,
		} {
			if !lines[want] {
				t.Errorf("Accept %q: missing line %q", accept, want)
			}
		}
		if !strings.HasSuffix(got.Body, "# EOF\n") {
			t.Errorf("Accept %q: OpenMetrics body must end with # EOF", accept)
		}
	}
}

func TestMetricsJSONFormat(t *testing.T) {
	fb := &fakeBridge{stats: sampleStats()}
	h := NewHandler(fb, nil, bridgeRegistry(t, fb, testXMPP), allOn())
	got := do(t, h, "GET", "/metrics", "", map[string]string{"Accept": "application/json"})
	if got.Status != 200 || got.ContentType != "application/json" {
		t.Fatalf("status %d, content type %q", got.Status, got.ContentType)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(got.Body), &obj); err != nil {
		t.Fatalf("invalid JSON %q: %v", got.Body, err)
	}
	want := map[string]any{}
	for k, v := range wantJVB {
		name := strings.TrimPrefix(k, metricPrefix)
		if boolMetricNames[k] {
			want[name] = v != 0
		} else {
			want[name] = v
		}
	}
	if !reflect.DeepEqual(obj, want) {
		t.Errorf("JSON metrics differ:\n got %v\nwant %v", obj, want)
	}
	// Integral values print like jicoco's longs, not as 1.0.
	if !strings.Contains(got.Body, `"conferences":1,`) || !strings.Contains(got.Body, `"healthy":true`) {
		t.Errorf("unexpected number/bool rendering: %s", got.Body)
	}
}

func TestMetricsNotAcceptable(t *testing.T) {
	h := NewHandler(&fakeBridge{}, nil, NewRegistry(), allOn())
	got := do(t, h, "GET", "/metrics", "", map[string]string{"Accept": "text/html, application/xml;q=0.9"})
	if got.Status != 406 {
		t.Errorf("status = %d, want 406", got.Status)
	}
}

func TestCollectorReadsStatsOncePerScrape(t *testing.T) {
	fb := &fakeBridge{stats: sampleStats()}
	reg := prometheus.NewRegistry()
	if err := RegisterBridgeMetrics(reg, fb, nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
		if fb.statsCalls != i {
			t.Fatalf("after %d scrapes Stats() was called %d times", i, fb.statsCalls)
		}
	}
}

func TestXMPPMetricsWithoutXMPP(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newBridgeCollector(&fakeBridge{}, nil, startedAt))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"jitsi_jvb_muc_clients_configured": 0,
		"jitsi_jvb_muc_clients_connected":  0,
		"jitsi_jvb_mucs_configured":        0,
		"jitsi_jvb_mucs_connected":         0,
		"jitsi_jvb_mucs_joined":            0,
		"jitsi_jvb_xmpp_disconnects_total": 0,
		"jitsi_jvb_startup_time":           1_787_000_000_000,
	}
	if diff := diffMaps(flatten(fams), want); diff != "" {
		t.Errorf("empty stats, nil XMPP:\n%s", diff)
	}
}

func TestRegisterBridgeMetricsTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := RegisterBridgeMetrics(reg, &fakeBridge{}, nil); err != nil {
		t.Fatal(err)
	}
	err := RegisterBridgeMetrics(reg, &fakeBridge{}, nil)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("second registration error = %v, want AlreadyRegisteredError", err)
	}
}

func TestEventMetricsReuseRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewColibri2Metrics(reg).Observe("", time.Second)
	NewColibri2Metrics(reg).Observe("", time.Second) // same collectors, no panic
	x := NewXMPPMetrics(reg)
	x.SetConnected("a", true)
	x.SetConnected("b", true)
	NewXMPPMetrics(reg).SetConnected("b", false)
	x.SetConnected("c", false)
	x.Forget("c")
	var nilC *Colibri2Metrics
	nilC.Observe("success", time.Second) // nil-safe
	var nilX *XMPPMetrics
	nilX.SetConnected("a", false)
	nilX.Forget("a")

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := flatten(fams)
	want := map[string]float64{
		`jitsi_jvb_colibri2_requests_total{result="success"}`:             0,
		`jitsi_jvb_colibri2_requests_total{result="unknown"}`:             2,
		`jitsi_jvb_colibri2_request_duration_seconds_count`:               2,
		`jitsi_jvb_colibri2_request_duration_seconds_sum`:                 2,
		`jitsi_jvb_colibri2_request_duration_seconds_bucket{le="0.0025"}`: 0,
		`jitsi_jvb_colibri2_request_duration_seconds_bucket{le="0.05"}`:   0,
		`jitsi_jvb_xmpp_connected{client="a"}`:                            1,
		`jitsi_jvb_xmpp_connected{client="b"}`:                            0,
	}
	if diff := diffMaps(got, want); diff != "" {
		t.Errorf("event metrics:\n%s", diff)
	}
}

func TestNegotiateMetricsFormat(t *testing.T) {
	tests := []struct {
		accept string
		want   MetricsFormat
	}{
		{"", MetricsText},
		{"   ", MetricsText},
		{"text/plain", MetricsText},
		{"text/plain; version=0.0.4", MetricsText},
		{"text/*", MetricsText},
		{"application/openmetrics-text; version=1.0.0", MetricsOpenMetrics},
		{"*/*", MetricsOpenMetrics},
		{"application/*", MetricsOpenMetrics},
		{"application/json", MetricsJSON},
		{"APPLICATION/JSON", MetricsJSON},
		{"text/plain;q=0.5, application/json", MetricsJSON},
		{"application/json;q=0.2, text/plain;q=0.9", MetricsText},
		{"text/plain, application/json", MetricsText}, // equal q: header order
		{"application/json;q=0, text/plain;q=0.1", MetricsText},
		{"application/json;q=0", MetricsNone},
		{"text/html", MetricsNone},
		{"image/png, text/html;q=0.8", MetricsNone},
		{"garbage, application/json", MetricsJSON},
		{`application/json;foo="a,b";q=0.4, text/plain;q=0.3`, MetricsJSON},
		{"application/json;q=2, text/plain;q=0.1", MetricsText}, // invalid q drops the range
	}
	for _, tt := range tests {
		if got := NegotiateMetricsFormat(tt.accept); got != tt.want {
			t.Errorf("NegotiateMetricsFormat(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestParseAccept(t *testing.T) {
	tests := []struct {
		header string
		want   []MediaRange
	}{
		{"", nil},
		{"text/plain", []MediaRange{{"text", "plain", 1}}},
		{" Text/Plain ; Q=0.5 ; version=0.0.4 , */*;q=0.1",
			[]MediaRange{{"text", "plain", 0.5}, {"*", "*", 0.1}}},
		{`a/b;x="1,2;q=0";q=0.3,c/d`, []MediaRange{{"a", "b", 0.3}, {"c", "d", 1}}},
		{"noslash, /x, x/, */json, a/b;q=abc, a/b;q=-1, ok/yes", []MediaRange{{"ok", "yes", 1}}},
	}
	for _, tt := range tests {
		if got := ParseAccept(tt.header); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAccept(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
	long := strings.Repeat("a/b,", 1000)
	if got := len(ParseAccept(long)); got != maxAcceptRanges {
		t.Errorf("ParseAccept of 1000 ranges kept %d, want %d", got, maxAcceptRanges)
	}
}

// diffMaps lists keys whose values differ, sorted, or "" when equal.
func diffMaps(got, want map[string]float64) string {
	var lines []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("missing %s (want %v)", k, w))
		case g != w:
			lines = append(lines, fmt.Sprintf("%s = %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("unexpected %s = %v", k, g))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
