package xmpp

import (
	"unicode/utf8"
)

// Outgoing stanzas are built by appending to byte slices: every attribute value and text node
// goes through appendEscaped, so a stat value or error text can never break the XML.

// appendEscaped appends s escaped for XML character data, or for a single-quoted attribute
// value when attr is true. Characters XML 1.0 forbids (most C0 controls, invalid UTF-8) become
// U+FFFD; in attributes tab, CR and LF become character references so that attribute-value
// normalization does not turn them into spaces.
func appendEscaped(b []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '\'' && attr:
			b = append(b, "&apos;"...)
		case r == '"' && attr:
			b = append(b, "&quot;"...)
		case r == '\t' && attr:
			b = append(b, "&#x9;"...)
		case r == '\n' && attr:
			b = append(b, "&#xA;"...)
		case r == '\r':
			b = append(b, "&#xD;"...) // also in text: a literal CR would be normalized to LF
		case r == utf8.RuneError && size == 1, !isXMLChar(r):
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, s[i-size:i]...)
		}
	}
	return b
}

// isXMLChar reports whether r is allowed by the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// appendAttr appends ` name='value'`.
func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	b = appendEscaped(b, value, true)
	return append(b, '\'')
}

// appendAttrIf appends the attribute only when value is not empty.
func appendAttrIf(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendAttr(b, name, value)
}

// appendStats appends <stats xmlns='http://jitsi.org/protocol/colibri'> with one
// <stat name value/> per stat, the ColibriStatsExtension layout Jicofo's BaseBrewery parses
// (signaling.md §1.3). Stats without a name are omitted, as JVB omits null ones.
func appendStats(b []byte, stats []Stat) []byte {
	b = append(b, "<stats xmlns='"+nsColibri+"'>"...)
	for _, s := range stats {
		if s.Name == "" {
			continue
		}
		b = append(b, "<stat"...)
		b = appendAttr(b, "name", s.Name)
		b = appendAttr(b, "value", s.Value)
		b = append(b, "/>"...)
	}
	return append(b, "</stats>"...)
}

// appendPresence appends the MUC presence to room/nick carrying the stats. join adds the
// XEP-0045 <x xmlns='…muc'/> element: only the joining presence has it, because JVB strips it
// from later updates (re-sending it makes the MUC think the client lost sync).
func appendPresence(b []byte, occupant string, join bool, stats []Stat) []byte {
	b = append(b, "<presence"...)
	b = appendAttr(b, "to", occupant)
	b = append(b, '>')
	if join {
		b = append(b, "<x xmlns='"+nsMUC+"'/>"...)
	}
	b = appendStats(b, stats)
	return append(b, "</presence>"...)
}

// appendUnavailable appends the presence that leaves a room.
func appendUnavailable(b []byte, occupant string) []byte {
	b = append(b, "<presence"...)
	b = appendAttr(b, "to", occupant)
	b = appendAttr(b, "type", "unavailable")
	return append(b, "/>"...)
}

// appendReplyStart appends <iq type=typ id=req.ID to=req.From from=req.To: a response goes
// back to the sender (through the MUC, which maps its rewritten id back) and names the address
// the request was sent to, as JVB does.
func appendReplyStart(b []byte, req *stanza, typ string) []byte {
	b = append(b, "<iq"...)
	b = appendAttr(b, "type", typ)
	b = appendAttr(b, "id", req.ID)
	b = appendAttrIf(b, "to", req.From)
	return appendAttrIf(b, "from", req.To)
}

// appendIQResult appends the result IQ for req with the given child XML (may be empty).
func appendIQResult(b []byte, req *stanza, payload []byte) []byte {
	b = appendReplyStart(b, req, "result")
	if len(payload) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = append(b, payload...)
	return append(b, "</iq>"...)
}

// appendIQError appends the error IQ for req: <error type=errType> around inner, which holds
// the condition element, optional <text/> and application extensions (RFC 6120 §8.3.2).
func appendIQError(b []byte, req *stanza, errType string, inner []byte) []byte {
	b = appendReplyStart(b, req, "error")
	b = append(b, "><error"...)
	b = appendAttr(b, "type", errType)
	b = append(b, '>')
	b = append(b, inner...)
	return append(b, "</error></iq>"...)
}

// appendCondition appends a stanza error condition element and, if text is set,
// <text xml:lang='en'>: the inside of <error> for errors that are not colibri2 errors.
func appendCondition(b []byte, condition, text string) []byte {
	b = append(b, '<')
	b = append(b, condition...)
	b = append(b, " xmlns='"+nsStanzas+"'/>"...)
	if text != "" {
		b = append(b, "<text xmlns='"+nsStanzas+"' xml:lang='en'>"...)
		b = appendEscaped(b, text, false)
		b = append(b, "</text>"...)
	}
	return b
}

// appendVersion appends the XEP-0092 answer JVB gives: name JVB, its version, os Linux.
func appendVersion(b []byte, version string) []byte {
	b = append(b, "<query xmlns='"+nsVersion+"'><name>JVB</name><version>"...)
	b = appendEscaped(b, version, false)
	return append(b, "</version><os>Linux</os></query>"...)
}

// appendPing appends a XEP-0199 ping request.
func appendPing(b []byte, id, to string) []byte {
	b = append(b, "<iq type='get'"...)
	b = appendAttr(b, "id", id)
	b = appendAttr(b, "to", to)
	return append(b, "><ping xmlns='"+nsPing+"'/></iq>"...)
}

// appendRoomConfig appends the owner form submission that makes a freshly created brewery room
// non-anonymous (muc#roomconfig_whois=anyone), as jicoco's MucClient does on status 201.
func appendRoomConfig(b []byte, id, room string) []byte {
	b = append(b, "<iq type='set'"...)
	b = appendAttr(b, "id", id)
	b = appendAttr(b, "to", room)
	b = append(b, "><query xmlns='"+nsMUCOwner+"'><x xmlns='"+nsDataForms+"' type='submit'>"+
		"<field var='FORM_TYPE'><value>"+nsRoomConfig+"</value></field>"+
		"<field var='muc#roomconfig_whois'><value>anyone</value></field>"+
		"</x></query></iq>"...)
	return b
}

// streamClose ends our half of the XML stream (RFC 6120 §4.4).
const streamClose = "</stream:stream>"
