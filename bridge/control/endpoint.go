package control

import (
	"slices"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// MUC roles as colibri2 carries them; only visitor changes the bridge's behaviour.
const MucRoleVisitor = "visitor"

// Endpoint is the control-plane state of one local endpoint. The conference worker owns the
// live value; ConferenceInfo carries copies. Fields holding slices, maps or pointers are
// replaced, never modified in place, so copies can share them and the media plane can build
// immutable snapshots from a copy.
type Endpoint struct {
	ID      string
	StatsID string
	MucRole string
	// Visitor endpoints are receive-only: JVB never forwards their media and rejects sources
	// for them. Fixed at create.
	Visitor      bool
	Diarize      bool
	Capabilities Capabilities
	Created      time.Time
	// SCTP is set when the create request asked for an SCTP data channel (<sctp/>).
	SCTP bool

	Media     Media
	Sources   Sources
	ForceMute ForceMute
	// InitialLastN is the <initial-last-n/> value, nil when never signaled.
	InitialLastN *int

	Transport EndpointTransport
	Remote    RemoteTransport

	// webSocketPassword authenticates the endpoint's colibri-ws connection (24 alphanumerics,
	// stable for the endpoint's life, as JVB's ColibriWebSocketService requires).
	webSocketPassword string
}

// Capabilities are the endpoint's colibri2 <capability/> flags.
type Capabilities struct {
	SourceNames   bool
	SSRCRewriting bool
	// RTPMidDemux only counts together with SSRCRewriting (JVB: midDemux = ssrcRewriting && cap).
	RTPMidDemux                bool
	PrivateAddressConnectivity bool
}

func parseCapabilities(names []string) Capabilities {
	var c Capabilities
	for _, n := range names {
		switch n {
		case colibri2.CapSourceNames:
			c.SourceNames = true
		case colibri2.CapSSRCRewriting:
			c.SSRCRewriting = true
		case colibri2.CapRTPMidDemux:
			c.RTPMidDemux = true
		case colibri2.CapPrivateAddressConnectivity:
			c.PrivateAddressConnectivity = true
		}
	}
	c.RTPMidDemux = c.RTPMidDemux && c.SSRCRewriting
	return c
}

// ForceMute is the <force-mute/> state: full state, not a delta (pitfall 9).
type ForceMute struct {
	Audio, Video bool
}

// Media is what Jicofo offered the client: the payload types and RTP header extensions the
// bridge must use with this endpoint. JVB only ever adds (a later payload type with the same
// number, or header extension with the same id, replaces the earlier one).
type Media struct {
	PayloadTypes     []PayloadType
	HeaderExtensions []HeaderExtension
	ExtmapAllowMixed bool
}

// PayloadType is a signaled payload type with the media type of the <media/> it came in.
type PayloadType struct {
	MediaType string // audio or video
	colibri2.PayloadType
}

// HeaderExtension is a signaled RTP header extension (RFC 8285) id and URI.
type HeaderExtension struct {
	ID  int
	URI string
}

// AcceptsAudio reports whether any audio payload type was signaled (JVB's acceptAudio).
func (m Media) AcceptsAudio() bool { return m.accepts("audio") }

// AcceptsVideo reports whether any video payload type was signaled (JVB's acceptVideo).
func (m Media) AcceptsVideo() bool { return m.accepts("video") }

func (m Media) accepts(typ string) bool {
	return slices.ContainsFunc(m.PayloadTypes, func(pt PayloadType) bool { return pt.MediaType == typ })
}

// with returns m with the signaled media merged in, leaving m's slices untouched.
func (m Media) with(media []colibri2.Media) Media {
	pts, exts := slices.Clone(m.PayloadTypes), slices.Clone(m.HeaderExtensions)
	for _, md := range media {
		for _, pt := range md.PayloadTypes {
			p := PayloadType{MediaType: md.Type, PayloadType: pt}
			if i := slices.IndexFunc(pts, func(x PayloadType) bool { return x.ID == pt.ID }); i >= 0 {
				pts[i] = p
			} else {
				pts = append(pts, p)
			}
		}
		for _, he := range md.HeaderExtensions {
			e := HeaderExtension{ID: he.ID, URI: he.URI}
			if i := slices.IndexFunc(exts, func(x HeaderExtension) bool { return x.ID == he.ID }); i >= 0 {
				exts[i] = e
			} else {
				exts = append(exts, e)
			}
		}
		// JVB sets the flag per <media/>, so the last one signaled wins.
		m.ExtmapAllowMixed = md.ExtmapAllowMixed
	}
	m.PayloadTypes, m.HeaderExtensions = pts, exts
	return m
}
