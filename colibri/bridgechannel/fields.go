package bridgechannel

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// object is a decoded JSON object whose member values are still raw. Keys are exact (JVB's
// mapper is case-sensitive for property names); with duplicate keys the last one wins.
//
// Every getter reports ok=false for an absent member, a JSON null (Jackson maps null to
// "absent" for JVB's nullable fields) or a value it cannot make sense of. Callers treat
// ok=false as "field absent": one bad optional field never drops the whole message.
type object map[string]json.RawMessage

func (o object) raw(key string) (json.RawMessage, bool) {
	v, ok := o[key]
	if !ok || len(v) == 0 || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// str accepts only JSON strings.
func (o object) str(key string) (string, bool) {
	v, ok := o.raw(key)
	if !ok || v[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// integer accepts an integral JSON number (5, 5.0, 5e0) or a string holding one ("5"), within
// [lo, hi]. Anything else, including out-of-range values, is absent.
func (o object) integer(key string, lo, hi int64) (int64, bool) {
	v, ok := o.raw(key)
	if !ok {
		return 0, false
	}
	text := string(v)
	if v[0] == '"' {
		if json.Unmarshal(v, &text) != nil {
			return 0, false
		}
		text = strings.TrimSpace(text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != math.Trunc(f) || f < -1<<63 || f >= 1<<63 {
			return 0, false
		}
		n = int64(f)
	}
	if n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// int32 is integer over Java's Int range, the type JVB uses for lastN and heights.
func (o object) int32(key string) (int, bool) {
	n, ok := o.integer(key, math.MinInt32, math.MaxInt32)
	return int(n), ok
}

// float accepts a finite JSON number or a string holding one.
func (o object) float(key string) (float64, bool) {
	v, ok := o.raw(key)
	if !ok {
		return 0, false
	}
	text := string(v)
	if v[0] == '"' {
		if json.Unmarshal(v, &text) != nil {
			return 0, false
		}
		text = strings.TrimSpace(text)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// boolean accepts true/false or the strings "true"/"false" in any case (JVB itself writes
// EndpointConnectivityStatusChangeEvent.active as a string).
func (o object) boolean(key string) (bool, bool) {
	v, ok := o.raw(key)
	if !ok {
		return false, false
	}
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// strings accepts an array; non-string elements are skipped. An empty array gives a nil slice
// with ok=true (callers that care about "present but empty" look at ok).
func (o object) strings(key string) ([]string, bool) {
	v, ok := o.raw(key)
	if !ok || v[0] != '[' {
		return nil, false
	}
	var elems []json.RawMessage
	if json.Unmarshal(v, &elems) != nil {
		return nil, false
	}
	var out []string
	for _, e := range elems {
		var s string
		if len(e) > 0 && e[0] == '"' && json.Unmarshal(e, &s) == nil {
			out = append(out, s)
		}
	}
	return out, true
}

// object returns a nested object member.
func (o object) object(key string) (object, bool) {
	v, ok := o.raw(key)
	if !ok || v[0] != '{' {
		return nil, false
	}
	var m object
	if json.Unmarshal(v, &m) != nil {
		return nil, false
	}
	return m, true
}

// objects returns the object elements of an array member; other elements are skipped.
func (o object) objects(key string) ([]object, bool) {
	v, ok := o.raw(key)
	if !ok || v[0] != '[' {
		return nil, false
	}
	var elems []json.RawMessage
	if json.Unmarshal(v, &elems) != nil {
		return nil, false
	}
	out := make([]object, 0, len(elems))
	for _, e := range elems {
		var m object
		if len(e) > 0 && e[0] == '{' && json.Unmarshal(e, &m) == nil {
			out = append(out, m)
		}
	}
	return out, true
}

// videoType parses a video type in any case (JVB: ACCEPT_CASE_INSENSITIVE_ENUMS). Unknown
// values are absent.
func (o object) videoType(key string) (VideoType, bool) {
	s, ok := o.str(key)
	if !ok {
		return "", false
	}
	return ParseVideoType(s)
}

// ParseVideoType maps a video type name in any case to its canonical uppercase form.
func ParseVideoType(s string) (VideoType, bool) {
	switch t := VideoType(strings.ToUpper(strings.TrimSpace(s))); t {
	case VideoTypeCamera, VideoTypeDesktop, VideoTypeDesktopHighFPS, VideoTypeNone, VideoTypeDisabled:
		return t, true
	}
	return "", false
}

// videoConstraints reads {maxHeight, maxFrameRate}; see VideoConstraints for the defaults.
func videoConstraints(o object) VideoConstraints {
	c := VideoConstraints{MaxFrameRate: NoFrameRateConstraint}
	if h, ok := o.int32("maxHeight"); ok {
		c.MaxHeight = h
	}
	if f, ok := o.float("maxFrameRate"); ok {
		c.MaxFrameRate = f
	}
	return c
}
