package endpoint

import "sync/atomic"

// ICEState is the endpoint's ICE connection state as the Handler sees it.
type ICEState uint8

// ICE states (RFC 8445 §6.1.3 states as pion reports them; completed folds into connected).
const (
	ICENew ICEState = iota
	ICEChecking
	ICEConnected
	ICEDisconnected // consent or keepalive responses missing; may recover
	ICEFailed       // no usable pair; the control plane expires the endpoint (JVB)
	ICEClosed
)

var iceNames = [...]string{"new", "checking", "connected", "disconnected", "failed", "closed"}

func (s ICEState) String() string {
	if int(s) < len(iceNames) {
		return iceNames[s]
	}
	return "unknown"
}

// DTLSState is the endpoint's DTLS state as the Handler sees it.
type DTLSState uint8

// DTLS states.
const (
	DTLSNew DTLSState = iota
	DTLSConnecting
	DTLSConnected // handshake done, SRTP keys installed: media flows
	DTLSFailed    // handshake failed (timeout, fingerprint mismatch, no SRTP profile)
)

var dtlsNames = [...]string{"new", "connecting", "connected", "failed"}

func (s DTLSState) String() string {
	if int(s) < len(dtlsNames) {
		return dtlsNames[s]
	}
	return "unknown"
}

// Handler receives an endpoint's media and state changes.
type Handler interface {
	// OnRTP receives one decrypted RTP packet, synchronously on the socket reader goroutine.
	// buf is only valid during the call (the reader reuses it for the next datagram); the
	// handler may modify it in place but must copy what it keeps, and must not block.
	OnRTP(buf []byte)
	// OnRTCP receives one decrypted compound RTCP packet, under the same rules as OnRTP.
	OnRTCP(buf []byte)
	// OnICEState and OnDTLSState report state changes from the transport's own and pion's
	// goroutines (never the reader). They must not block and must not call Close (Close waits
	// for those goroutines): hand the event to the control plane's queue instead.
	OnICEState(s ICEState)
	OnDTLSState(s DTLSState)
}

// DropReason says why an endpoint discarded a packet.
type DropReason uint8

// Drop reasons, counted in Stats.
const (
	DropNone          DropReason = iota
	DropNotReady                 // media before DTLS finished or after Close
	DropAuth                     // SRTP/SRTCP authentication failed
	DropReplay                   // SRTP/SRTCP replay
	DropMalformed                // not decryptable as RTP/RTCP
	DropSTUNAuth                 // STUN from a new address failed MESSAGE-INTEGRITY
	DropControlQueue             // the ICE/DTLS queue toward pion was full
	DropNoDestination            // send before ICE selected a pair
	DropTooLarge                 // packet plus SRTP tag exceeds the MTU
	DropEncrypt                  // SRTP encryption failed (malformed RTP)
	DropSendQueue                // the socket send queue was full
	numDropReasons
)

var dropNames = [...]string{
	DropNone: "none", DropNotReady: "not_ready", DropAuth: "srtp_auth", DropReplay: "srtp_replay",
	DropMalformed: "malformed", DropSTUNAuth: "stun_auth", DropControlQueue: "control_queue",
	DropNoDestination: "no_destination", DropTooLarge: "too_large", DropEncrypt: "encrypt",
	DropSendQueue: "send_queue",
}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "unknown"
}

// counters are written with uncontended atomic adds: receive counters by the reader
// goroutine, send counters by the endpoint's egress goroutine.
type counters struct {
	rtpIn, rtcpIn, rtpOut, rtcpOut atomic.Uint64
	drops                          [numDropReasons]atomic.Uint64
}

// Stats is a snapshot of an endpoint's transport counters.
type Stats struct {
	RTPReceived, RTCPReceived, RTPSent, RTCPSent uint64
	// Drops counts packets by DropReason (index DropNone is unused).
	Drops [numDropReasons]uint64
}

// Dropped returns the count for one reason.
func (s Stats) Dropped(r DropReason) uint64 {
	if int(r) < len(s.Drops) {
		return s.Drops[r]
	}
	return 0
}

func (c *counters) snapshot() Stats {
	st := Stats{RTPReceived: c.rtpIn.Load(), RTCPReceived: c.rtcpIn.Load(), RTPSent: c.rtpOut.Load(), RTCPSent: c.rtcpOut.Load()}
	for i := range st.Drops {
		st.Drops[i] = c.drops[i].Load()
	}
	return st
}
