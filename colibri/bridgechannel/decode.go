package bridgechannel

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// MaxMessageSize caps what Decode accepts. Real messages are well under 4 KiB (the largest are
// EndpointStats and full VideoSourcesMap resyncs); the SCTP max-message-size (262144) is far
// more than any legitimate client needs.
const MaxMessageSize = 64 << 10

var (
	// ErrMalformed reports bytes that are not a JSON object with a string colibriClass, or a
	// known message without a field it cannot do without. JVB logs and drops such messages.
	ErrMalformed = errors.New("bridgechannel: malformed message")
	// ErrTooLarge reports a message over MaxMessageSize.
	ErrTooLarge = errors.New("bridgechannel: message too large")
)

func missing(class, field string) error {
	return fmt.Errorf("%w: %s without a valid %q", ErrMalformed, class, field)
}

// Decode parses one bridge-channel message. It dispatches on colibriClass; an unknown class
// yields *Unknown. Unknown fields are ignored and optional fields with an unusable value are
// treated as absent. The result never aliases b.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	var o object
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if o == nil { // the literal null
		return nil, fmt.Errorf("%w: not an object", ErrMalformed)
	}
	class, ok := o.str("colibriClass")
	if !ok {
		return nil, fmt.Errorf("%w: missing colibriClass", ErrMalformed)
	}
	if dec, ok := decoders[class]; ok {
		return dec(o, b)
	}
	return &Unknown{ClassName: class, Raw: clone(b)}, nil
}

type decoder func(o object, raw []byte) (Message, error)

var decoders = map[string]decoder{
	ClassClientHello:                           func(object, []byte) (Message, error) { return &ClientHello{}, nil },
	ClassServerHello:                           decodeServerHello,
	ClassEndpointMessage:                       decodeEndpointMessage,
	ClassEndpointStats:                         decodeEndpointStats,
	ClassLastNChangedEvent:                     decodeLastN,
	ClassDominantSpeakerEndpointChangeEvent:    decodeDominantSpeaker,
	ClassEndpointConnectivityStatusChangeEvent: decodeConnectivity,
	ClassForwardedSources:                      decodeForwardedSources,
	ClassVideoSourcesMap:                       decodeVideoSourcesMap,
	ClassAudioSourcesMap:                       decodeAudioSourcesMap,
	ClassSenderSourceConstraints:               decodeSenderSourceConstraints,
	ClassReceiverVideoConstraints:              decodeReceiverVideoConstraints,
	ClassSourceVideoTypeMessage:                decodeSourceVideoType,
	ClassVideoTypeMessage:                      decodeVideoType,
	ClassReceiverAudioSubscription:             decodeAudioSubscription,
	ClassConnectionStats:                       decodeConnectionStats,
	ClassSyntheticSourceSendingChangeEvent:     decodeSyntheticSending,
	ClassAddReceiver:                           decodeAddReceiver,
	ClassRemoveReceiver:                        decodeRemoveReceiver,
}

func clone(b []byte) json.RawMessage { return append(json.RawMessage(nil), b...) }

func decodeServerHello(o object, _ []byte) (Message, error) {
	v, _ := o.str("version")
	return &ServerHello{Version: v}, nil
}

func decodeEndpointMessage(o object, _ []byte) (Message, error) {
	// JVB's EndpointMessage class cannot be built without `to`; lib-jitsi-meet always sends it.
	to, ok := o.str("to")
	if !ok {
		return nil, missing(ClassEndpointMessage, "to")
	}
	m := &EndpointMessage{To: to}
	m.From, _ = o.str("from")
	if p, ok := o.raw("msgPayload"); ok {
		m.MsgPayload = p // already a copy: json.RawMessage copies on decode
	}
	return m, nil
}

func decodeEndpointStats(o object, raw []byte) (Message, error) {
	m := &EndpointStats{Raw: clone(raw)}
	m.From, _ = o.str("from")
	return m, nil
}

func decodeLastN(o object, _ []byte) (Message, error) {
	n, ok := o.int32("lastN")
	if !ok {
		return nil, missing(ClassLastNChangedEvent, "lastN")
	}
	return &LastNChangedEvent{LastN: n}, nil
}

func decodeDominantSpeaker(o object, _ []byte) (Message, error) {
	d, ok := o.str("dominantSpeakerEndpoint")
	if !ok {
		return nil, missing(ClassDominantSpeakerEndpointChangeEvent, "dominantSpeakerEndpoint")
	}
	m := &DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: d}
	m.PreviousSpeakers, _ = o.strings("previousSpeakers")
	m.Silence, _ = o.boolean("silence")
	return m, nil
}

func decodeConnectivity(o object, _ []byte) (Message, error) {
	ep, ok := o.str("endpoint")
	if !ok {
		return nil, missing(ClassEndpointConnectivityStatusChangeEvent, "endpoint")
	}
	active, ok := o.boolean("active")
	if !ok {
		return nil, missing(ClassEndpointConnectivityStatusChangeEvent, "active")
	}
	return &EndpointConnectivityStatusChangeEvent{Endpoint: ep, Active: active}, nil
}

func decodeForwardedSources(o object, _ []byte) (Message, error) {
	s, _ := o.strings("forwardedSources")
	return &ForwardedSources{ForwardedSources: s}, nil
}

// ssrc reads an SSRC, a JSON number in 0..2^32-1 (JVB uses a Long).
func (o object) ssrc(key string) (uint32, bool) {
	n, ok := o.integer(key, 0, math.MaxUint32)
	return uint32(n), ok
}

// decodeVideoSourcesMap skips entries without a source name or SSRC.
func decodeVideoSourcesMap(o object, _ []byte) (Message, error) {
	entries, _ := o.objects("mappedSources")
	m := &VideoSourcesMap{}
	for _, e := range entries {
		src, ok1 := e.str("source")
		ssrc, ok2 := e.ssrc("ssrc")
		if !ok1 || !ok2 {
			continue
		}
		vm := VideoSourceMapping{Source: src, SSRC: ssrc}
		vm.Owner, _ = e.str("owner")
		vm.RTX, _ = e.ssrc("rtx")
		vm.VideoType, _ = e.videoType("videoType")
		vm.MID, _ = e.str("mid")
		m.MappedSources = append(m.MappedSources, vm)
	}
	return m, nil
}

func decodeAudioSourcesMap(o object, _ []byte) (Message, error) {
	entries, _ := o.objects("mappedSources")
	m := &AudioSourcesMap{}
	for _, e := range entries {
		src, ok1 := e.str("source")
		ssrc, ok2 := e.ssrc("ssrc")
		if !ok1 || !ok2 {
			continue
		}
		am := AudioSourceMapping{Source: src, SSRC: ssrc}
		am.Owner, _ = e.str("owner")
		am.MID, _ = e.str("mid")
		m.MappedSources = append(m.MappedSources, am)
	}
	return m, nil
}

func decodeSenderSourceConstraints(o object, _ []byte) (Message, error) {
	name, ok := o.str("sourceName")
	if !ok {
		return nil, missing(ClassSenderSourceConstraints, "sourceName")
	}
	h, ok := o.int32("maxHeight")
	if !ok {
		return nil, missing(ClassSenderSourceConstraints, "maxHeight")
	}
	return &SenderSourceConstraints{SourceName: name, MaxHeight: h}, nil
}

// decodeReceiverVideoConstraints keeps "absent" (nil) apart from "empty" for every field:
// an absent field leaves the receiver's setting unchanged (media.md §1.3).
func decodeReceiverVideoConstraints(o object, _ []byte) (Message, error) {
	m := &ReceiverVideoConstraints{}
	if n, ok := o.int32("lastN"); ok {
		m.LastN = &n
	}
	m.SelectedSources = o.optStrings("selectedSources")
	m.OnStageSources = o.optStrings("onStageSources")
	if d, ok := o.object("defaultConstraints"); ok {
		c := videoConstraints(d)
		m.DefaultConstraints = &c
	}
	if cs, ok := o.object("constraints"); ok {
		m.Constraints = make(map[string]VideoConstraints, len(cs))
		for name := range cs {
			if c, ok := cs.object(name); ok {
				m.Constraints[name] = videoConstraints(c)
			}
		}
	}
	if bps, ok := o.integer("assumedBandwidthBps", math.MinInt64, math.MaxInt64); ok {
		m.AssumedBandwidthBps = &bps
	}
	return m, nil
}

// optStrings is strings for fields where present-but-empty differs from absent: it returns nil
// when absent and a pointer to a non-nil (possibly empty) slice otherwise.
func (o object) optStrings(key string) *[]string {
	s, ok := o.strings(key)
	if !ok {
		return nil
	}
	if s == nil {
		s = []string{}
	}
	return &s
}

func decodeSourceVideoType(o object, _ []byte) (Message, error) {
	name, ok := o.str("sourceName")
	if !ok {
		return nil, missing(ClassSourceVideoTypeMessage, "sourceName")
	}
	vt, ok := o.videoType("videoType")
	if !ok {
		return nil, missing(ClassSourceVideoTypeMessage, "videoType")
	}
	m := &SourceVideoTypeMessage{SourceName: name, VideoType: vt}
	m.EndpointID, _ = o.str("endpointId")
	return m, nil
}

func decodeVideoType(o object, _ []byte) (Message, error) {
	vt, ok := o.videoType("videoType")
	if !ok {
		return nil, missing(ClassVideoTypeMessage, "videoType")
	}
	m := &VideoTypeMessage{VideoType: vt}
	m.EndpointID, _ = o.str("endpointId")
	return m, nil
}

// decodeAudioSubscription accepts the current form {all, include, exclude} and the legacy
// {mode, list} (media.md §1.3). Without a usable `all` or `mode` the message is malformed: a
// guess could silence every sender for this receiver.
func decodeAudioSubscription(o object, _ []byte) (Message, error) {
	m := &ReceiverAudioSubscription{}
	if all, ok := o.boolean("all"); ok {
		m.All = all
		m.Include, _ = o.strings("include")
		m.Exclude, _ = o.strings("exclude")
		return m, nil
	}
	mode, _ := o.str("mode")
	list, _ := o.strings("list")
	switch mode {
	case "All":
		m.All = true
	case "None":
		m.All = false
	case "Include":
		m.Include = list
	case "Exclude":
		m.All, m.Exclude = true, list
	default:
		return nil, missing(ClassReceiverAudioSubscription, "all")
	}
	return m, nil
}

func decodeConnectionStats(o object, _ []byte) (Message, error) {
	bw, ok := o.integer("estimatedDownlinkBandwidth", math.MinInt64, math.MaxInt64)
	if !ok {
		return nil, missing(ClassConnectionStats, "estimatedDownlinkBandwidth")
	}
	return &ConnectionStats{EstimatedDownlinkBandwidth: bw}, nil
}

// decodeSyntheticSending requires every field, as lib-jitsi-meet does before acting on it.
func decodeSyntheticSending(o object, _ []byte) (Message, error) {
	name, ok := o.str("sourceName")
	if !ok {
		return nil, missing(ClassSyntheticSourceSendingChangeEvent, "sourceName")
	}
	sending, ok := o.boolean("sending")
	if !ok {
		return nil, missing(ClassSyntheticSourceSendingChangeEvent, "sending")
	}
	ts, ok := o.ssrc("timestamp") // an RTP timestamp: same 32-bit range as an SSRC
	if !ok {
		return nil, missing(ClassSyntheticSourceSendingChangeEvent, "timestamp")
	}
	return &SyntheticSourceSendingChangeEvent{SourceName: name, Sending: sending, Timestamp: ts}, nil
}

func decodeAddReceiver(o object, _ []byte) (Message, error) {
	bridge, ok := o.str("bridgeId")
	if !ok {
		return nil, missing(ClassAddReceiver, "bridgeId")
	}
	c, ok := o.object("videoConstraints")
	if !ok {
		return nil, missing(ClassAddReceiver, "videoConstraints")
	}
	m := &AddReceiver{BridgeID: bridge, VideoConstraints: videoConstraints(c)}
	m.EndpointID, _ = o.str("endpointId")
	m.SourceName, _ = o.str("sourceName")
	if m.EndpointID == "" && m.SourceName == "" {
		return nil, missing(ClassAddReceiver, "sourceName")
	}
	return m, nil
}

func decodeRemoveReceiver(o object, _ []byte) (Message, error) {
	bridge, ok := o.str("bridgeId")
	if !ok {
		return nil, missing(ClassRemoveReceiver, "bridgeId")
	}
	ep, ok := o.str("endpointId")
	if !ok {
		return nil, missing(ClassRemoveReceiver, "endpointId")
	}
	return &RemoveReceiver{BridgeID: bridge, EndpointID: ep}, nil
}
