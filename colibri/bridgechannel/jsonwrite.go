package bridgechannel

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Small append-style JSON writers. encoding/json would do, but messages such as
// ForwardedSources and SenderSourceConstraints go to every endpoint on every allocation
// change, and writing them by hand keeps the field order JVB uses (colibriClass first).

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Control characters are escaped and invalid UTF-8
// becomes U+FFFD, so the output is always valid JSON and valid UTF-8. U+2028 and U+2029 are
// escaped too, which keeps the text safe for JavaScript consumers that eval it.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendStrings writes a JSON array of strings; nil and empty both give [].
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendFloat writes a double the way Jackson does for whole numbers ("-1.0", "30.0"), which is
// what JVB puts on the wire for maxFrameRate. JSON has no NaN or infinity: those become -1.0,
// "no constraint".
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = NoFrameRateConstraint
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			return dst
		}
	}
	return append(dst, '.', '0')
}

// appendBool writes true or false.
func appendBool(dst []byte, b bool) []byte {
	return strconv.AppendBool(dst, b)
}

// writer builds one JSON object member by member.
type writer struct {
	b []byte
}

// begin opens the object with its colibriClass, which JVB always writes first.
func begin(dst []byte, class string) writer {
	w := writer{b: append(dst, `{"colibriClass":`...)}
	w.b = appendString(w.b, class)
	return w
}

func (w *writer) key(k string) {
	w.b = append(w.b, ',', '"')
	w.b = append(w.b, k...) // keys are ASCII identifiers, never escaped
	w.b = append(w.b, '"', ':')
}

func (w *writer) str(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

// optStr writes the member only when v is not empty (Jackson's NON_NULL for nullable strings).
func (w *writer) optStr(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *writer) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *writer) uint(k string, v uint64) {
	w.key(k)
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *writer) bool(k string, v bool) {
	w.key(k)
	w.b = appendBool(w.b, v)
}

func (w *writer) strings(k string, v []string) {
	w.key(k)
	w.b = appendStrings(w.b, v)
}

func (w *writer) constraints(k string, c VideoConstraints) {
	w.key(k)
	w.b = appendConstraints(w.b, c)
}

func (w *writer) end() []byte {
	return append(w.b, '}')
}

// appendConstraints writes {"maxHeight":h,"maxFrameRate":f}, both always, as JVB does.
func appendConstraints(dst []byte, c VideoConstraints) []byte {
	dst = append(dst, `{"maxHeight":`...)
	dst = strconv.AppendInt(dst, int64(c.MaxHeight), 10)
	dst = append(dst, `,"maxFrameRate":`...)
	dst = appendFloat(dst, c.MaxFrameRate)
	return append(dst, '}')
}
