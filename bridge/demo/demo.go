package demo

import (
	"embed"
	"io/fs"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/control"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxRooms        = 50
	DefaultMaxParticipants = 20
	// DefaultRequestTimeout is how long Jicofo waits for a colibri2 answer.
	DefaultRequestTimeout = 15 * time.Second
	// DefaultKeepaliveInterval follows JVB's colibri-ws keepalive pings (media.md §1.2).
	DefaultKeepaliveInterval = 15 * time.Second
)

// Paths served by the handler; everything else goes to Options.Fallback.
const (
	PagePath   = "/"
	StaticPath = "/demo/"
	SocketPath = "/demo/ws"
)

// Options configure the standalone demo.
type Options struct {
	Log *zap.Logger
	// SCTP is videobridge.sctp.enabled. The focus asks the bridge for an SCTP data channel only
	// when it is on, as Jicofo does for a bridge without SCTP; the page then uses the colibri-ws
	// URL of the transport instead (videobridge.websockets).
	SCTP bool
	// Fallback serves every request that is not the demo's, e.g. the private REST API when the
	// demo is mounted at the server root. nil answers 404.
	Fallback http.Handler

	MaxRooms        int           // rooms at once; DefaultMaxRooms when 0
	MaxParticipants int           // participants per room; DefaultMaxParticipants when 0
	RequestTimeout  time.Duration // per bridge request; DefaultRequestTimeout when 0
	// KeepaliveInterval is how often each page is pinged; one that does not answer within the
	// next interval leaves its room. DefaultKeepaliveInterval when 0.
	KeepaliveInterval time.Duration
}

//go:embed static
var staticFiles embed.FS

// New returns the standalone-mode handler: the meeting page at /, its files under /demo/, the
// signalling WebSocket at /demo/ws, and an embedded focus that allocates on vb through
// ConferenceModify, exactly as colibri2 requests from Jicofo do.
func New(vb *control.Videobridge, opts Options) http.Handler {
	return newHandler(vb, opts)
}

func newHandler(cm conferenceModifier, opts Options) http.Handler {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	opts.Log = opts.Log.With(zap.String("component", "demo"))
	if opts.MaxRooms <= 0 {
		opts.MaxRooms = DefaultMaxRooms
	}
	if opts.MaxParticipants <= 0 {
		opts.MaxParticipants = DefaultMaxParticipants
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.KeepaliveInterval <= 0 {
		opts.KeepaliveInterval = DefaultKeepaliveInterval
	}
	f := newFocus(cm, opts)
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PagePath+"{$}", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		http.ServeFileFS(w, r, static, "index.html")
	})
	files := http.StripPrefix(StaticPath, http.FileServerFS(static))
	mux.HandleFunc("GET "+StaticPath, func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET "+SocketPath, func(w http.ResponseWriter, r *http.Request) {
		// Same-origin only (the library's default Origin check): another site must not be able
		// to join rooms from a visitor's browser.
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered
		}
		c.SetReadLimit(maxMessageBytes)
		serveSession(r.Context(), f, c, opts.Log.With(zap.String("remote", r.RemoteAddr)))
	})
	fallback := opts.Fallback
	if fallback == nil {
		fallback = http.NotFoundHandler()
	}
	mux.Handle("/", fallback)
	return mux
}

// pageHeaders: the page loads only its own files; media comes from WebRTC, and the bridge
// channel may use a colibri-ws URL on another port or host.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; "+
		"media-src 'self' blob: mediastream:; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
}
