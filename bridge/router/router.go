package router

import (
	"strings"

	"github.com/cityjitsi/videobridge/bridge/receiver"
)

// Kind is a source's media type.
type Kind uint8

// Kinds.
const (
	KindAudio Kind = iota + 1
	KindVideo
)

func (k Kind) String() string {
	switch k {
	case KindAudio:
		return "audio"
	case KindVideo:
		return "video"
	}
	return "unknown"
}

// KindOf maps a colibri2 media type name to a Kind (0 for anything else).
func KindOf(mediaType string) Kind {
	switch strings.ToLower(mediaType) {
	case "audio":
		return KindAudio
	case "video":
		return KindVideo
	}
	return 0
}

// Codec is a payload type's encoding, as far as the forwarding path cares.
type Codec uint8

// Codecs. CodecOther covers what is forwarded without inspection.
const (
	CodecOther Codec = iota
	CodecOpus
	CodecVP8
	CodecVP9
	CodecAV1
	CodecH264
	CodecRTX
	CodecRED
)

// CodecOf maps an SDP encoding name (case-insensitive) to a Codec.
func CodecOf(name string) Codec {
	// EqualFold, not a switch on ToLower: every routing snapshot classifies every endpoint's
	// payload types (Jicofo offers about 15), and ToLower allocates for "VP8".
	for _, c := range codecNames {
		if strings.EqualFold(name, c.name) {
			return c.codec
		}
	}
	return CodecOther
}

var codecNames = [...]struct {
	name  string
	codec Codec
}{
	{"opus", CodecOpus}, {"vp8", CodecVP8}, {"vp9", CodecVP9}, {"av1", CodecAV1}, {"av1x", CodecAV1},
	{"h264", CodecH264}, {"rtx", CodecRTX}, {"red", CodecRED},
}

// Header extension URIs the forwarding path knows (media.md §2.1).
const (
	URIAudioLevel           = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
	URITransportCC          = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	URIAbsSendTime          = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
	URIMID                  = "urn:ietf:params:rtp-hdrext:sdes:mid"
	URIDependencyDescriptor = "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"
	URIVideoOrientation     = "urn:3gpp:video-orientation"
)

// Extensions are an endpoint's negotiated header extension ids by URI; 0 means not
// negotiated. Jicofo gives every endpoint the same ids, but mapping by URI per endpoint costs
// nothing and survives a focus that does not (media.md §2.1).
type Extensions struct {
	AudioLevel, TransportCC, AbsSendTime, MID, DependencyDescriptor, VideoOrientation uint8
}

// PayloadType is one signaled payload type of an endpoint.
type PayloadType struct {
	PT        uint8
	Kind      Kind
	Name      string // SDP encoding name: opus, VP8, rtx, ...
	ClockRate uint32
	// APT is the apt parameter of an RTX payload type (RFC 4588 §8.6), -1 otherwise.
	APT int
	// RTCP feedback the endpoint supports for this payload type.
	NACK, PLI, FIR, TransportCC bool
}

// HeaderExtension is a signaled RTP header extension (RFC 8285).
type HeaderExtension struct {
	ID  uint8
	URI string
}

// AudioSource is one signaled audio SSRC.
type AudioSource struct {
	Name string
	SSRC uint32
}

// Encoding is one simulcast encoding of a video source: its SSRC and FID RTX partner (0:
// none).
type Encoding struct {
	SSRC, RTX uint32
}

// VideoSource is one signaled video source; Encodings are in SIM group order (low to high).
type VideoSource struct {
	Name      string
	Encodings []Encoding
}

// EndpointConfig is what the router needs of one endpoint.
type EndpointConfig struct {
	ID string
	// Visitor endpoints never have their media forwarded (JVB); they receive normally.
	Visitor                        bool
	ForceMuteAudio, ForceMuteVideo bool
	PayloadTypes                   []PayloadType
	HeaderExtensions               []HeaderExtension
	Audio                          []AudioSource
	Video                          []VideoSource
}

// Config is a conference as the router sees it: its endpoints in creation order. The router
// only reads it; callers may share an endpoint's slices between configurations.
type Config struct {
	Endpoints []EndpointConfig
}

// Endpoint is the routing view of one endpoint in a Snapshot.
type Endpoint struct {
	ID                             string
	Visitor                        bool
	ForceMuteAudio, ForceMuteVideo bool
	// AcceptsAudio and AcceptsVideo: some payload type of that kind was signaled (JVB's
	// acceptAudio/acceptVideo); an endpoint gets no media of a kind it did not negotiate.
	AcceptsAudio, AcceptsVideo bool
	Ext                        Extensions
	// Codecs maps every payload type (0..127) to its codec; unsignaled ones are CodecOther.
	Codecs [128]Codec
	// RTX maps the endpoint's RTX payload types to their apt, for unwrapping what it sends.
	RTX receiver.RTXTypes
	// RTXFor maps a media payload type to the RTX payload type this endpoint negotiated for it
	// (0: none), for the retransmissions the bridge sends to it (media.md §2.5).
	RTXFor [128]uint8
	// PLI: the endpoint supports "nack pli" on some payload type; otherwise the bridge sends
	// it FIR (media.md §2.6).
	PLI bool
}

// Source is one media source in a Snapshot.
type Source struct {
	Name  string
	Owner int // index in Snapshot.Endpoints
	Kind  Kind
	// SSRCs are the primary SSRC of each encoding (SIM order); audio and non-simulcast video
	// have one. SSRCs[0] is what classic mode sends every encoding on (media.md §2.3).
	SSRCs []uint32
	// RTX holds each encoding's FID RTX SSRC (0: none), parallel to SSRCs.
	RTX []uint32
	// Subscribers are the indexes of the endpoints this source is sent to.
	Subscribers []int
}

// Route is what an incoming SSRC resolves to.
type Route struct {
	Source   int  // index in Snapshot.Sources
	Encoding int8 // index in Source.SSRCs
	RTX      bool // the SSRC is the encoding's RTX SSRC
}

// Snapshot is an immutable routing table. Nothing in it may be modified after Build.
type Snapshot struct {
	Endpoints []Endpoint
	Sources   []Source
	routes    map[uint32]Route
	// Conflicts counts SSRCs signaled more than once (by two sources or twice in one); the
	// first signaling wins, as in a conference a duplicate SSRC cannot be demultiplexed.
	Conflicts int
}

// Lookup resolves an incoming SSRC.
func (s *Snapshot) Lookup(ssrc uint32) (Route, bool) {
	r, ok := s.routes[ssrc]
	return r, ok
}

// EndpointIndex returns the index of the endpoint with the given id, or -1.
func (s *Snapshot) EndpointIndex(id string) int {
	for i := range s.Endpoints {
		if s.Endpoints[i].ID == id {
			return i
		}
	}
	return -1
}

// Routes returns the number of SSRCs routed (primaries and RTX).
func (s *Snapshot) Routes() int { return len(s.routes) }
