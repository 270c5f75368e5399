// Package bridgechannel holds the JSON messages of the Jitsi "bridge channel" (media.md §1.3,
// signaling.md Appendix A): the control messages exchanged with clients over the SCTP data
// channel or colibri-ws, and with other bridges over relays. It does no I/O.
//
// Decoding is lenient where JVB's Jackson mapper is strict (media.md pitfall 2): unknown fields
// are ignored, optional fields with a wrong type are treated as absent, and numbers sent as
// strings are accepted. Encoding produces the exact shapes JVB sends: `colibriClass` first,
// `active` as a string, optional fields omitted as JVB omits them.
package bridgechannel

import "encoding/json"

// Message is one decoded bridge-channel message. Only pointer types of this package implement
// it; Decode returns pointers.
type Message interface {
	// Class is the `colibriClass` discriminator.
	Class() string
	// AppendJSON appends the message's JSON object to dst.
	AppendJSON(dst []byte) []byte
}

// colibriClass values (JVB message/BridgeChannelMessage.kt).
const (
	ClassClientHello                           = "ClientHello"
	ClassServerHello                           = "ServerHello"
	ClassEndpointMessage                       = "EndpointMessage"
	ClassEndpointStats                         = "EndpointStats"
	ClassLastNChangedEvent                     = "LastNChangedEvent"
	ClassDominantSpeakerEndpointChangeEvent    = "DominantSpeakerEndpointChangeEvent"
	ClassEndpointConnectivityStatusChangeEvent = "EndpointConnectivityStatusChangeEvent"
	ClassForwardedSources                      = "ForwardedSources"
	ClassVideoSourcesMap                       = "VideoSourcesMap"
	ClassAudioSourcesMap                       = "AudioSourcesMap"
	ClassSenderSourceConstraints               = "SenderSourceConstraints"
	ClassReceiverVideoConstraints              = "ReceiverVideoConstraints"
	ClassSourceVideoTypeMessage                = "SourceVideoTypeMessage"
	ClassVideoTypeMessage                      = "VideoTypeMessage"
	ClassReceiverAudioSubscription             = "ReceiverAudioSubscription"
	ClassConnectionStats                       = "ConnectionStats"
	ClassSyntheticSourceSendingChangeEvent     = "SyntheticSourceSendingChangeEvent"
	ClassAddReceiver                           = "AddReceiver"
	ClassRemoveReceiver                        = "RemoveReceiver"
)

// ClientHello (C→B, B↔B) asks for a ServerHello. lib-jitsi-meet never sends it.
type ClientHello struct{}

// ServerHello (B→C, B↔B) is sent on WebSocket accept and in reply to ClientHello.
type ServerHello struct {
	Version string // only when videobridge.version.announce = true; omitted when empty
}

// EndpointMessage (C→B, B→C, B↔B) is an opaque endpoint-to-endpoint payload. To forward one,
// prefer RewriteFrom on the received bytes: it keeps every other field, as JVB does.
type EndpointMessage struct {
	To         string          // "" means broadcast; required by JVB
	From       string          // set by the bridge (anti-spoofing); omitted when empty
	MsgPayload json.RawMessage // the original value bytes; omitted when nil
}

// EndpointStats (C→B, B→C, B↔B) is passed through untouched except for `from`.
type EndpointStats struct {
	From string          // the top-level string `from`, if any
	Raw  json.RawMessage // the whole original object (including colibriClass)
}

// LastNChangedEvent (C→B, legacy) sets lastN; -1 means unlimited.
type LastNChangedEvent struct {
	LastN int
}

// DominantSpeakerEndpointChangeEvent (B→C) announces the dominant speaker (media.md §2.9).
type DominantSpeakerEndpointChangeEvent struct {
	DominantSpeakerEndpoint string
	PreviousSpeakers        []string // most recent first, excluding the dominant; always encoded
	Silence                 bool
}

// EndpointConnectivityStatusChangeEvent (B→C, B↔B). Active goes on the wire as the string
// "true" or "false": lib-jitsi-meet compares with === 'true' (media.md pitfall 3).
type EndpointConnectivityStatusChangeEvent struct {
	Endpoint string
	Active   bool
}

// ForwardedSources (B→C) lists the video sources currently forwarded to the receiver.
type ForwardedSources struct {
	ForwardedSources []string // always encoded, [] when empty
}

// VideoType is a source's video type, in JVB's uppercase enum spelling. Decoding accepts any
// case, as JVB's mapper does (ACCEPT_CASE_INSENSITIVE_ENUMS).
type VideoType string

// Video types known to JVB.
const (
	VideoTypeCamera         VideoType = "CAMERA"
	VideoTypeDesktop        VideoType = "DESKTOP"
	VideoTypeDesktopHighFPS VideoType = "DESKTOP_HIGH_FPS"
	VideoTypeNone           VideoType = "NONE"
	VideoTypeDisabled       VideoType = "DISABLED"
)

// VideoSourceMapping is one slot of VideoSourcesMap (SSRC-rewriting mode, media.md §2.3).
type VideoSourceMapping struct {
	Source    string
	Owner     string    // omitted when empty
	SSRC      uint32    // bridge-chosen send SSRC
	RTX       uint32    // bridge-chosen RTX SSRC
	VideoType VideoType // omitted when empty
	MID       string    // only with mid-demux; omitted when empty
}

// VideoSourcesMap (B→C) carries new or changed video slot mappings.
type VideoSourcesMap struct {
	MappedSources []VideoSourceMapping
}

// AudioSourceMapping is one slot of AudioSourcesMap.
type AudioSourceMapping struct {
	Source string
	Owner  string // omitted when empty
	SSRC   uint32
	MID    string // omitted when empty
}

// AudioSourcesMap (B→C) carries new or changed audio slot mappings.
type AudioSourcesMap struct {
	MappedSources []AudioSourceMapping
}

// SenderSourceConstraints (B→C) tells a sender the largest height anyone wants for a source:
// -1 unlimited, 0 stop sending (media.md pitfall 12).
type SenderSourceConstraints struct {
	SourceName string
	MaxHeight  int
}

// NoFrameRateConstraint is VideoConstraints.MaxFrameRate when the client gives none.
const NoFrameRateConstraint = -1.0

// VideoConstraints is one receiver constraint. MaxHeight -1 is unlimited and 0 disabled;
// MaxFrameRate defaults to -1 and 0 also disables. An object without maxHeight decodes as 0,
// the value JVB's mapper gives a missing Int.
type VideoConstraints struct {
	MaxHeight    int
	MaxFrameRate float64
}

// ReceiverVideoConstraints (C→B) is required for any video to flow (media.md pitfall 2). Every
// field is optional and a nil field means "leave unchanged"; a non-nil pointer to an empty list
// is an explicit empty list.
type ReceiverVideoConstraints struct {
	LastN               *int
	SelectedSources     *[]string
	OnStageSources      *[]string
	DefaultConstraints  *VideoConstraints
	Constraints         map[string]VideoConstraints // nil when absent
	AssumedBandwidthBps *int64
}

// SourceVideoTypeMessage (C→B, B↔B) sets a source's video type. Bridges add EndpointID when
// forwarding it to relays.
type SourceVideoTypeMessage struct {
	SourceName string
	VideoType  VideoType
	EndpointID string // omitted when empty
}

// VideoTypeMessage (C→B, deprecated) sets the video type of source <endpointId>-v0.
type VideoTypeMessage struct {
	VideoType  VideoType
	EndpointID string // omitted when empty
}

// ReceiverAudioSubscription (C→B) selects the audio a receiver gets. The legacy form
// {mode, list} decodes into the same fields (media.md §1.3).
type ReceiverAudioSubscription struct {
	All     bool
	Include []string
	Exclude []string
}

// ConnectionStats (B→C) reports the bridge's bandwidth estimate toward the endpoint, in bps.
type ConnectionStats struct {
	EstimatedDownlinkBandwidth int64
}

// SyntheticSourceSendingChangeEvent (B→C, B↔B) flags a synthetic (translated audio) source
// starting or stopping; Timestamp is a 48 kHz RTP timestamp.
type SyntheticSourceSendingChangeEvent struct {
	SourceName string
	Sending    bool
	Timestamp  uint32
}

// AddReceiver (B↔B) says a remote bridge needs a source at up to VideoConstraints.
type AddReceiver struct {
	BridgeID         string
	EndpointID       string // legacy single-stream form; omitted when empty
	SourceName       string // omitted when empty
	VideoConstraints VideoConstraints
}

// RemoveReceiver (B↔B) is defined by JVB but never sent or handled.
type RemoveReceiver struct {
	BridgeID   string
	EndpointID string
}

// Unknown is a message with a colibriClass this package does not know. The caller counts it;
// lib-jitsi-meet re-emits such classes as events, so a relay may forward Raw unchanged.
type Unknown struct {
	ClassName string
	Raw       json.RawMessage // the whole original object
}

func (*ClientHello) Class() string       { return ClassClientHello }
func (*ServerHello) Class() string       { return ClassServerHello }
func (*EndpointMessage) Class() string   { return ClassEndpointMessage }
func (*EndpointStats) Class() string     { return ClassEndpointStats }
func (*LastNChangedEvent) Class() string { return ClassLastNChangedEvent }
func (*DominantSpeakerEndpointChangeEvent) Class() string {
	return ClassDominantSpeakerEndpointChangeEvent
}
func (*EndpointConnectivityStatusChangeEvent) Class() string {
	return ClassEndpointConnectivityStatusChangeEvent
}
func (*ForwardedSources) Class() string          { return ClassForwardedSources }
func (*VideoSourcesMap) Class() string           { return ClassVideoSourcesMap }
func (*AudioSourcesMap) Class() string           { return ClassAudioSourcesMap }
func (*SenderSourceConstraints) Class() string   { return ClassSenderSourceConstraints }
func (*ReceiverVideoConstraints) Class() string  { return ClassReceiverVideoConstraints }
func (*SourceVideoTypeMessage) Class() string    { return ClassSourceVideoTypeMessage }
func (*VideoTypeMessage) Class() string          { return ClassVideoTypeMessage }
func (*ReceiverAudioSubscription) Class() string { return ClassReceiverAudioSubscription }
func (*ConnectionStats) Class() string           { return ClassConnectionStats }
func (*SyntheticSourceSendingChangeEvent) Class() string {
	return ClassSyntheticSourceSendingChangeEvent
}
func (*AddReceiver) Class() string    { return ClassAddReceiver }
func (*RemoveReceiver) Class() string { return ClassRemoveReceiver }
func (u *Unknown) Class() string      { return u.ClassName }
