package selector

import "github.com/cityjitsi/videobridge/bridge/rtp"

// Layer is a target or current quality: a simulcast encoding and a temporal
// layer within it. Encoding is the index in SIM group order (the order of the
// SSRCs in a=ssrc-group:SIM), which is also ascending resolution for the
// simulcast lib-jitsi-meet sends. A negative Encoding or Temporal means
// suspended: nothing is forwarded (JVB's layer index -1).
type Layer struct {
	Encoding, Temporal int8
}

// MaxTemporal is the highest VP8 temporal layer ID (TID is 2 bits, RFC 7741
// §4.2). A target with Temporal = MaxTemporal forwards every temporal layer.
const MaxTemporal int8 = 3

// Suspended is the target that forwards nothing.
var Suspended = Layer{Encoding: -1, Temporal: -1}

// IsSuspended reports whether l forwards nothing.
func (l Layer) IsSuspended() bool { return l.Encoding < 0 || l.Temporal < 0 }

// PacketInfo is what ingress has already learnt about one packet, handed to
// the Decide functions. It is read-only there. Fields a scheme does not use
// are ignored (audio fields by video schemes, VP8 fields by the others).
type PacketInfo struct {
	// Encoding is the simulcast index of the SSRC the packet arrived on (0
	// for a source without simulcast).
	Encoding int8
	// ExtSeq and ExtTS are the sequence number and timestamp unwrapped to
	// 64 bits by the unwrappers of that encoding (rtp.SeqUnwrapper,
	// rtp.TSUnwrapper). Each encoding has its own number spaces.
	ExtSeq uint64
	ExtTS  uint64
	// Arrival is the arrival time in nanoseconds from the injected clock.
	Arrival int64
	Marker  bool
	// PayloadLen is the RTP payload length without padding. 0 marks a
	// padding-only packet, which video schemes drop.
	PayloadLen int

	// Keyframe is set on the first packet of a keyframe (VP8: S=1, PID=0
	// and P=0, RFC 7741 §4.3). KeyframeKnown says that ingress can detect
	// keyframes for this codec at all; the generic scheme starts on the first
	// packet when it cannot.
	Keyframe      bool
	KeyframeKnown bool
	StartOfFrame  bool

	VP8 VP8Info

	// AudioLevel is the RFC 6464 level (0..127, -dBov; 127 is silence),
	// valid when HasAudioLevel.
	AudioLevel    uint8
	HasAudioLevel bool
}

// VP8Info holds the VP8 payload descriptor fields the VP8 scheme uses.
type VP8Info struct {
	HasPictureID  bool
	LongPictureID bool   // M=1: a 15-bit picture ID; otherwise 7 bits
	PictureID     uint16 // valid when HasPictureID
	HasTL0PICIDX  bool
	TL0PICIDX     uint8
	HasTID        bool
	TID           uint8 // valid when HasTID; treated as 0 otherwise (as JVB does)
	LayerSync     bool  // Y bit; carried for later use, not used by the decision
}

// SetVP8 fills the VP8 and keyframe fields of p from a parsed descriptor.
func (p *PacketInfo) SetVP8(d *rtp.VP8Descriptor) {
	p.Keyframe = d.Keyframe
	p.KeyframeKnown = true
	p.StartOfFrame = d.S && d.PartID == 0
	p.VP8 = VP8Info{
		HasPictureID:  d.PictureIDLen != 0,
		LongPictureID: d.PictureIDLen == 2,
		PictureID:     d.PictureID,
		HasTL0PICIDX:  d.L,
		TL0PICIDX:     d.TL0PICIDX,
		HasTID:        d.T,
		TID:           d.TID,
		LayerSync:     d.Y,
	}
}

// Decision is the value result of one Decide call (LiveKit's
// TranslationParams, mediasoup's drop reasons). When Forward is false, Reason
// says why and the output fields are zero.
type Decision struct {
	Forward bool
	Reason  DropReason
	// Seq and Timestamp are the values to write into the outgoing packet.
	Seq       uint16
	Timestamp uint32
	// PictureID (always 15 bits: write it with M=1) and TL0PICIDX are the VP8
	// descriptor values to write; zero for other schemes. TL0PICIDX is
	// meaningful only when the packet carries one (L bit).
	PictureID uint16
	TL0PICIDX uint8
	Marker    bool
	// RequestKeyframe asks the caller to request a keyframe from the source
	// (PLI or FIR). It is set on every packet while one is needed, as JVB
	// does; the caller throttles (media.md §2.6).
	RequestKeyframe bool
	// Switched is set on the packet that starts forwarding a new encoding,
	// resumes after suspension or re-anchors after a source restart.
	Switched bool
}

// DropReason says why a packet was not forwarded. The zero value, DropNone,
// means it was. Callers count drops by reason (packet-path rule 5).
type DropReason uint8

// Drop reasons of all schemes.
const (
	DropNone                DropReason = iota // forwarded
	DropSuspended                             // the target is suspended
	DropNotTargetEncoding                     // an encoding that is neither forwarded nor switchable to now
	DropWaitingKeyframe                       // the switch or resume needs a keyframe first
	DropTemporalAboveTarget                   // a temporal layer above the target (or above TL0 while waiting to downswitch)
	DropUndecodable                           // a frame whose lower-layer reference was not forwarded
	DropDuplicate                             // a sequence number already seen
	DropTooOld                                // older than the switch point or the tracking window
	DropInconsistent                          // sequence number and timestamp disagree with the frames seen
	DropPadding                               // padding-only packet
	DropForceMuted                            // audio of a force-muted endpoint
	DropSilence                               // audio silence beyond the forwarded-silence limit
	dropReasonCount
)

var dropReasonNames = [dropReasonCount]string{
	DropNone:                "none",
	DropSuspended:           "suspended",
	DropNotTargetEncoding:   "not_target_encoding",
	DropWaitingKeyframe:     "waiting_keyframe",
	DropTemporalAboveTarget: "temporal_above_target",
	DropUndecodable:         "undecodable",
	DropDuplicate:           "duplicate",
	DropTooOld:              "too_old",
	DropInconsistent:        "inconsistent",
	DropPadding:             "padding",
	DropForceMuted:          "force_muted",
	DropSilence:             "silence",
}

// String returns a short snake_case name, suitable as a metrics label.
func (r DropReason) String() string {
	if r < dropReasonCount {
		return dropReasonNames[r]
	}
	return "unknown"
}

// NumDropReasons is the number of defined reasons, for sizing counter arrays
// indexed by DropReason.
const NumDropReasons = int(dropReasonCount)

// RTPState is the continuity a projection hands to the next one when the
// caller replaces it (JVB's RtpState on a projection context switch, for
// example when a VP8 source starts or stops sending picture IDs): the last
// sequence number and timestamp sent, and when.
type RTPState struct {
	Valid     bool // false: nothing was sent yet
	Seq       uint16
	Timestamp uint32
	Arrival   int64 // arrival time of the newest frame sent, ns
}
