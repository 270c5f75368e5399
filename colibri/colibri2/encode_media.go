package colibri2

func appendMedia(b []byte, m *Media) []byte {
	b = openElem(b, "media", "")
	b = appendAttr(b, "type", m.Type)
	b = append(b, '>')
	mark := len(b)
	for i := range m.PayloadTypes {
		b = appendPayloadType(b, &m.PayloadTypes[i])
	}
	for i := range m.HeaderExtensions {
		he := &m.HeaderExtensions[i]
		b = openElem(b, "rtp-hdrext", NSHdrExt)
		b = appendInt(b, "id", int64(he.ID))
		b = appendAttr(b, "uri", he.URI)
		b = appendAttrIf(b, "senders", he.Senders)
		b = append(b, '>')
		inner := len(b)
		b = appendParameters(b, he.Parameters)
		b = closeElem(b, inner, "rtp-hdrext")
	}
	if m.ExtmapAllowMixed {
		b = openElem(b, "extmap-allow-mixed", NSHdrExt)
		b = append(b, "/>"...)
	}
	return closeElem(b, mark, "media")
}

func appendPayloadType(b []byte, pt *PayloadType) []byte {
	b = openElem(b, "payload-type", NSRTP)
	b = appendInt(b, "id", int64(pt.ID))
	b = appendAttrIf(b, "name", pt.Name)
	b = appendIntIf(b, "clockrate", int64(pt.ClockRate))
	b = appendIntIf(b, "channels", int64(pt.Channels))
	b = appendIntIf(b, "ptime", int64(pt.PTime))
	b = appendIntIf(b, "maxptime", int64(pt.MaxPTime))
	b = append(b, '>')
	mark := len(b)
	b = appendParameters(b, pt.Parameters)
	for _, fb := range pt.RTCPFbs {
		b = openElem(b, "rtcp-fb", NSRTCPFb)
		b = appendAttr(b, "type", fb.Type)
		b = appendAttrIf(b, "subtype", fb.Subtype)
		b = append(b, "/>"...)
	}
	return closeElem(b, mark, "payload-type")
}

// appendParameters writes <parameter name value/> children inheriting the parent's namespace;
// the name is omitted when empty (RED's '111/111').
func appendParameters(b []byte, params []Parameter) []byte {
	for _, p := range params {
		b = openElem(b, "parameter", "")
		b = appendAttrIf(b, "name", p.Name)
		b = appendAttr(b, "value", p.Value)
		b = append(b, "/>"...)
	}
	return b
}

// appendTransport writes the colibri2 <transport> wrapper with the nested ICE-UDP transport
// and <sctp/> (signaling.md §3.5).
func appendTransport(b []byte, t *Transport) []byte {
	b = openElem(b, "transport", "")
	b = appendTrue(b, "ice-controlling", t.ICEControlling)
	b = appendTrue(b, "use-unique-port", t.UseUniquePort)
	b = appendTrue(b, "ice-restart", t.ICERestart)
	b = append(b, '>')
	mark := len(b)
	if t.ICE != nil {
		b = appendICETransport(b, t.ICE)
	}
	if s := t.SCTP; s != nil {
		b = openElem(b, "sctp", "")
		b = appendIntIf(b, "port", int64(s.Port))
		b = appendAttrIf(b, "role", s.Role)
		b = append(b, "/>"...)
	}
	return closeElem(b, mark, "transport")
}

func appendICETransport(b []byte, t *ICEUDPTransport) []byte {
	b = openElem(b, "transport", NSICEUDP)
	b = appendAttrIf(b, "ufrag", t.Ufrag)
	b = appendAttrIf(b, "pwd", t.Pwd)
	if t.ICEGeneration != nil {
		b = appendInt(b, "ice-generation", int64(*t.ICEGeneration))
	}
	b = append(b, '>')
	mark := len(b)
	if t.RTCPMux {
		b = append(b, "<rtcp-mux/>"...)
	}
	for _, fp := range t.Fingerprints {
		b = openElem(b, "fingerprint", NSDTLS)
		b = appendAttrIf(b, "hash", fp.Hash)
		b = appendAttrIf(b, "setup", fp.Setup)
		b = appendAttrIf(b, "required", fp.Required)
		b = appendTrue(b, "cryptex", fp.Cryptex)
		b = append(b, '>')
		b = appendEscaped(b, fp.Fingerprint, false)
		b = append(b, "</fingerprint>"...)
	}
	for i := range t.Candidates {
		b = appendCandidate(b, &t.Candidates[i])
	}
	for _, ws := range t.WebSockets {
		b = openElem(b, "web-socket", NSColibri)
		b = appendAttrIf(b, "url", ws.URL)
		b = appendTrue(b, "active", ws.Active)
		b = append(b, "/>"...)
	}
	return closeElem(b, mark, "transport")
}

// appendCandidate writes the attributes in JVB's order; rel-addr/rel-port only for
// candidates that have a related address (srflx/prflx/relay).
func appendCandidate(b []byte, c *Candidate) []byte {
	b = openElem(b, "candidate", "")
	b = appendInt(b, "component", int64(c.Component))
	b = appendAttrIf(b, "foundation", c.Foundation)
	b = appendInt(b, "generation", int64(c.Generation))
	b = appendAttrIf(b, "id", c.ID)
	b = appendInt(b, "network", int64(c.Network))
	b = appendInt(b, "priority", int64(c.Priority))
	b = appendAttrIf(b, "protocol", c.Protocol)
	b = appendAttrIf(b, "type", c.Type)
	b = appendAttrIf(b, "ip", c.IP)
	b = appendInt(b, "port", int64(c.Port))
	if c.RelAddr != "" {
		b = appendAttr(b, "rel-addr", c.RelAddr)
		b = appendInt(b, "rel-port", int64(c.RelPort))
	} else {
		b = appendIntIf(b, "rel-port", int64(c.RelPort))
	}
	b = appendAttrIf(b, "tcptype", c.TCPType)
	return append(b, "/>"...)
}

// appendSources writes <sources xmlns='jitsi:colibri2'> (an empty one clears, §3.6).
func appendSources(b []byte, s *Sources) []byte {
	b = openElem(b, "sources", NS)
	b = append(b, '>')
	mark := len(b)
	for i := range s.MediaSources {
		b = appendMediaSource(b, &s.MediaSources[i])
	}
	return closeElem(b, mark, "sources")
}

func appendMediaSource(b []byte, ms *MediaSource) []byte {
	b = openElem(b, "media-source", "")
	b = appendAttr(b, "type", ms.Type)
	b = appendAttr(b, "id", ms.ID)
	b = appendTrue(b, "synthetic", ms.Synthetic)
	b = append(b, '>')
	mark := len(b)
	for i := range ms.Sources {
		b = appendSource(b, &ms.Sources[i])
	}
	for _, g := range ms.SSRCGroups {
		b = openElem(b, "ssrc-group", NSSSMA)
		b = appendAttrIf(b, "semantics", g.Semantics)
		b = append(b, '>')
		inner := len(b)
		for _, ssrc := range g.SSRCs {
			b = appendInt(append(b, "<source"...), "ssrc", int64(ssrc))
			b = append(b, "/>"...)
		}
		b = closeElem(b, inner, "ssrc-group")
	}
	return closeElem(b, mark, "media-source")
}

func appendSource(b []byte, s *Source) []byte {
	b = openElem(b, "source", NSSSMA)
	b = appendInt(b, "ssrc", int64(s.SSRC))
	b = appendAttrIf(b, "name", s.Name)
	b = appendAttrIf(b, "videoType", s.VideoType)
	b = appendAttrIf(b, "rid", s.RID)
	b = append(b, '>')
	mark := len(b)
	b = appendParameters(b, s.Parameters)
	if s.Owner != "" {
		b = openElem(b, "ssrc-info", NSJitMeet)
		b = appendAttr(b, "owner", s.Owner)
		b = append(b, "/>"...)
	}
	return closeElem(b, mark, "source")
}
