package api

import (
	"bytes"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/zap"
)

// MetricsFormat is a /metrics response format.
type MetricsFormat uint8

const (
	// MetricsNone: nothing the client accepts is supported (406).
	MetricsNone MetricsFormat = iota
	// MetricsText is the Prometheus text format 0.0.4.
	MetricsText
	// MetricsOpenMetrics is OpenMetrics 1.0.0.
	MetricsOpenMetrics
	// MetricsJSON is jicoco's flat JSON object {name: value}.
	MetricsJSON
)

// MediaRange is one element of an Accept header (RFC 9110 §12.5.1).
type MediaRange struct {
	Type, Subtype string  // lower-cased; "*" for wildcards
	Q             float64 // 0..1, default 1
}

// maxAcceptRanges bounds the work spent on a hostile Accept header.
const maxAcceptRanges = 64

// ParseAccept splits an Accept header into media ranges, in header order.
// Malformed elements are skipped rather than failing the whole header, and
// commas inside quoted parameter values do not split elements.
func ParseAccept(header string) []MediaRange {
	var out []MediaRange
	for _, elem := range splitOutsideQuotes(header, ',') {
		if len(out) == maxAcceptRanges {
			break
		}
		if mr, ok := parseMediaRange(elem); ok {
			out = append(out, mr)
		}
	}
	return out
}

func parseMediaRange(elem string) (MediaRange, bool) {
	parts := splitOutsideQuotes(elem, ';')
	typ, sub, ok := strings.Cut(strings.TrimSpace(parts[0]), "/")
	typ, sub = strings.ToLower(strings.TrimSpace(typ)), strings.ToLower(strings.TrimSpace(sub))
	if !ok || typ == "" || sub == "" || (typ == "*" && sub != "*") {
		return MediaRange{}, false
	}
	mr := MediaRange{Type: typ, Subtype: sub, Q: 1}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(q) || q < 0 || q > 1 {
			return MediaRange{}, false
		}
		mr.Q = q
	}
	return mr, true
}

// splitOutsideQuotes splits s on sep, ignoring separators inside
// double-quoted strings (with backslash escapes). It always returns at least
// one element.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// NegotiateMetricsFormat picks the /metrics format for an Accept header,
// following JVB's Prometheus resource (signaling.md §5.2): highest q first,
// header order among equal q; application/openmetrics-text (and */*, as
// Jersey resolves it for JVB) → OpenMetrics, text/plain → text 0.0.4,
// application/json → JSON. A missing or empty header means text 0.0.4 —
// JVB throws there, Prometheus' own default is text.
func NegotiateMetricsFormat(accept string) MetricsFormat {
	if strings.TrimSpace(accept) == "" {
		return MetricsText
	}
	ranges := ParseAccept(accept)
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].Q > ranges[j].Q })
	for _, mr := range ranges {
		if mr.Q == 0 {
			break // q=0 means "not acceptable"; the rest are q=0 too
		}
		if f := formatFor(mr); f != MetricsNone {
			return f
		}
	}
	return MetricsNone
}

func formatFor(mr MediaRange) MetricsFormat {
	switch {
	case mr.Type == "*", mr.Type == "application" && mr.Subtype == "*",
		mr.Type == "application" && mr.Subtype == "openmetrics-text":
		return MetricsOpenMetrics
	case mr.Type == "text" && (mr.Subtype == "plain" || mr.Subtype == "*"):
		return MetricsText
	case mr.Type == "application" && mr.Subtype == "json":
		return MetricsJSON
	}
	return MetricsNone
}

// metrics serves GET /metrics in the negotiated format.
func (h *handler) metrics(w http.ResponseWriter, r *http.Request) {
	format := NegotiateMetricsFormat(r.Header.Get("Accept"))
	if format == MetricsNone {
		http.Error(w, "supported: text/plain;version=0.0.4, application/openmetrics-text;version=1.0.0, application/json",
			http.StatusNotAcceptable)
		return
	}
	families, err := h.reg.Gather()
	if err != nil {
		// Like promhttp's ContinueOnError: a broken collector must not hide
		// every other metric from the scraper.
		h.log.Warn("metrics gathering reported errors", zap.Error(err))
	}
	var buf bytes.Buffer
	var contentType string
	switch format {
	case MetricsJSON:
		contentType = contentTypeJSON
		buf.Write(appendMetricsJSON(nil, families))
	default:
		f := expfmt.NewFormat(expfmt.TypeTextPlain)
		if format == MetricsOpenMetrics {
			f = expfmt.NewFormat(expfmt.TypeOpenMetrics)
		}
		contentType = string(f)
		enc := expfmt.NewEncoder(&buf, f)
		for _, mf := range families {
			if err := enc.Encode(mf); err != nil {
				h.log.Error("metrics encoding failed", zap.String("family", mf.GetName()), zap.Error(err))
				http.Error(w, "metrics encoding failed", http.StatusInternalServerError)
				return
			}
		}
		if c, ok := enc.(expfmt.Closer); ok {
			_ = c.Close() // writes the OpenMetrics "# EOF" line; buffer writes cannot fail
		}
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(buf.Bytes())
}

// appendMetricsJSON renders jicoco's MetricsContainer.jsonString: one flat
// object of the jitsi_jvb_* metrics keyed by their name without the prefix
// (counters keep _total), booleans as JSON booleans. Like jicoco, only
// single-valued metrics appear: histograms, summaries and labelled families
// (colibri2 results, per-client XMPP state) are left to the text formats, and
// the Go/process collectors are not part of the bridge's container.
func appendMetricsJSON(dst []byte, families []*dto.MetricFamily) []byte {
	dst = append(dst, '{')
	first := true
	for _, mf := range families {
		name := mf.GetName()
		if !strings.HasPrefix(name, metricPrefix) || len(mf.GetMetric()) != 1 {
			continue
		}
		m := mf.GetMetric()[0]
		if len(m.GetLabel()) != 0 {
			continue
		}
		var v float64
		switch mf.GetType() {
		case dto.MetricType_GAUGE:
			v = m.GetGauge().GetValue()
		case dto.MetricType_COUNTER:
			v = m.GetCounter().GetValue()
		case dto.MetricType_UNTYPED:
			v = m.GetUntyped().GetValue()
		default:
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, strings.TrimPrefix(name, metricPrefix))
		dst = append(dst, ':')
		switch {
		case boolMetricNames[name]:
			dst = strconv.AppendBool(dst, v != 0)
		case v == math.Trunc(v) && math.Abs(v) < 1<<53:
			// jicoco's long gauges and counters print without a fraction.
			dst = strconv.AppendInt(dst, int64(v), 10)
		default:
			dst = appendJavaDouble(dst, v, 64)
		}
	}
	return append(dst, '}')
}
