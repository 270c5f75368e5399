package colibri2

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// DecodeConferenceModify parses the raw XML of a <conference-modify xmlns='jitsi:colibri2'/>
// element (the IQ child). Unknown elements and attributes are ignored anywhere; children may
// come in any order. Every failure wraps ErrMalformed and says what is wrong.
func DecodeConferenceModify(payload []byte) (*ConferenceModify, error) {
	p := newParser(payload)
	se, err := p.root(func(n xml.Name) bool { return n == elConferenceModify }, "{jitsi:colibri2}conference-modify")
	if err != nil {
		return nil, err
	}
	a := attrsOf(se)
	m := &ConferenceModify{
		MeetingID:       a.required("meeting-id"),
		Name:            a.str("name"),
		Create:          a.boolean("create", false),
		Expire:          a.boolean("expire", false),
		RTCStatsEnabled: a.boolean("rtcstats-enabled", true),
	}
	if a.err != nil {
		return nil, a.err
	}
	err = p.children(func(c xml.StartElement) error {
		switch c.Name {
		case elEndpoint:
			ep, err := p.endpoint(c)
			m.Endpoints = append(m.Endpoints, ep)
			return err
		case elRelay:
			r, err := p.relay(c)
			m.Relays = append(m.Relays, r)
			return err
		case elConnects:
			var err error
			m.Connects, err = p.connects()
			return err
		}
		return p.skip()
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeConferenceModified parses the raw XML of a <conference-modified/> response element.
func DecodeConferenceModified(payload []byte) (*ConferenceModified, error) {
	p := newParser(payload)
	_, err := p.root(func(n xml.Name) bool { return n == elConferenceModified }, "{jitsi:colibri2}conference-modified")
	if err != nil {
		return nil, err
	}
	m := &ConferenceModified{}
	err = p.children(func(c xml.StartElement) error {
		switch c.Name {
		case elEndpoint:
			ep, err := p.endpoint(c)
			m.Endpoints = append(m.Endpoints, ep)
			return err
		case elRelay:
			r, err := p.relay(c)
			m.Relays = append(m.Relays, r)
			return err
		case elSources:
			var err error
			m.Sources, err = p.sources()
			return err
		}
		return p.skip()
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// endpoint parses <endpoint/>; singleton children (transport, sources, force-mute,
// initial-last-n) keep the last occurrence, like Smack's builders.
func (p *parser) endpoint(se xml.StartElement) (Endpoint, error) {
	if p.nEndpoints++; p.nEndpoints > maxEndpoints {
		return Endpoint{}, malformed("more than %d endpoints", maxEndpoints)
	}
	a := attrsOf(se)
	ep := Endpoint{
		ID:      a.required("id"),
		Create:  a.boolean("create", false),
		Expire:  a.boolean("expire", false),
		StatsID: a.str("stats-id"),
		MucRole: a.enum("muc-role", "moderator", "participant", "visitor", "none"),
		Diarize: a.boolean("diarize", false),
	}
	if a.err != nil {
		return ep, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		var err error
		switch c.Name {
		case elMedia:
			var m Media
			m, err = p.media(c)
			ep.Media = append(ep.Media, m)
		case elTransport:
			ep.Transport, err = p.transport(c)
		case elSources:
			ep.Sources, err = p.sources()
		case elForceMute:
			ep.ForceMute, err = p.forceMute(c)
		case elCapability:
			ca := attrsOf(c)
			ep.Capabilities = append(ep.Capabilities, ca.required("name"))
			err = firstErr(ca.err, p.skip())
		case elInitialLastN:
			ca := attrsOf(c)
			n := int(ca.requiredInt("value", minInt32, maxInt32))
			ep.InitialLastN = &n
			err = firstErr(ca.err, p.skip())
		default:
			err = p.skip()
		}
		return err
	})
	if err != nil {
		return ep, fmt.Errorf("endpoint %q: %w", ep.ID, err)
	}
	return ep, nil
}

func (p *parser) forceMute(se xml.StartElement) (*ForceMute, error) {
	a := attrsOf(se)
	fm := &ForceMute{Audio: a.boolean("audio", false), Video: a.boolean("video", false)}
	return fm, firstErr(a.err, p.skip())
}

func (p *parser) relay(se xml.StartElement) (Relay, error) {
	a := attrsOf(se)
	r := Relay{
		ID:     a.required("id"),
		Create: a.boolean("create", false),
		Expire: a.boolean("expire", false),
		MeshID: a.str("mesh-id"),
	}
	if a.err != nil {
		return r, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		var err error
		switch c.Name {
		case elMedia:
			var m Media
			m, err = p.media(c)
			r.Media = append(r.Media, m)
		case elTransport:
			r.Transport, err = p.transport(c)
		case elSources:
			r.Sources, err = p.sources()
		case elEndpoints:
			r.Endpoints, err = p.relayEndpoints()
		default:
			err = p.skip()
		}
		return err
	})
	if err != nil {
		return r, fmt.Errorf("relay %q: %w", r.ID, err)
	}
	return r, nil
}

func (p *parser) relayEndpoints() (*RelayEndpoints, error) {
	re := &RelayEndpoints{}
	err := p.children(func(c xml.StartElement) error {
		if c.Name != elEndpoint {
			return p.skip()
		}
		ep, err := p.endpoint(c)
		re.Endpoints = append(re.Endpoints, ep)
		return err
	})
	return re, err
}

// connects parses <connects/> (signaling.md §3.8). This bridge ignores media export, so the
// values are only checked for well-formedness and kept for round-trips.
func (p *parser) connects() (*Connects, error) {
	cs := &Connects{}
	err := p.children(func(c xml.StartElement) error {
		if c.Name != elConnect {
			return p.skip()
		}
		cn, err := p.connect(c)
		cs.Connects = append(cs.Connects, cn)
		return err
	})
	return cs, err
}

func (p *parser) connect(se xml.StartElement) (Connect, error) {
	a := attrsOf(se)
	cn := Connect{
		URL:      a.str("url"),
		Protocol: a.str("protocol"),
		Type:     a.str("type"),
		Audio:    a.boolean("audio", false),
		Video:    a.boolean("video", false),
		ID:       a.str("id"),
		Create:   a.boolean("create", false),
		Expire:   a.boolean("expire", false),
	}
	if a.err != nil {
		return cn, a.err
	}
	err := p.children(func(c xml.StartElement) error {
		ca := attrsOf(c)
		var err error
		switch c.Name {
		case elHTTPHeader:
			cn.HTTPHeaders = append(cn.HTTPHeaders, HTTPHeader{Name: ca.str("name"), Value: ca.str("value")})
			err = p.skip()
		case elPing:
			cn.Ping = &ConnectPing{Interval: ca.str("interval"), Timeout: ca.str("timeout")}
			err = p.skip()
		case elExports:
			cn.Exports, err = p.names(elExport, cn.Exports)
		case elRequests:
			cn.Requests, err = p.names(elRequest, cn.Requests)
		default:
			err = p.skip()
		}
		return err
	})
	return cn, err
}

// names appends the name attribute of every child element called el.
func (p *parser) names(el xml.Name, dst []string) ([]string, error) {
	err := p.children(func(c xml.StartElement) error {
		if c.Name == el {
			ca := attrsOf(c)
			dst = append(dst, ca.str("name"))
		}
		return p.skip()
	})
	return dst, err
}

// DecodeError parses an XMPP <error type='…'> element (in any namespace, usually
// jabber:client) with its stanza condition, optional <text/>, and the colibri2 extensions
// <error xmlns='jitsi:colibri2' reason/> and <endpoint xmlns='jitsi:colibri2' id/> (§3.13).
// A colibri2 <error/> without reason means ReasonUnspecified, as in Jitsi's parser.
func DecodeError(errorElem []byte) (*Error, error) {
	p := newParser(errorElem)
	se, err := p.root(func(n xml.Name) bool { return n.Local == "error" && n.Space != NS }, "an XMPP <error/>")
	if err != nil {
		return nil, err
	}
	a := attrsOf(se)
	e := &Error{Type: a.str("type")}
	err = p.children(func(c xml.StartElement) error {
		var err error
		switch {
		case c.Name == elStanzaText:
			e.Text, err = p.text()
		case c.Name.Space == NSStanzas && isConditionName(c.Name.Local):
			e.Condition = c.Name.Local
			err = p.skip()
		case c.Name == elColibri2Error:
			ca := attrsOf(c)
			e.Reason = parseReason(&ca)
			err = firstErr(ca.err, p.skip())
		case c.Name == elEndpoint:
			ca := attrsOf(c)
			e.EndpointID = ca.required("id")
			err = firstErr(ca.err, p.skip())
		default:
			err = p.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if e.Condition == "" {
		return nil, malformed("<error>: no stanza error condition")
	}
	return e, nil
}

// parseReason follows Jitsi's Colibri2Error parser: case-insensitive enum names with
// underscores; a missing reason is "unspecified".
func parseReason(a *attrs) Reason {
	v, ok := a.get("reason")
	if !ok {
		return ReasonUnspecified
	}
	r := Reason(strings.ToLower(v))
	switch r {
	case ReasonConferenceNotFound, ReasonConferenceAlreadyExists, ReasonFeatureNotImplemented,
		ReasonGracefulShutdown, ReasonUnknownEndpoint, ReasonUnspecified:
		return r
	}
	a.fail("attribute \"reason\": %q is not a colibri2 error reason", v)
	return ReasonUnspecified
}

// isConditionName reports whether s has the shape of an RFC 6120 defined condition
// (lower-case letters and hyphens), so it can be written back as an element name.
func isConditionName(s string) bool {
	if s == "" || s == "text" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
