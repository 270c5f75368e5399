package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Colibri2Metrics counts colibri2 requests by result and records their
// processing time. Jicofo gives up on a request after 15 s and then marks the
// bridge non-operational (signaling.md pitfall 11), so the histogram's top
// buckets sit around that limit.
type Colibri2Metrics struct {
	requests *prometheus.CounterVec
	duration prometheus.Histogram
}

// colibri2DurationBuckets span a fast in-memory update (sub-millisecond) to
// Jicofo's 15 s reply timeout.
var colibri2DurationBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15,
}

// Colibri2ResultSuccess is the result label of a request answered without an
// IQ error; errors use their XMPP condition name (e.g. "item-not-found").
const Colibri2ResultSuccess = "success"

// NewColibri2Metrics registers jitsi_jvb_colibri2_requests_total{result} and
// jitsi_jvb_colibri2_request_duration_seconds into reg. Calling it again with
// the same registry returns metrics backed by the already registered
// collectors. It panics if reg holds a different collector under these names
// (a programming error, as with MustRegister).
func NewColibri2Metrics(reg prometheus.Registerer) *Colibri2Metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricPrefix + "colibri2_requests_total",
		Help: "Number of colibri2 conference-modify requests processed, by result (success or XMPP error condition).",
	}, []string{"result"})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    metricPrefix + "colibri2_request_duration_seconds",
		Help:    "Time from receiving a colibri2 request to sending its response.",
		Buckets: colibri2DurationBuckets,
	})
	m := &Colibri2Metrics{
		requests: mustRegisterOrExisting(reg, requests),
		duration: mustRegisterOrExisting(reg, duration),
	}
	// Export the success series at 0 so rate() works from the first scrape.
	m.requests.WithLabelValues(Colibri2ResultSuccess)
	return m
}

// Observe records one processed request. result is Colibri2ResultSuccess or
// the XMPP error condition; it must come from a fixed set (label cardinality).
// A nil *Colibri2Metrics ignores the call, so tests may pass nil.
func (m *Colibri2Metrics) Observe(result string, d time.Duration) {
	if m == nil {
		return
	}
	if result == "" {
		result = "unknown"
	}
	m.requests.WithLabelValues(result).Inc()
	m.duration.Observe(d.Seconds())
}

// XMPPMetrics publishes jitsi_jvb_xmpp_connected{client}: 1 while the XMPP
// client with that id (videobridge.apis.xmpp-client.configs.<id>) is
// connected, 0 otherwise.
type XMPPMetrics struct {
	connected *prometheus.GaugeVec
}

// NewXMPPMetrics registers jitsi_jvb_xmpp_connected into reg, reusing an
// already registered collector like NewColibri2Metrics.
func NewXMPPMetrics(reg prometheus.Registerer) *XMPPMetrics {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: metricPrefix + "xmpp_connected",
		Help: "Whether the XMPP client connection with this id is connected (1) or not (0).",
	}, []string{"client"})
	return &XMPPMetrics{connected: mustRegisterOrExisting(reg, g)}
}

// SetConnected records the connection state of one XMPP client. Nil-safe.
func (m *XMPPMetrics) SetConnected(clientID string, connected bool) {
	if m == nil {
		return
	}
	v := 0.0
	if connected {
		v = 1
	}
	m.connected.WithLabelValues(clientID).Set(v)
}

// Forget drops the series of a removed XMPP client. Nil-safe.
func (m *XMPPMetrics) Forget(clientID string) {
	if m == nil {
		return
	}
	m.connected.DeleteLabelValues(clientID)
}

// mustRegisterOrExisting registers c, or returns the collector already
// registered with the same descriptors. Any other registration error panics.
func mustRegisterOrExisting[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Errorf("api: register metrics: %w", err))
}
