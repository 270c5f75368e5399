package api

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// FuzzParseShutdownRequest: the body comes from any local HTTP client. The
// parser must never panic, must return one of its sentinels on failure, and
// must agree with encoding/json on what a boolean property is.
func FuzzParseShutdownRequest(f *testing.F) {
	for _, s := range []string{
		`{"graceful-shutdown": true}`, `{"graceful-shutdown": "true"}`, `{"graceful-shutdown": false}`,
		`{"graceful-shutdown": null}`, `{}`, `{"graceful-shutdown": 1}`, `[`, ``, `null`,
		`{"graceful-shutdown": "TrUe", "graceful-shutdown": false}`, "\xff{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		g, err := ParseShutdownRequest(body)
		if err != nil {
			if g {
				t.Errorf("error %v with graceful=true", err)
			}
			if !errors.Is(err, ErrShutdownBodyMalformed) && !errors.Is(err, ErrShutdownPropertyMissing) &&
				!errors.Is(err, ErrShutdownPropertyInvalid) {
				t.Errorf("unexpected error %v", err)
			}
			return
		}
		var probe struct {
			G any `json:"graceful-shutdown"`
		}
		if json.Unmarshal(body, &probe) != nil {
			t.Fatalf("accepted %q that encoding/json rejects", body)
		}
		if b, ok := probe.G.(bool); ok && b != g {
			t.Errorf("%q: got %v, JSON says %v", body, g, b)
		}
	})
}

// FuzzParseAccept: the Accept header is attacker-controlled. Parsing must not
// panic, must bound its output, and every range must be well formed.
func FuzzParseAccept(f *testing.F) {
	for _, s := range []string{
		"", "*/*", "text/plain;version=0.0.4",
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		`a/b;x="1,\"2";q=0.3`, "a/b;q=NaN", "a/b;q=1e-400", `"`, ";;,,//",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		ranges := ParseAccept(header)
		if len(ranges) > maxAcceptRanges {
			t.Fatalf("%d ranges", len(ranges))
		}
		for _, mr := range ranges {
			if mr.Type == "" || mr.Subtype == "" || math.IsNaN(mr.Q) || mr.Q < 0 || mr.Q > 1 {
				t.Errorf("bad range %+v from %q", mr, header)
			}
			if mr.Type == "*" && mr.Subtype != "*" {
				t.Errorf("bad wildcard %+v from %q", mr, header)
			}
		}
		_ = NegotiateMetricsFormat(header)
	})
}

// FuzzAppendStatsJSON: stat names and string values may hold anything; the
// output must stay valid JSON with the names in order.
func FuzzAppendStatsJSON(f *testing.F) {
	f.Add("conferences", "2.3.0", int64(3), 0.5, true)
	f.Add("k\"\\\n\x00", "\xff\xfe<script>", int64(math.MinInt64), math.Inf(-1), false)
	f.Add("", "", int64(0), math.NaN(), true)
	f.Fuzz(func(t *testing.T, name, s string, i int64, fl float64, b bool) {
		stats := []Stat{{name + "1", s}, {name + "2", i}, {name + "3", fl}, {name + "4", b}}
		out := AppendStatsJSON(nil, stats)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
	})
}
