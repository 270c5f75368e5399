package media

import (
	"sync/atomic"

	"github.com/cityjitsi/videobridge/bridge/sender"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
)

// DropReason says why ingress discarded a packet from an endpoint.
type DropReason uint8

// Ingress drop reasons (ARCHITECTURE.md packet-path rule 5: every drop counted by name).
const (
	DropNone               DropReason = iota
	DropNotConfigured                 // media before the conference's first routing snapshot included the endpoint
	DropMalformed                     // RTP or RTCP that does not parse
	DropUnknownSSRC                   // an SSRC no source of the conference signaled
	DropForeignSSRC                   // an SSRC signaled by another endpoint
	DropVisitor                       // media from a visitor (JVB forwards none)
	DropForceMuted                    // colibri2 force-mute
	DropRTXPadding                    // RTX without original payload (Chrome's bandwidth probes)
	DropUnknownRTXType                // a packet on an RTX SSRC whose payload type has no apt
	DropDuplicate                     // (SSRC, seq) already received (RTX probe copies)
	DropTooOld                        // far behind the newest sequence number
	DropPadding                       // padding-only RTP, after its statistics
	DropTooLarge                      // does not fit a packet buffer
	DropQueueFull                     // the subscriber's worker's media queue was full
	DropRTCPQueueFull                 // an RTCP item did not fit the egress queue
	DropAudioNotSubscribed            // audio a receiver's ReceiverAudioSubscription excludes (counted on the receiver)
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropNone: "none", DropNotConfigured: "not_configured", DropMalformed: "malformed",
	DropUnknownSSRC: "unknown_ssrc", DropForeignSSRC: "foreign_ssrc", DropVisitor: "visitor",
	DropForceMuted: "force_muted", DropRTXPadding: "rtx_padding", DropUnknownRTXType: "unknown_rtx_type",
	DropDuplicate: "duplicate", DropTooOld: "too_old", DropPadding: "padding", DropTooLarge: "too_large",
	DropQueueFull: "queue_full", DropRTCPQueueFull: "rtcp_queue_full", DropAudioNotSubscribed: "audio_not_subscribed",
}

// String returns a snake_case name for metrics.
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// inCounters are written by the socket reader goroutine (ingress), except the queue-full and
// audio-not-subscribed drops, which any producer fanning out to this endpoint may count.
type inCounters struct {
	rtp, rtcp, bytes atomic.Uint64
	drops            [numDropReasons]atomic.Uint64
	lastAudio        atomic.Int64 // clock ns of a recent audio packet; 0: none
	lastVideo        atomic.Int64
}

// outCounters are written by the endpoint's egress worker.
type outCounters struct {
	_                   [64]byte // keep off the ingress counters' cache lines
	rtp, rtcp, bytes    atomic.Uint64
	retransmissions     atomic.Uint64
	keyframeRequests    atomic.Uint64 // PLI/FIR written to this endpoint as a source owner
	keyframesThrottled  atomic.Uint64 // requests toward sources held back by the limits
	srForwarded         atomic.Uint64
	writeFailed         atomic.Uint64 // refused by the transport (counted there by reason)
	drops               [sender.NumDropReasons]atomic.Uint64
	unknownFeedbackSSRC atomic.Uint64 // NACK/PLI for an SSRC this receiver is not sent
	historiesExpired    atomic.Uint64 // RTX histories released after sender.HistoryIdle
}

// Stats is a snapshot of media counters (one endpoint, or the plane's totals).
type Stats struct {
	RTPReceived, RTCPReceived, BytesReceived uint64
	RTPSent, RTCPSent, BytesSent             uint64
	Retransmissions                          uint64
	KeyframeRequests, KeyframesThrottled     uint64
	SRForwarded, WriteFailed                 uint64
	UnknownFeedbackSSRC                      uint64
	HistoriesExpired                         uint64
	// IngressDrops by DropReason; EgressDrops by sender.DropReason; TransportDrops by
	// endpoint.DropReason (SRTP, ICE and send-queue drops of the endpoints' transports).
	IngressDrops   [numDropReasons]uint64
	EgressDrops    [sender.NumDropReasons]uint64
	TransportDrops [len(endpoint.Stats{}.Drops)]uint64
}

// add accumulates o into s.
func (s *Stats) add(o *Stats) {
	s.RTPReceived += o.RTPReceived
	s.RTCPReceived += o.RTCPReceived
	s.BytesReceived += o.BytesReceived
	s.RTPSent += o.RTPSent
	s.RTCPSent += o.RTCPSent
	s.BytesSent += o.BytesSent
	s.Retransmissions += o.Retransmissions
	s.KeyframeRequests += o.KeyframeRequests
	s.KeyframesThrottled += o.KeyframesThrottled
	s.SRForwarded += o.SRForwarded
	s.WriteFailed += o.WriteFailed
	s.UnknownFeedbackSSRC += o.UnknownFeedbackSSRC
	s.HistoriesExpired += o.HistoriesExpired
	for i := range s.IngressDrops {
		s.IngressDrops[i] += o.IngressDrops[i]
	}
	for i := range s.EgressDrops {
		s.EgressDrops[i] += o.EgressDrops[i]
	}
	for i := range s.TransportDrops {
		s.TransportDrops[i] += o.TransportDrops[i]
	}
}

// Drop is one drop counter with its stage and reason, for metrics.
type Drop struct {
	Stage, Reason string
	Count         uint64
}

// Drops lists the non-zero drop counters of s: stage "ingress" (DropReason), "egress"
// (sender.DropReason, the selector's reasons included) and "transport" (endpoint.DropReason).
func (s *Stats) Drops() []Drop {
	var out []Drop
	for i, n := range s.IngressDrops {
		if n > 0 && i != int(DropNone) {
			out = append(out, Drop{Stage: "ingress", Reason: DropReason(i).String(), Count: n})
		}
	}
	for i, n := range s.EgressDrops {
		if n > 0 && i != int(sender.DropNone) {
			out = append(out, Drop{Stage: "egress", Reason: sender.DropReason(i).String(), Count: n})
		}
	}
	for i, n := range s.TransportDrops {
		if n > 0 && i != int(endpoint.DropNone) {
			out = append(out, Drop{Stage: "transport", Reason: endpoint.DropReason(i).String(), Count: n})
		}
	}
	return out
}

func (e *Endpoint) snapshotStats() Stats {
	in, out := &e.cin, &e.cout
	s := Stats{
		RTPReceived: in.rtp.Load(), RTCPReceived: in.rtcp.Load(), BytesReceived: in.bytes.Load(),
		RTPSent: out.rtp.Load(), RTCPSent: out.rtcp.Load(), BytesSent: out.bytes.Load(),
		Retransmissions: out.retransmissions.Load(), KeyframeRequests: out.keyframeRequests.Load(),
		KeyframesThrottled: out.keyframesThrottled.Load(), SRForwarded: out.srForwarded.Load(),
		WriteFailed: out.writeFailed.Load(), UnknownFeedbackSSRC: out.unknownFeedbackSSRC.Load(),
		HistoriesExpired: out.historiesExpired.Load(),
	}
	for i := range s.IngressDrops {
		s.IngressDrops[i] = in.drops[i].Load()
	}
	for i := range s.EgressDrops {
		s.EgressDrops[i] = out.drops[i].Load()
	}
	if ts, ok := e.tr.(interface{ Stats() endpoint.Stats }); ok {
		s.TransportDrops = ts.Stats().Drops
	}
	return s
}
