// Package colibri2 holds the wire types of the jitsi:colibri2 protocol that Jicofo uses to
// allocate conferences, endpoints and relays on a bridge, with their XML codec and the
// request-shape validation JVB applies. It does no I/O.
//
// The types mirror the XML closely (one struct per element) so that a decoded request can be
// re-encoded for golden tests; semantics live in bridge/control.
package colibri2

// XML namespaces used by colibri2 stanzas (signaling.md §3.1).
const (
	NS          = "jitsi:colibri2"
	NSColibri   = "http://jitsi.org/protocol/colibri"
	NSRTP       = "urn:xmpp:jingle:apps:rtp:1"
	NSRTCPFb    = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0"
	NSHdrExt    = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0"
	NSSSMA      = "urn:xmpp:jingle:apps:rtp:ssma:0"
	NSICEUDP    = "urn:xmpp:jingle:transports:ice-udp:1"
	NSDTLS      = "urn:xmpp:jingle:apps:dtls:0"
	NSStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSJitMeet   = "http://jitsi.org/jitmeet"
	NSHealth    = "http://jitsi.org/protocol/healthcheck"
	NSIQVersion = "jabber:iq:version"
)

// ConferenceModify is the <conference-modify/> request.
type ConferenceModify struct {
	MeetingID string // required, non-blank
	Name      string // room bare JID, only on create
	Create    bool
	Expire    bool
	// RTCStatsEnabled defaults to true on the wire; only an explicit 'false' clears it.
	// Because Go's zero value is false, code that builds a request must set it to true,
	// otherwise AppendXML emits rtcstats-enabled='false'.
	RTCStatsEnabled bool
	Endpoints       []Endpoint
	Relays          []Relay
	Connects        *Connects
}

// ConferenceModified is the <conference-modified/> response.
type ConferenceModified struct {
	Endpoints []Endpoint
	Relays    []Relay
	// Sources carries the feedback sources (jvb-a0, jvb-v0) when the request created
	// the conference or an endpoint.
	Sources *Sources
}

// Endpoint is <endpoint/> in requests and responses.
type Endpoint struct {
	ID           string // required
	Create       bool
	Expire       bool
	StatsID      string
	MucRole      string // "", moderator, participant, visitor, none
	Diarize      bool
	Media        []Media
	Transport    *Transport
	Sources      *Sources
	ForceMute    *ForceMute
	Capabilities []string
	InitialLastN *int
}

// Relay is <relay/>: a link to another bridge (secure Octo).
type Relay struct {
	ID        string // the remote bridge's relay_id
	Create    bool
	Expire    bool
	MeshID    string
	Media     []Media
	Transport *Transport
	Sources   *Sources
	Endpoints *RelayEndpoints
}

// RelayEndpoints is <endpoints/> inside a relay: remote endpoints reachable through it.
type RelayEndpoints struct {
	Endpoints []Endpoint
}

// Media is <media type='audio|video'/>.
type Media struct {
	Type             string // "audio" or "video"
	PayloadTypes     []PayloadType
	HeaderExtensions []HeaderExtension
	ExtmapAllowMixed bool
}

// PayloadType is <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1'/>.
type PayloadType struct {
	ID         uint8
	Name       string
	ClockRate  uint32
	Channels   int // 0 when absent (means 1)
	PTime      int // 0 when absent
	MaxPTime   int // 0 when absent
	Parameters []Parameter
	RTCPFbs    []RTCPFb
}

// Parameter is <parameter name value/>. Name may be empty (e.g. RED's "111/111").
type Parameter struct {
	Name  string
	Value string
}

// RTCPFb is <rtcp-fb type subtype/>.
type RTCPFb struct {
	Type    string
	Subtype string
}

// HeaderExtension is <rtp-hdrext id uri senders/>.
type HeaderExtension struct {
	ID      int
	URI     string
	Senders string
	// Parameters are the optional <parameter name='attributes' value/> children.
	Parameters []Parameter
}

// Transport is the colibri2 <transport/> wrapper.
type Transport struct {
	ICEControlling bool
	UseUniquePort  bool
	ICERestart     bool
	ICE            *ICEUDPTransport
	SCTP           *SCTP
}

// ICEUDPTransport is <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>.
type ICEUDPTransport struct {
	Ufrag         string
	Pwd           string
	ICEGeneration *int
	RTCPMux       bool
	Fingerprints  []Fingerprint
	Candidates    []Candidate
	WebSockets    []WebSocket
}

// Fingerprint is <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash setup>HEX</fingerprint>.
type Fingerprint struct {
	Hash        string
	Setup       string // actpass, active, passive
	Required    string // optional 'required' attribute, kept verbatim
	Cryptex     bool
	Fingerprint string
}

// Candidate is an ICE <candidate/>.
type Candidate struct {
	Component  int
	Foundation string
	Generation int
	ID         string
	Network    int
	Priority   uint32
	Protocol   string
	Type       string // host, srflx, prflx, relay
	IP         string
	Port       int
	RelAddr    string
	RelPort    int
	TCPType    string // active, passive, so; empty for UDP
}

// WebSocket is <web-socket xmlns='http://jitsi.org/protocol/colibri' url active/>.
type WebSocket struct {
	URL    string
	Active bool
}

// SCTP is <sctp port role/>. Port 0 means absent.
type SCTP struct {
	Port int
	Role string // "", server, client
}

// Sources is <sources/>: a full replacement of an endpoint's sources.
type Sources struct {
	MediaSources []MediaSource
}

// MediaSource is <media-source type id/>: one named source.
type MediaSource struct {
	Type       string // audio or video
	ID         string // source name, e.g. "79f0273e-v0"
	Synthetic  bool
	Sources    []Source
	SSRCGroups []SSRCGroup
}

// Source is <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc name videoType rid/>.
type Source struct {
	SSRC       uint32
	Name       string
	VideoType  string
	RID        string
	Owner      string // from <ssrc-info owner/>
	Parameters []Parameter
}

// SSRCGroup is <ssrc-group semantics/>; SSRCs in order, first is primary.
type SSRCGroup struct {
	Semantics string // SIM, FID, FEC-FR
	SSRCs     []uint32
}

// ForceMute is <force-mute audio video/>: full state, not a delta.
type ForceMute struct {
	Audio bool
	Video bool
}

// Connects is <connects/> (media export); accepted and ignored by this bridge.
type Connects struct {
	Connects []Connect
}

// Connect is one <connect/>.
type Connect struct {
	URL      string
	Protocol string
	Type     string
	Audio    bool
	Video    bool
	ID       string
	Create   bool
	Expire   bool
	// The children below are carried for round-trips only; this bridge ignores exports.
	HTTPHeaders []HTTPHeader
	Ping        *ConnectPing
	Exports     []string // <exports><export name/></exports>
	Requests    []string // <requests><request name/></requests>
}

// HTTPHeader is <http-header name value/> inside <connect/>.
type HTTPHeader struct {
	Name  string
	Value string
}

// ConnectPing is <ping interval timeout/> inside <connect/>; values kept verbatim.
type ConnectPing struct {
	Interval string
	Timeout  string
}

// Capability names sent on endpoint create.
const (
	CapSourceNames                = "source-names"
	CapSSRCRewriting              = "ssrc-rewriting"
	CapRTPMidDemux                = "rtp-mid-demux"
	CapPrivateAddressConnectivity = "private-address-connectivity"
)

// Reason is the colibri2 error reason carried inside an XMPP error.
type Reason string

// Reasons, exactly as JVB writes them (signaling.md §3.13).
const (
	ReasonNone                    Reason = ""
	ReasonConferenceNotFound      Reason = "conference_not_found"
	ReasonConferenceAlreadyExists Reason = "conference_already_exists"
	ReasonFeatureNotImplemented   Reason = "feature_not_implemented"
	ReasonGracefulShutdown        Reason = "graceful_shutdown"
	ReasonUnknownEndpoint         Reason = "unknown_endpoint"
	ReasonUnspecified             Reason = "unspecified"
)

// XMPP stanza error conditions used by the bridge.
const (
	CondBadRequest            = "bad-request"
	CondConflict              = "conflict"
	CondFeatureNotImplemented = "feature-not-implemented"
	CondForbidden             = "forbidden"
	CondInternalServerError   = "internal-server-error"
	CondItemNotFound          = "item-not-found"
	CondServiceUnavailable    = "service-unavailable"
)

// Error is a colibri2 request failure: an XMPP stanza error condition plus the optional
// colibri2 extensions JVB places inside <error>. It implements error.
type Error struct {
	Condition string // XMPP condition, e.g. CondItemNotFound
	Type      string // cancel, modify, ... ; empty means derived from Condition
	Text      string
	Reason    Reason // colibri2 reason; empty means no colibri2 <error/> extension
	// EndpointID adds <endpoint xmlns='jitsi:colibri2' id/> (unknown_endpoint).
	EndpointID string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return e.Condition + " (" + string(e.Reason) + "): " + e.Text
	}
	return e.Condition + ": " + e.Text
}
