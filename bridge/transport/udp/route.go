package udp

import (
	"net/netip"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// Handler receives the datagrams demultiplexed to one endpoint.
type Handler interface {
	// HandleDatagram is called synchronously on the socket's reader goroutine, once per
	// datagram routed to the handler. b is only valid during the call (the reader reuses the
	// buffer for the next batch) and may be modified in place (SRTP decrypts in place). now is
	// the receive time of the batch in Unix nanoseconds. It must not block.
	HandleDatagram(kind rtp.Kind, b []byte, from netip.AddrPort, now int64)
}

// DropReason says why a datagram was not delivered or not sent.
type DropReason uint8

// Drop reasons, counted in Stats.
const (
	DropNone         DropReason = iota
	DropUnknownKind             // first byte matches no RFC 7983 range, or too short
	DropUnknownUfrag            // STUN USERNAME names no registered local ufrag
	DropNoRoute                 // non-STUN (or STUN without USERNAME) from an unbound address
	DropTruncated               // datagram longer than MTU
	DropQueueFull               // send queue full
	DropSendError               // the kernel refused the datagram
	DropClosed                  // enqueued after Close
	numDropReasons
)

var dropNames = [...]string{
	DropNone: "none", DropUnknownKind: "unknown_kind", DropUnknownUfrag: "unknown_ufrag",
	DropNoRoute: "no_route", DropTruncated: "truncated", DropQueueFull: "queue_full",
	DropSendError: "send_error", DropClosed: "closed",
}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "unknown"
}

// routeTable is an immutable snapshot of the demux state, replaced wholesale (copy on write)
// by the rare control operations so the reader goroutine looks up without a lock.
type routeTable struct {
	// ufrags maps a local ICE ufrag to its endpoint (STUN requests name it in USERNAME).
	ufrags map[string]Handler
	// addrs maps a remote transport address to the endpoint that authenticated it.
	addrs map[netip.AddrPort]Handler
}

var emptyRoutes = &routeTable{ufrags: map[string]Handler{}, addrs: map[netip.AddrPort]Handler{}}

// route is the demux decision for one datagram (RFC 7983 plus ICE ufrag): STUN with a USERNAME
// goes by the local ufrag before the first ':' (RFC 8445 §7.2.2: "RFRAG:LFRAG", our ufrag
// first); everything else goes by remote address. A USERNAME naming an unknown ufrag is dropped
// rather than routed by address, so a stale or forged check never reaches another endpoint.
func (t *routeTable) route(kind rtp.Kind, b []byte, from netip.AddrPort) (Handler, DropReason) {
	switch kind {
	case rtp.KindUnknown:
		return nil, DropUnknownKind
	case rtp.KindSTUN:
		if user, ok := stunUsername(b); ok {
			return t.byUsername(user)
		}
	}
	if h, ok := t.addrs[from]; ok {
		return h, DropNone
	}
	return nil, DropNoRoute
}

func (t *routeTable) byUsername(user []byte) (Handler, DropReason) {
	colons := 0
	for i, c := range user {
		if c != ':' {
			continue
		}
		// string(user[:i]) in a map index does not allocate.
		if h, ok := t.ufrags[string(user[:i])]; ok {
			return h, DropNone
		}
		if colons++; colons == maxUfragColons {
			break
		}
	}
	return nil, DropUnknownUfrag
}

func (t *routeTable) withUfrag(ufrag string, h Handler) *routeTable {
	m := make(map[string]Handler, len(t.ufrags)+1)
	for k, v := range t.ufrags {
		m[k] = v
	}
	if h == nil {
		delete(m, ufrag)
	} else {
		m[ufrag] = h
	}
	return &routeTable{ufrags: m, addrs: t.addrs}
}

// withAddrs returns a copy with addrs replaced by f applied to a copy of the address map.
func (t *routeTable) withAddrs(f func(m map[netip.AddrPort]Handler)) *routeTable {
	m := make(map[netip.AddrPort]Handler, len(t.addrs)+1)
	for k, v := range t.addrs {
		m[k] = v
	}
	f(m)
	return &routeTable{ufrags: t.ufrags, addrs: m}
}
