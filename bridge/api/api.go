// Package api is the bridge's private HTTP server: the JVB REST surface that
// docker healthchecks, the graceful-shutdown script, autoscalers and Prometheus
// scrapers talk to (/about/health, /about/version, /colibri/stats,
// /colibri/drain, /colibri/shutdown, /metrics).
//
// The package declares the small interfaces it consumes (Bridge, XMPPStatus);
// bridge/control satisfies them. Nothing here mutates bridge state except
// through those interfaces.
package api

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Stat is one /colibri/stats entry. Value is an int64, int, float64, bool or
// string (other numeric kinds are accepted too; anything else is rendered with
// fmt, as JVB's Jackson shim falls back to toString()).
type Stat struct {
	Name  string
	Value any
}

// Bridge is what the HTTP API needs from the bridge core.
type Bridge interface {
	// Health returns nil when healthy, otherwise the reason.
	Health() error
	// Stats returns JVB's /colibri/stats keys, in JVB's order
	// (VideobridgeStatisticsShim; signaling.md §5.2).
	Stats() []Stat
	// Drain reports drain mode; SetDrain changes it (reversible, §5.4).
	Drain() bool
	SetDrain(on bool)
	// StartGracefulShutdown enters GRACEFUL_SHUTDOWN; StartShutdown goes
	// straight to SHUTTING_DOWN (§5.4).
	StartGracefulShutdown()
	StartShutdown()
}

// XMPPStatus exposes the XMPP client counters that JVB publishes as metrics.
// It is optional: pass nil when XMPP is not configured.
type XMPPStatus interface {
	ClientsConfigured() int
	ClientsConnected() int
	MUCsConfigured() int
	MUCsJoined() int
	Disconnects() uint64
}

// Options selects which APIs are served. A disabled API answers 404, like
// JVB's @EnabledByConfig filter (signaling.md §5.1).
type Options struct {
	// Version is the bridge version, e.g. "2.3.0-gabcdef", served by
	// /about/version.
	Version string
	// RESTEnabled is videobridge.apis.rest.enabled (the COLIBRI API):
	// /colibri/stats, and /colibri/shutdown together with ShutdownEnabled.
	RESTEnabled bool
	// ShutdownEnabled is videobridge.rest.shutdown.enabled.
	ShutdownEnabled bool
	// DrainEnabled is videobridge.rest.drain.enabled.
	DrainEnabled bool
	// HealthEnabled is videobridge.rest.health.enabled.
	HealthEnabled bool
	// VersionEnabled is videobridge.rest.version.enabled.
	VersionEnabled bool
	// PrometheusEnabled is videobridge.rest.prometheus.enabled.
	PrometheusEnabled bool
	// Log receives request-level events (drain, shutdown); nil means no logs.
	Log *zap.Logger
}

// Sentinel errors.
var (
	// ErrShutdownBodyMalformed: the /colibri/shutdown body is not a JSON object.
	ErrShutdownBodyMalformed = errors.New("api: malformed shutdown request body")
	// ErrShutdownPropertyMissing: "graceful-shutdown" is absent or null
	// (JVB declares it required).
	ErrShutdownPropertyMissing = errors.New("api: missing graceful-shutdown property")
	// ErrShutdownPropertyInvalid: "graceful-shutdown" is neither a boolean nor
	// the string "true"/"false".
	ErrShutdownPropertyInvalid = errors.New("api: invalid graceful-shutdown value")
	// ErrServerStarted: Start was called twice.
	ErrServerStarted = errors.New("api: server already started")
)

// handler carries the dependencies shared by the route functions.
type handler struct {
	b    Bridge
	x    XMPPStatus
	reg  prometheus.Gatherer
	opts Options
	log  *zap.Logger
}

// NewHandler builds the private server's handler. Routes of disabled APIs are
// not registered, so they answer 404; a wrong method on a served path answers
// 405 (ServeMux method patterns). reg may be nil, which disables /metrics.
//
// x is not read by any route today: XMPP figures reach clients through the
// metrics registered by RegisterBridgeMetrics and through Stats(). It is kept
// so routes such as /colibri/muc-client/list can be added without changing
// callers.
func NewHandler(b Bridge, x XMPPStatus, reg prometheus.Gatherer, opts Options) http.Handler {
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	h := &handler{b: b, x: x, reg: reg, opts: opts, log: log.With(zap.String("component", "api"))}

	mux := http.NewServeMux()
	if opts.HealthEnabled {
		mux.HandleFunc("GET /about/health", h.health)
	}
	if opts.VersionEnabled {
		mux.HandleFunc("GET /about/version", h.version)
	}
	if opts.RESTEnabled {
		mux.HandleFunc("GET /colibri/stats", h.stats)
	}
	if opts.RESTEnabled && opts.ShutdownEnabled {
		mux.HandleFunc("POST /colibri/shutdown", h.shutdown)
	}
	if opts.DrainEnabled {
		mux.HandleFunc("GET /colibri/drain", h.drainState)
		mux.HandleFunc("POST /colibri/drain/enable", h.drainSet(true))
		mux.HandleFunc("POST /colibri/drain/disable", h.drainSet(false))
	}
	if opts.PrometheusEnabled && reg != nil {
		mux.HandleFunc("GET /metrics", h.metrics)
	}
	return withCORS(rejectTrace(mux))
}

// rejectTrace answers TRACE with 405 on every path: JVB's Jetty setup
// disables TRACE globally (cross-site tracing), not only on known routes.
func rejectTrace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodTrace {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CORS values follow Jetty's CrossOriginFilter defaults, which JVB enables on
// the private server with allowedOrigins "*".
const (
	corsAllowMethods = "GET, POST, HEAD"
	corsAllowHeaders = "X-Requested-With, Content-Type, Accept, Origin"
)

// withCORS adds Access-Control-Allow-Origin: * to every response and answers
// CORS preflight requests (OPTIONS with Access-Control-Request-Method), which
// ServeMux would otherwise reject with 405.
func withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", corsAllowMethods)
			w.Header().Set("Access-Control-Allow-Headers", corsAllowHeaders)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
