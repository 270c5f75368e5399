package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// ConstraintSetter delivers a receiver's ReceiverVideoConstraints to the bridge. A
// JVB-compatible bridge forwards no video to an endpoint until it has them (media.md §1.3,
// initial-max-height-px 0), so the harness always sends them; how depends on what the bridge
// offers. Implementations: the colibri-ws bridge channel (what JVB offers when websockets are
// enabled), an HTTP debug hook on the bridge's private server (for a bridge without a bridge
// channel yet), or none. An SCTP data channel version can slot in here.
type ConstraintSetter interface {
	// Name is how results record the method.
	Name() string
	// Set sends the constraints of endpoint ep in conf. alloc is the endpoint's allocation
	// (the colibri-ws URL lives there).
	Set(ctx context.Context, conf ConferenceRef, ep EndpointRef, alloc Allocation, m *bridgechannel.ReceiverVideoConstraints) error
	// Close releases what Set opened (bridge channel connections).
	Close()
}

// ErrNoConstraintPath means the bridge offers no way to receive constraints.
var ErrNoConstraintPath = errors.New("bench: no way to send ReceiverVideoConstraints to this bridge")

// noConstraints is the setter of last resort: the run goes on and the report says so.
type noConstraints struct{}

func (noConstraints) Name() string { return "none" }
func (noConstraints) Set(context.Context, ConferenceRef, EndpointRef, Allocation, *bridgechannel.ReceiverVideoConstraints) error {
	return ErrNoConstraintPath
}
func (noConstraints) Close() {}

// HTTPConstraints POSTs the message (its bridge-channel JSON) to a URL on the bridge's
// private HTTP server. URL is a template: {conference} becomes the meeting ID and {endpoint}
// the endpoint ID.
type HTTPConstraints struct {
	URL    string
	Client *http.Client
}

// DefaultConstraintsPath is where the harness expects a debug hook on our bridge's private
// server (videobridge.rest.debug.enabled, under /debug like JVB's debug endpoints).
const DefaultConstraintsPath = "/debug/constraints/{conference}/{endpoint}"

func (h *HTTPConstraints) Name() string { return "http-debug" }

func (h *HTTPConstraints) Set(ctx context.Context, conf ConferenceRef, ep EndpointRef, _ Allocation, m *bridgechannel.ReceiverVideoConstraints) error {
	u := strings.NewReplacer("{conference}", conf.MeetingID, "{endpoint}", ep.ID).Replace(h.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(bridgechannel.Marshal(m)))
	if err != nil {
		return fmt.Errorf("constraints: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("constraints: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("constraints: %s: %s %s", u, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func (h *HTTPConstraints) Close() {}

// WSConstraints sends the message over the colibri-ws bridge channel the allocation offered,
// keeping each endpoint's connection open until Close (closing it is a client leaving).
type WSConstraints struct {
	mu    sync.Mutex
	conns []*websocket.Conn
}

func (w *WSConstraints) Name() string { return "colibri-ws" }

func (w *WSConstraints) Set(ctx context.Context, _ ConferenceRef, ep EndpointRef, alloc Allocation, m *bridgechannel.ReceiverVideoConstraints) error {
	if alloc.WebSocketURL == "" {
		return fmt.Errorf("%w: no colibri-ws URL for %s", ErrNoConstraintPath, ep.ID)
	}
	c, _, err := websocket.Dial(ctx, alloc.WebSocketURL, nil)
	if err != nil {
		return fmt.Errorf("constraints: colibri-ws %s: %w", alloc.WebSocketURL, err)
	}
	if err := c.Write(ctx, websocket.MessageText, bridgechannel.Marshal(m)); err != nil {
		_ = c.Close(websocket.StatusInternalError, "")
		return fmt.Errorf("constraints: colibri-ws write: %w", err)
	}
	// Read and discard what the bridge sends (ServerHello, forwarded-sources, ...): an unread
	// connection would stall its pings.
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
	return nil
}

func (w *WSConstraints) Close() {
	w.mu.Lock()
	conns := w.conns
	w.conns = nil
	w.mu.Unlock()
	for _, c := range conns {
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
}

// autoConstraints picks per endpoint: colibri-ws when the allocation offers it, else the HTTP
// hook when it exists, else none. Name reports the first method that worked.
type autoConstraints struct {
	ws   *WSConstraints
	http *HTTPConstraints // nil when the bridge has no hook

	mu   sync.Mutex
	used string
}

func (a *autoConstraints) Name() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used == "" {
		return "none"
	}
	return a.used
}

func (a *autoConstraints) Set(ctx context.Context, conf ConferenceRef, ep EndpointRef, alloc Allocation, m *bridgechannel.ReceiverVideoConstraints) error {
	var s ConstraintSetter = noConstraints{}
	switch {
	case alloc.WebSocketURL != "":
		s = a.ws
	case a.http != nil:
		s = a.http
	}
	err := s.Set(ctx, conf, ep, alloc, m)
	if err == nil {
		a.mu.Lock()
		if a.used == "" {
			a.used = s.Name()
		}
		a.mu.Unlock()
	}
	return err
}

func (a *autoConstraints) Close() { a.ws.Close() }
