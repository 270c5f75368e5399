package media

import (
	"net"
	"slices"
	"time"

	piondtls "github.com/pion/dtls/v3"

	"github.com/cityjitsi/videobridge/bridge/speaker"
)

// Endpoint liveness as the bridge channel reports it (media.md §6 "Endpoint liveness", JVB's
// connectivity monitor): an endpoint is inactive when nothing arrived within
// inactiveAfterCreate of its creation, or later for inactiveAfter.
const (
	inactiveAfterCreate = 15 * time.Second
	inactiveAfter       = 8 * time.Second
)

// Hooks are what an endpoint reports to the rest of the bridge (the bridge channel, through
// the adapter in bridge/control) and where its audio levels go. Every field is optional.
// Callbacks must return quickly and must not call Close.
type Hooks struct {
	// Speaker receives 127 minus the RFC 6464 level of every audio packet from the endpoint,
	// on the socket reader goroutine, timed with Plane.Now (media.md §2.8–2.9).
	Speaker *speaker.Speaker
	// OnDTLSConnected gets the endpoint's established DTLS connection, once, from the
	// transport's goroutine: the SCTP data channel runs over it.
	OnDTLSConnected func(conn net.Conn)
	// OnForwardedSources gets the names of the video sources now forwarded to the endpoint
	// (any layer), sorted, whenever the set changes; called from its egress worker.
	OnForwardedSources func(sources []string)
	// OnActive reports the endpoint's media activity when it changes; endpoints start active.
	// Called from the plane's housekeeping goroutine.
	OnActive func(active bool)
}

// SetHooks installs h. Call it before SetRemote: DTLS cannot connect earlier, so no
// notification is lost.
func (e *Endpoint) SetHooks(h Hooks) {
	e.hooks.Store(&h)
	e.speaker.Store(h.Speaker)
}

// ForwardedSources returns the names of the video sources currently forwarded to the
// endpoint, sorted.
func (e *Endpoint) ForwardedSources() []string {
	if p := e.forwarded.Load(); p != nil {
		return slices.Clone(*p)
	}
	return []string{}
}

// dtlsConnected hands the transport's DTLS connection to OnDTLSConnected.
func (e *Endpoint) dtlsConnected() {
	h := e.hooks.Load()
	if h == nil || h.OnDTLSConnected == nil {
		return
	}
	dc, ok := e.tr.(interface{ DTLSConn() *piondtls.Conn })
	if !ok {
		return
	}
	if conn := dc.DTLSConn(); conn != nil {
		h.OnDTLSConnected(conn)
	}
}

// audioLevel feeds the dominant speaker identification with one packet's level (-1: the
// packet has none). JVB converts RFC 6464's -dBov to 127 − level, so louder is higher.
func (e *Endpoint) audioLevel(level int8, now int64) {
	if level < 0 {
		return
	}
	if sp := e.speaker.Load(); sp != nil {
		sp.Level(127-int(level), now)
	}
}

// checkActive applies the liveness rule above at wall time now and reports a change.
func (e *Endpoint) checkActive(now, last int64) {
	var active bool
	if last == 0 {
		active = now-e.created < int64(inactiveAfterCreate)
	} else {
		active = now-last < int64(inactiveAfter)
	}
	if e.inactive.Load() == !active {
		return
	}
	e.inactive.Store(!active)
	if h := e.hooks.Load(); h != nil && h.OnActive != nil {
		h.OnActive(active)
	}
}

// setForwarded records on the egress worker whether a video source is forwarded; the set
// is published once per batch (publishForwarded).
func (o *egress) setForwarded(es *egSender, on bool) {
	if es.forwarded != on {
		es.forwarded = on
		o.fwdDirty = true
	}
}

// publishForwarded publishes the forwarded set after a change. It allocates, but only when
// the set changes (a layer decision, not a packet).
func (e *Endpoint) publishForwarded() {
	if !e.out.fwdDirty {
		return
	}
	e.out.fwdDirty = false
	names := make([]string, 0, len(e.out.senders))
	for _, es := range e.out.senders {
		if es.forwarded {
			names = append(names, es.sv.rs.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if old := e.forwarded.Load(); old != nil && slices.Equal(*old, names) {
		return
	}
	e.forwarded.Store(&names)
	if h := e.hooks.Load(); h != nil && h.OnForwardedSources != nil {
		h.OnForwardedSources(slices.Clone(names))
	}
}
