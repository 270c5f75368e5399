package channel

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// colibri-ws (media.md §1.1, §1.2, §6; signaling.md §5.3).
const (
	// WebSocketPathPrefix starts every colibri-ws path:
	// /colibri-ws/<server-id>/<conference-id>/<endpoint-id>?pwd=<password>.
	WebSocketPathPrefix = "/colibri-ws/"
	// DefaultPingInterval is JVB's keepalive-ping-interval.
	DefaultPingInterval = 15 * time.Second
	// DefaultIdleTimeout is JVB's WebSocket idle timeout: a socket with no frame from the
	// client (message or pong) for this long is closed.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultWriteTimeout bounds one message write; a timed-out write ends the socket.
	DefaultWriteTimeout = 10 * time.Second
	// maxWebSocketMessage matches the data channel's max-message-size (262144). Larger
	// messages end the socket; smaller ones over bridgechannel.MaxMessageSize are dropped.
	maxWebSocketMessage = 256 << 10
)

// ErrInvalidPath reports a colibri-ws path that is not /colibri-ws/<server>/<conf>/<endpoint>.
var ErrInvalidPath = errors.New("channel: invalid colibri-ws path")

// Response texts, as JVB's ColibriWebSocketServlet writes them.
const (
	textInvalidPath    = "invalid path"
	textServerMismatch = "server ID mismatch"
	// One text for every credential failure, so that a prober cannot tell a wrong password
	// from an unknown conference or endpoint.
	textAuthFailed = "authentication failed"
)

// ParseWebSocketPath splits an escaped request path (url.URL.EscapedPath) into the server,
// conference and endpoint ids, unescaping each segment. Segments after the third are ignored,
// as JVB does.
func ParseWebSocketPath(escaped string) (serverID, confID, epID string, err error) {
	rest, ok := strings.CutPrefix(escaped, WebSocketPathPrefix)
	if !ok {
		return "", "", "", ErrInvalidPath
	}
	segs := strings.SplitN(rest, "/", 4)
	if len(segs) < 3 {
		return "", "", "", ErrInvalidPath
	}
	ids := [3]string{}
	for i := range ids {
		if ids[i], err = url.PathUnescape(segs[i]); err != nil {
			return "", "", "", ErrInvalidPath
		}
	}
	return ids[0], ids[1], ids[2], nil
}

// WebSocketConfig configures the colibri-ws handler.
type WebSocketConfig struct {
	// ServerID is videobridge.websockets.server-id, the first path segment.
	ServerID string
	// Password returns the colibri-ws password of an endpoint (control.Videobridge
	// .WebSocketPassword); ok is false for an unknown conference or endpoint.
	Password func(confID, epID string) (pwd string, ok bool)
	// Channel returns the endpoint's bridge channel (Hub.Channel of the conference).
	Channel func(confID, epID string) (*Channel, bool)
	// Zero durations mean the defaults above.
	PingInterval, IdleTimeout, WriteTimeout time.Duration
	Log                                     *zap.Logger
}

type webSocketHandler struct {
	cfg WebSocketConfig
	log *zap.Logger
}

// NewWebSocketHandler returns the colibri-ws handler, to be mounted on the public HTTP server
// under WebSocketPathPrefix.
func NewWebSocketHandler(cfg WebSocketConfig) http.Handler {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return &webSocketHandler{cfg: cfg, log: cfg.Log.With(zap.String("component", "colibri-ws"))}
}

func (h *webSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	server, conf, ep, err := ParseWebSocketPath(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, textInvalidPath, http.StatusNotFound)
		return
	}
	if server != h.cfg.ServerID {
		http.Error(w, textServerMismatch, http.StatusNotFound)
		return
	}
	ch, ok := h.authenticate(r.URL.RawQuery, conf, ep)
	if !ok {
		http.Error(w, textAuthFailed, http.StatusForbidden)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// JVB checks no Origin: the URL's password is the credential, and browsers on the
		// meeting's domain connect to the bridge's domain.
		InsecureSkipVerify: true,
		// permessage-deflate is allowed (enable-compression = true); no context takeover
		// keeps the per-socket memory small.
		CompressionMode: websocket.CompressionNoContextTakeover,
	})
	if err != nil {
		h.log.Debug("colibri-ws upgrade failed", zap.String("endpoint", ep), zap.Error(err))
		return
	}
	h.serve(conn, ch)
}

// authenticate checks the query (it must start with pwd=, as JVB requires) against the
// endpoint's password and finds its channel.
func (h *webSocketHandler) authenticate(query, conf, ep string) (*Channel, bool) {
	pwd, ok := strings.CutPrefix(query, "pwd=")
	if !ok || h.cfg.Password == nil || h.cfg.Channel == nil {
		return nil, false
	}
	want, ok := h.cfg.Password(conf, ep)
	if !ok || want == "" || subtle.ConstantTimeCompare([]byte(pwd), []byte(want)) != 1 {
		return nil, false
	}
	return h.cfg.Channel(conf, ep)
}

// serve runs one accepted socket: it becomes the endpoint's WebSocket (replacing an older
// one), gets ServerHello and the resync, and is read until it ends.
func (h *webSocketHandler) serve(conn *websocket.Conn, ch *Channel) {
	conn.SetReadLimit(maxWebSocketMessage)
	l := &wsLink{conn: conn, writeTimeout: h.cfg.WriteTimeout, closing: make(chan struct{})}
	// JVB sends ServerHello at once on accept, before the resync (media.md §1.2).
	if !ch.attach(l, true, bridgechannel.Marshal(&bridgechannel.ServerHello{})) {
		_ = conn.Close(websocket.StatusGoingAway, "endpoint closed")
		return
	}
	ch.connected()
	ch.log.Info("colibri-ws connected")

	idle := time.AfterFunc(h.cfg.IdleTimeout, func() { l.close(websocket.StatusGoingAway, "idle timeout") })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.keepalive(h.cfg.PingInterval, idle, h.cfg.IdleTimeout) }()
	for {
		typ, b, err := conn.Read(context.Background())
		if err != nil {
			break
		}
		idle.Reset(h.cfg.IdleTimeout)
		if typ != websocket.MessageText {
			ch.stats.binary.Add(1)
			continue
		}
		ch.receive(l, b)
	}
	idle.Stop()
	ch.detach(l)
	l.close(websocket.StatusNormalClosure, "") // no-op unless the client ended it: stops keepalive
	wg.Wait()
	l.closer.Wait()
}

// wsLink is one colibri-ws socket.
type wsLink struct {
	conn         *websocket.Conn
	writeTimeout time.Duration
	once         sync.Once
	closing      chan struct{} // closed by close
	closer       sync.WaitGroup
}

func (l *wsLink) send(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), l.writeTimeout)
	defer cancel()
	return l.conn.Write(ctx, websocket.MessageText, b)
}

// close starts the close handshake without waiting for it (the peer has a few seconds to
// answer; the read loop then ends).
func (l *wsLink) close(code websocket.StatusCode, reason string) {
	l.once.Do(func() {
		close(l.closing)
		l.closer.Add(1)
		go func() {
			defer l.closer.Done()
			_ = l.conn.Close(code, reason)
		}()
	})
}

// keepalive pings every interval; a pong counts as activity for the idle timer, as any frame
// does for Jetty's idle timeout.
func (l *wsLink) keepalive(interval time.Duration, idle *time.Timer, idleTimeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.closing:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			err := l.conn.Ping(ctx)
			cancel()
			if err == nil {
				idle.Reset(idleTimeout)
			}
		}
	}
}
