package colibri2

import (
	"strconv"
	"unicode/utf8"
)

// Hand-written XML appends: single-quoted attributes like Smack, no reflection.
//
// Usage: b = openElem(b, name, ns); attributes; b = append(b, '>'); mark := len(b);
// children; b = closeElem(b, mark, name). closeElem turns an element without children into
// the self-closing form.

func openElem(b []byte, name, ns string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	if ns != "" {
		b = appendAttr(b, "xmlns", ns)
	}
	return b
}

func closeElem(b []byte, mark int, name string) []byte {
	if len(b) == mark {
		return append(b[:mark-1], "/>"...)
	}
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	b = appendEscaped(b, value, true)
	return append(b, '\'')
}

// appendAttrIf writes the attribute only when value is not empty.
func appendAttrIf(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendAttr(b, name, value)
}

// appendTrue writes name='true' when v is set: colibri2 omits boolean attributes at their
// false default (pitfall 9).
func appendTrue(b []byte, name string, v bool) []byte {
	if !v {
		return b
	}
	return appendAttr(b, name, "true")
}

func appendInt(b []byte, name string, v int64) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	b = strconv.AppendInt(b, v, 10)
	return append(b, '\'')
}

func appendIntIf(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	return appendInt(b, name, v)
}

// appendEscaped escapes s for an attribute value (attr) or character data. Tab, newline and
// carriage return are written as character references in attributes so that attribute-value
// normalisation cannot change them; CR is escaped in text too because parsers fold CR/CRLF to
// LF. Invalid UTF-8 and characters outside the XML Char production become U+FFFD: one bad byte
// from a client must not produce a stanza that makes the XMPP server close the stream.
func appendEscaped(b []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && size == 1) || !isXMLChar(r) {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
		switch {
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '<':
			b = append(b, "&lt;"...)
		case c == '>':
			b = append(b, "&gt;"...)
		case c == '\r':
			b = append(b, "&#xD;"...)
		case attr && c == '\'':
			b = append(b, "&apos;"...)
		case attr && c == '"':
			b = append(b, "&quot;"...)
		case attr && c == '\t':
			b = append(b, "&#x9;"...)
		case attr && c == '\n':
			b = append(b, "&#xA;"...)
		case c < 0x20 && c != '\t' && c != '\n':
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// isXMLChar implements the Char production of XML 1.0 §2.2.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}
