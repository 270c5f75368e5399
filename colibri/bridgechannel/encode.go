package bridgechannel

import (
	"encoding/json"
	"slices"
)

// Append appends m's JSON object to dst. The output is always valid JSON.
func Append(dst []byte, m Message) []byte {
	return m.AppendJSON(dst)
}

// Marshal returns m's JSON object in a new slice.
func Marshal(m Message) []byte {
	return m.AppendJSON(nil)
}

func (m *ClientHello) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassClientHello)
	return w.end()
}

func (m *ServerHello) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassServerHello)
	w.optStr("version", m.Version)
	return w.end()
}

// AppendJSON writes to, from (when set) and msgPayload (when set). A MsgPayload that is not
// valid JSON is left out rather than corrupting the message.
func (m *EndpointMessage) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassEndpointMessage)
	w.str("to", m.To)
	w.optStr("from", m.From)
	if len(m.MsgPayload) > 0 && json.Valid(m.MsgPayload) {
		w.key("msgPayload")
		w.b = append(w.b, m.MsgPayload...)
	}
	return w.end()
}

// AppendJSON writes Raw with its top-level `from` set to From (when From is set). If Raw is
// not a JSON object, only colibriClass and from are written.
func (m *EndpointStats) AppendJSON(dst []byte) []byte {
	if m.From != "" {
		if out, err := AppendRewriteFrom(dst, m.Raw, m.From); err == nil {
			return out
		}
	} else if isObject(m.Raw) {
		return append(dst, m.Raw...)
	}
	w := begin(dst, ClassEndpointStats)
	w.optStr("from", m.From)
	return w.end()
}

func (m *LastNChangedEvent) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassLastNChangedEvent)
	w.int("lastN", int64(m.LastN))
	return w.end()
}

func (m *DominantSpeakerEndpointChangeEvent) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassDominantSpeakerEndpointChangeEvent)
	w.str("dominantSpeakerEndpoint", m.DominantSpeakerEndpoint)
	w.strings("previousSpeakers", m.PreviousSpeakers)
	w.bool("silence", m.Silence)
	return w.end()
}

func (m *EndpointConnectivityStatusChangeEvent) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassEndpointConnectivityStatusChangeEvent)
	w.str("endpoint", m.Endpoint)
	if m.Active { // a string on purpose (media.md pitfall 3)
		w.str("active", "true")
	} else {
		w.str("active", "false")
	}
	return w.end()
}

func (m *ForwardedSources) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassForwardedSources)
	w.strings("forwardedSources", m.ForwardedSources)
	return w.end()
}

func (m *VideoSourcesMap) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassVideoSourcesMap)
	w.key("mappedSources")
	w.b = append(w.b, '[')
	for i, s := range m.MappedSources {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		e := writer{b: append(w.b, `{"source":`...)}
		e.b = appendString(e.b, s.Source)
		e.optStr("owner", s.Owner)
		e.uint("ssrc", uint64(s.SSRC))
		e.uint("rtx", uint64(s.RTX))
		e.optStr("videoType", string(s.VideoType))
		e.optStr("mid", s.MID)
		w.b = e.end()
	}
	w.b = append(w.b, ']')
	return w.end()
}

func (m *AudioSourcesMap) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassAudioSourcesMap)
	w.key("mappedSources")
	w.b = append(w.b, '[')
	for i, s := range m.MappedSources {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		e := writer{b: append(w.b, `{"source":`...)}
		e.b = appendString(e.b, s.Source)
		e.optStr("owner", s.Owner)
		e.uint("ssrc", uint64(s.SSRC))
		e.optStr("mid", s.MID)
		w.b = e.end()
	}
	w.b = append(w.b, ']')
	return w.end()
}

func (m *SenderSourceConstraints) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassSenderSourceConstraints)
	w.str("sourceName", m.SourceName)
	w.int("maxHeight", int64(m.MaxHeight))
	return w.end()
}

// AppendJSON writes only the fields that are set; constraints are sorted by source name so
// the output is deterministic.
func (m *ReceiverVideoConstraints) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassReceiverVideoConstraints)
	if m.LastN != nil {
		w.int("lastN", int64(*m.LastN))
	}
	if m.SelectedSources != nil {
		w.strings("selectedSources", *m.SelectedSources)
	}
	if m.OnStageSources != nil {
		w.strings("onStageSources", *m.OnStageSources)
	}
	if m.DefaultConstraints != nil {
		w.constraints("defaultConstraints", *m.DefaultConstraints)
	}
	if m.Constraints != nil {
		w.key("constraints")
		w.b = append(w.b, '{')
		names := make([]string, 0, len(m.Constraints))
		for name := range m.Constraints {
			names = append(names, name)
		}
		slices.Sort(names)
		for i, name := range names {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendString(w.b, name)
			w.b = append(w.b, ':')
			w.b = appendConstraints(w.b, m.Constraints[name])
		}
		w.b = append(w.b, '}')
	}
	if m.AssumedBandwidthBps != nil {
		w.int("assumedBandwidthBps", *m.AssumedBandwidthBps)
	}
	return w.end()
}

func (m *SourceVideoTypeMessage) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassSourceVideoTypeMessage)
	w.str("sourceName", m.SourceName)
	w.str("videoType", string(m.VideoType))
	w.optStr("endpointId", m.EndpointID)
	return w.end()
}

func (m *VideoTypeMessage) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassVideoTypeMessage)
	w.str("videoType", string(m.VideoType))
	w.optStr("endpointId", m.EndpointID)
	return w.end()
}

// AppendJSON always writes the current form {all, include, exclude}.
func (m *ReceiverAudioSubscription) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassReceiverAudioSubscription)
	w.bool("all", m.All)
	w.strings("include", m.Include)
	w.strings("exclude", m.Exclude)
	return w.end()
}

func (m *ConnectionStats) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassConnectionStats)
	w.int("estimatedDownlinkBandwidth", m.EstimatedDownlinkBandwidth)
	return w.end()
}

func (m *SyntheticSourceSendingChangeEvent) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassSyntheticSourceSendingChangeEvent)
	w.str("sourceName", m.SourceName)
	w.bool("sending", m.Sending)
	w.uint("timestamp", uint64(m.Timestamp))
	return w.end()
}

func (m *AddReceiver) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassAddReceiver)
	w.str("bridgeId", m.BridgeID)
	w.optStr("endpointId", m.EndpointID)
	w.optStr("sourceName", m.SourceName)
	w.constraints("videoConstraints", m.VideoConstraints)
	return w.end()
}

func (m *RemoveReceiver) AppendJSON(dst []byte) []byte {
	w := begin(dst, ClassRemoveReceiver)
	w.str("bridgeId", m.BridgeID)
	w.str("endpointId", m.EndpointID)
	return w.end()
}

// AppendJSON writes Raw unchanged when it is a JSON object, else just the colibriClass.
func (m *Unknown) AppendJSON(dst []byte) []byte {
	if isObject(m.Raw) {
		return append(dst, m.Raw...)
	}
	w := begin(dst, m.ClassName)
	return w.end()
}
