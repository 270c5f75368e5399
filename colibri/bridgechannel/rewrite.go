package bridgechannel

import (
	"encoding/json"
	"fmt"
)

// RewriteFrom returns a copy of the JSON object raw with its top-level `from` member set to
// from, every other byte kept as it was. JVB overwrites `from` on every EndpointMessage and
// EndpointStats it forwards so that no endpoint can speak for another (media.md §1.3).
//
// Every top-level member whose unescaped name is "from" is rewritten, so duplicates or an
// escaped spelling such as "fr\u006fm" cannot smuggle a spoofed sender past a receiver's
// JSON.parse (which keeps the last duplicate). When there is no such member, `"from":…` is
// added before the closing brace. raw must be a single JSON object (ErrMalformed otherwise).
func RewriteFrom(raw []byte, from string) ([]byte, error) {
	return AppendRewriteFrom(make([]byte, 0, len(raw)+len(from)+16), raw, from)
}

// AppendRewriteFrom is RewriteFrom appending to dst. On error dst is returned unchanged.
func AppendRewriteFrom(dst, raw []byte, from string) ([]byte, error) {
	if !isObject(raw) {
		return dst, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	s := scanner{b: raw}
	s.ws()
	s.i++       // '{'
	copied := 0 // raw[:copied] is already in dst
	members := 0
	found := false
	for {
		s.ws()
		if s.b[s.i] == '}' {
			break
		}
		keyStart := s.i
		s.skipString()
		key := raw[keyStart:s.i]
		s.ws()
		s.i++ // ':'
		s.ws()
		valStart := s.i
		s.skipValue()
		members++
		if isFromKey(key) {
			dst = append(dst, raw[copied:valStart]...)
			dst = appendString(dst, from)
			copied = s.i
			found = true
		}
		s.ws()
		if s.b[s.i] == ',' {
			s.i++
		}
	}
	closing := s.i
	dst = append(dst, raw[copied:closing]...)
	if !found {
		if members > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"from":`...)
		dst = appendString(dst, from)
	}
	return append(dst, raw[closing:]...), nil
}

// isObject reports whether b is exactly one valid JSON object (surrounding whitespace allowed).
func isObject(b []byte) bool {
	if !json.Valid(b) {
		return false
	}
	s := scanner{b: b}
	s.ws()
	return s.i < len(b) && b[s.i] == '{'
}

// isFromKey compares a quoted member name with "from" after unescaping.
func isFromKey(quoted []byte) bool {
	if string(quoted) == `"from"` {
		return true
	}
	for _, c := range quoted {
		if c == '\\' {
			var k string
			return json.Unmarshal(quoted, &k) == nil && k == "from"
		}
	}
	return false
}

// scanner walks JSON that json.Valid already accepted, so it only needs to find boundaries.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// skipString moves past the string starting at the opening quote at s.i.
func (s *scanner) skipString() {
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
}

// skipValue moves past the value starting at s.i.
func (s *scanner) skipValue() {
	switch s.b[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return
				}
			}
			s.i++
		}
	default: // number, true, false, null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}
