package colibri2

// AppendXML appends the <conference-modified xmlns='jitsi:colibri2'> element: endpoints,
// relays, then the feedback sources, in the shape JVB/Smack writes (signaling.md §4.2).
func (m *ConferenceModified) AppendXML(b []byte) []byte {
	b = openElem(b, "conference-modified", NS)
	b = append(b, '>')
	mark := len(b)
	for i := range m.Endpoints {
		b = appendEndpoint(b, &m.Endpoints[i])
	}
	for i := range m.Relays {
		b = appendRelay(b, &m.Relays[i])
	}
	if m.Sources != nil {
		b = appendSources(b, m.Sources)
	}
	return closeElem(b, mark, "conference-modified")
}

// AppendXML appends the <conference-modify xmlns='jitsi:colibri2'> request element as Jicofo
// writes it. RTCStatsEnabled is written only when false (its wire default is true).
func (m *ConferenceModify) AppendXML(b []byte) []byte {
	b = openElem(b, "conference-modify", NS)
	b = appendAttr(b, "meeting-id", m.MeetingID)
	b = appendAttrIf(b, "name", m.Name)
	b = appendTrue(b, "create", m.Create)
	b = appendTrue(b, "expire", m.Expire)
	if !m.RTCStatsEnabled {
		b = appendAttr(b, "rtcstats-enabled", "false")
	}
	b = append(b, '>')
	mark := len(b)
	for i := range m.Endpoints {
		b = appendEndpoint(b, &m.Endpoints[i])
	}
	for i := range m.Relays {
		b = appendRelay(b, &m.Relays[i])
	}
	if m.Connects != nil {
		b = appendConnects(b, m.Connects)
	}
	return closeElem(b, mark, "conference-modify")
}

// appendEndpoint writes <endpoint xmlns='jitsi:colibri2'>; Smack repeats the namespace on
// endpoint, relay and sources and lets the other colibri2 children inherit it.
func appendEndpoint(b []byte, ep *Endpoint) []byte {
	b = openElem(b, "endpoint", NS)
	b = appendAttr(b, "id", ep.ID)
	b = appendTrue(b, "create", ep.Create)
	b = appendTrue(b, "expire", ep.Expire)
	b = appendAttrIf(b, "stats-id", ep.StatsID)
	b = appendAttrIf(b, "muc-role", ep.MucRole)
	b = appendTrue(b, "diarize", ep.Diarize)
	b = append(b, '>')
	mark := len(b)
	for i := range ep.Media {
		b = appendMedia(b, &ep.Media[i])
	}
	if ep.Transport != nil {
		b = appendTransport(b, ep.Transport)
	}
	if ep.Sources != nil {
		b = appendSources(b, ep.Sources)
	}
	if fm := ep.ForceMute; fm != nil {
		b = openElem(b, "force-mute", "")
		b = appendTrue(b, "audio", fm.Audio)
		b = appendTrue(b, "video", fm.Video)
		b = append(b, "/>"...)
	}
	for _, c := range ep.Capabilities {
		b = openElem(b, "capability", "")
		b = appendAttr(b, "name", c)
		b = append(b, "/>"...)
	}
	if ep.InitialLastN != nil {
		b = openElem(b, "initial-last-n", "")
		b = appendInt(b, "value", int64(*ep.InitialLastN))
		b = append(b, "/>"...)
	}
	return closeElem(b, mark, "endpoint")
}

func appendRelay(b []byte, r *Relay) []byte {
	b = openElem(b, "relay", NS)
	b = appendAttr(b, "id", r.ID)
	b = appendTrue(b, "create", r.Create)
	b = appendTrue(b, "expire", r.Expire)
	b = appendAttrIf(b, "mesh-id", r.MeshID)
	b = append(b, '>')
	mark := len(b)
	for i := range r.Media {
		b = appendMedia(b, &r.Media[i])
	}
	if r.Transport != nil {
		b = appendTransport(b, r.Transport)
	}
	if r.Sources != nil {
		b = appendSources(b, r.Sources)
	}
	if r.Endpoints != nil {
		b = append(b, "<endpoints>"...)
		inner := len(b)
		for i := range r.Endpoints.Endpoints {
			b = appendEndpoint(b, &r.Endpoints.Endpoints[i])
		}
		b = closeElem(b, inner, "endpoints")
	}
	return closeElem(b, mark, "relay")
}

func appendConnects(b []byte, cs *Connects) []byte {
	b = append(b, "<connects>"...)
	mark := len(b)
	for i := range cs.Connects {
		c := &cs.Connects[i]
		b = openElem(b, "connect", "")
		b = appendAttrIf(b, "url", c.URL)
		b = appendAttrIf(b, "protocol", c.Protocol)
		b = appendAttrIf(b, "type", c.Type)
		b = appendTrue(b, "audio", c.Audio)
		b = appendTrue(b, "video", c.Video)
		b = appendAttrIf(b, "id", c.ID)
		b = appendTrue(b, "create", c.Create)
		b = appendTrue(b, "expire", c.Expire)
		b = append(b, '>')
		inner := len(b)
		for _, h := range c.HTTPHeaders {
			b = openElem(b, "http-header", "")
			b = appendAttr(b, "name", h.Name)
			b = appendAttr(b, "value", h.Value)
			b = append(b, "/>"...)
		}
		if c.Ping != nil {
			b = openElem(b, "ping", "")
			b = appendAttrIf(b, "interval", c.Ping.Interval)
			b = appendAttrIf(b, "timeout", c.Ping.Timeout)
			b = append(b, "/>"...)
		}
		b = appendNames(b, "exports", "export", c.Exports)
		b = appendNames(b, "requests", "request", c.Requests)
		b = closeElem(b, inner, "connect")
	}
	return closeElem(b, mark, "connects")
}

func appendNames(b []byte, list, item string, names []string) []byte {
	if len(names) == 0 {
		return b
	}
	b = append(b, '<')
	b = append(b, list...)
	b = append(b, '>')
	for _, n := range names {
		b = openElem(b, item, "")
		b = appendAttr(b, "name", n)
		b = append(b, "/>"...)
	}
	b = append(b, "</"...)
	b = append(b, list...)
	return append(b, '>')
}

// AppendXML appends the content of an XMPP <error type=ErrorType()> element the way JVB
// writes it (signaling.md §3.13): the stanza condition, <text xml:lang='en'>, then the
// colibri2 <error reason/> when Reason is set and <endpoint id/> when EndpointID is set. The
// caller writes the enclosing <error> element.
func (e *Error) AppendXML(b []byte) []byte {
	b = openElem(b, e.condition(), NSStanzas)
	b = append(b, "/>"...)
	if e.Text != "" {
		b = openElem(b, "text", NSStanzas)
		b = appendAttr(b, "xml:lang", "en")
		b = append(b, '>')
		b = appendEscaped(b, e.Text, false)
		b = append(b, "</text>"...)
	}
	if e.Reason != "" {
		b = openElem(b, "error", NS)
		b = appendAttr(b, "reason", string(e.Reason))
		b = append(b, "/>"...)
	}
	if e.EndpointID != "" {
		b = openElem(b, "endpoint", NS)
		b = appendAttr(b, "id", e.EndpointID)
		b = append(b, "/>"...)
	}
	return b
}

// condition returns the condition element name, falling back to internal-server-error when
// Condition is unset or not a condition-shaped name (it becomes an element name).
func (e *Error) condition() string {
	if isConditionName(e.Condition) {
		return e.Condition
	}
	return CondInternalServerError
}

// ErrorType returns Type, or the error type RFC 6120 §8.3.3 associates with the condition
// (Smack derives it the same way): modify for bad-request and the other "fix your request"
// conditions, auth for forbidden/not-authorized, wait for resource-constraint, else cancel.
func (e *Error) ErrorType() string {
	if e.Type != "" {
		return e.Type
	}
	switch e.condition() {
	case CondBadRequest, "jid-malformed", "not-acceptable", "policy-violation", "redirect":
		return "modify"
	case CondForbidden, "not-authorized", "registration-required", "subscription-required":
		return "auth"
	case "resource-constraint", "recipient-unavailable", "remote-server-timeout", "unexpected-request":
		return "wait"
	}
	return "cancel"
}
