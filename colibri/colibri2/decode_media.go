package colibri2

import (
	"encoding/xml"
	"strings"
)

// media parses <media type/> (signaling.md §3.4).
func (p *parser) media(se xml.StartElement) (Media, error) {
	a := attrsOf(se)
	m := Media{Type: a.mediaType("type")}
	if a.err != nil {
		return m, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		switch c.Name {
		case elPayloadType:
			pt, err := p.payloadType(c)
			m.PayloadTypes = append(m.PayloadTypes, pt)
			return err
		case elHdrExt:
			he, err := p.headerExtension(c)
			m.HeaderExtensions = append(m.HeaderExtensions, he)
			return err
		case elExtmapAllowMixed:
			m.ExtmapAllowMixed = true
		}
		return p.skip()
	})
	return m, err
}

func (p *parser) payloadType(se xml.StartElement) (PayloadType, error) {
	a := attrsOf(se)
	pt := PayloadType{
		ID:        uint8(a.requiredInt("id", 0, 127)), // RTP payload types are 7 bits (RFC 3550)
		Name:      a.str("name"),
		ClockRate: uint32(a.integer("clockrate", 0, maxUint32)),
		Channels:  int(a.integer("channels", minInt32, maxInt32)),
		PTime:     int(a.integer("ptime", minInt32, maxInt32)),
		MaxPTime:  int(a.integer("maxptime", minInt32, maxInt32)),
	}
	if a.err != nil {
		return pt, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		ca := attrsOf(c)
		switch {
		case isParameter(c.Name, NSRTP):
			pt.Parameters = append(pt.Parameters, Parameter{Name: ca.str("name"), Value: ca.str("value")})
		case c.Name == elRTCPFb:
			pt.RTCPFbs = append(pt.RTCPFbs, RTCPFb{Type: ca.str("type"), Subtype: ca.str("subtype")})
		}
		return p.skip()
	})
	return pt, err
}

func (p *parser) headerExtension(se xml.StartElement) (HeaderExtension, error) {
	a := attrsOf(se)
	he := HeaderExtension{
		// RFC 8285: one-byte IDs are 1-14, two-byte IDs 1-255.
		ID:      int(a.requiredInt("id", 1, 255)),
		URI:     a.str("uri"),
		Senders: a.str("senders"),
	}
	if a.err != nil {
		return he, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		if isParameter(c.Name, NSHdrExt) {
			ca := attrsOf(c)
			he.Parameters = append(he.Parameters, Parameter{Name: ca.str("name"), Value: ca.str("value")})
		}
		return p.skip()
	})
	return he, err
}

// transport parses the colibri2 <transport/> wrapper (§3.5).
func (p *parser) transport(se xml.StartElement) (*Transport, error) {
	a := attrsOf(se)
	t := &Transport{
		ICEControlling: a.boolean("ice-controlling", false),
		UseUniquePort:  a.boolean("use-unique-port", false),
		ICERestart:     a.boolean("ice-restart", false),
	}
	if a.err != nil {
		return t, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		var err error
		switch c.Name {
		case elICETransport:
			t.ICE, err = p.iceTransport(c)
		case elSCTP:
			ca := attrsOf(c)
			t.SCTP = &SCTP{
				Port: int(ca.integer("port", 0, maxPort)),
				Role: ca.enum("role", "server", "client"),
			}
			err = firstErr(ca.err, p.skip())
		default:
			err = p.skip()
		}
		return err
	})
	return t, err
}

func (p *parser) iceTransport(se xml.StartElement) (*ICEUDPTransport, error) {
	a := attrsOf(se)
	t := &ICEUDPTransport{
		Ufrag:         a.str("ufrag"),
		Pwd:           a.str("pwd"),
		ICEGeneration: a.optionalInt("ice-generation", 0, maxInt32),
	}
	if a.err != nil {
		return t, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		ca := attrsOf(c)
		switch c.Name {
		case elFingerprint:
			fp := Fingerprint{
				Hash:     ca.str("hash"),
				Setup:    ca.str("setup"),
				Required: ca.str("required"),
				Cryptex:  ca.boolean("cryptex", false),
			}
			text, err := p.text()
			fp.Fingerprint = strings.TrimSpace(text)
			t.Fingerprints = append(t.Fingerprints, fp)
			return firstErr(ca.err, err)
		case elCandidate:
			t.Candidates = append(t.Candidates, candidate(&ca))
			return firstErr(ca.err, p.skip())
		case elRTCPMux:
			t.RTCPMux = true
		case elWebSocket:
			t.WebSockets = append(t.WebSockets, WebSocket{URL: ca.str("url"), Active: ca.boolean("active", false)})
			return firstErr(ca.err, p.skip())
		}
		return p.skip()
	})
	return t, err
}

func candidate(a *attrs) Candidate {
	return Candidate{
		Component:  int(a.integer("component", 0, maxInt32)),
		Foundation: a.str("foundation"),
		Generation: int(a.integer("generation", 0, maxInt32)),
		ID:         a.str("id"),
		Network:    int(a.integer("network", minInt32, maxInt32)),
		Priority:   uint32(a.integer("priority", 0, maxUint32)),
		Protocol:   a.str("protocol"),
		Type:       a.str("type"),
		IP:         a.str("ip"),
		Port:       int(a.integer("port", 0, maxPort)),
		RelAddr:    a.str("rel-addr"),
		RelPort:    int(a.integer("rel-port", 0, maxPort)),
		TCPType:    a.str("tcptype"),
	}
}

// sources parses <sources/> (§3.6). An empty element yields a non-nil *Sources with no
// media sources: it clears the endpoint's sources.
func (p *parser) sources() (*Sources, error) {
	s := &Sources{}
	err := p.children(func(c xml.StartElement) error {
		if c.Name != elMediaSource {
			return p.skip()
		}
		ms, err := p.mediaSource(c)
		s.MediaSources = append(s.MediaSources, ms)
		return err
	})
	return s, err
}

func (p *parser) mediaSource(se xml.StartElement) (MediaSource, error) {
	a := attrsOf(se)
	ms := MediaSource{
		Type:      a.mediaType("type"),
		ID:        a.required("id"),
		Synthetic: a.boolean("synthetic", false),
	}
	if a.err != nil {
		return ms, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		switch c.Name {
		case elSource:
			src, err := p.source(c)
			ms.Sources = append(ms.Sources, src)
			return err
		case elSSRCGroup:
			g, err := p.ssrcGroup(c)
			ms.SSRCGroups = append(ms.SSRCGroups, g)
			return err
		}
		return p.skip()
	})
	return ms, err
}

func (p *parser) countSource() error {
	if p.nSources++; p.nSources > maxSources {
		return malformed("more than %d sources", maxSources)
	}
	return nil
}

func (p *parser) source(se xml.StartElement) (Source, error) {
	if err := p.countSource(); err != nil {
		return Source{}, err
	}
	a := attrsOf(se)
	src := Source{
		SSRC:      uint32(a.requiredInt("ssrc", 0, maxUint32)),
		Name:      a.str("name"),
		VideoType: a.str("videoType"),
		RID:       a.str("rid"),
	}
	if a.err != nil {
		return src, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		ca := attrsOf(c)
		switch {
		case isParameter(c.Name, NSSSMA):
			src.Parameters = append(src.Parameters, Parameter{Name: ca.str("name"), Value: ca.str("value")})
		case c.Name == elSSRCInfo:
			src.Owner = ca.str("owner")
		}
		return p.skip()
	})
	return src, err
}

func (p *parser) ssrcGroup(se xml.StartElement) (SSRCGroup, error) {
	a := attrsOf(se)
	g := SSRCGroup{Semantics: a.str("semantics")}
	err := p.children(func(c xml.StartElement) error {
		if c.Name != elSource {
			return p.skip()
		}
		if err := p.countSource(); err != nil {
			return err
		}
		ca := attrsOf(c)
		g.SSRCs = append(g.SSRCs, uint32(ca.requiredInt("ssrc", 0, maxUint32)))
		return firstErr(ca.err, p.skip())
	})
	return g, err
}
