package api

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// AppendStatsJSON appends stats as one flat JSON object, keys in slice order.
// Numbers become JSON numbers, bools JSON booleans, everything else a JSON
// string, as JVB's VideobridgeStatisticsShim.getStatsJson does. Nil values are
// omitted (JVB never emits a null stat). Duplicate names are written as given.
func AppendStatsJSON(dst []byte, stats []Stat) []byte {
	dst = append(dst, '{')
	first := true
	for _, s := range stats {
		if s.Value == nil {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, s.Name)
		dst = append(dst, ':')
		dst = appendStatValue(dst, s.Value)
	}
	return append(dst, '}')
}

// appendStatValue writes one value. The common concrete types are switched on
// directly; named numeric types (time.Duration, custom counters) go through
// reflect so they still come out as numbers.
func appendStatValue(dst []byte, v any) []byte {
	switch t := v.(type) {
	case int64:
		return strconv.AppendInt(dst, t, 10)
	case int:
		return strconv.AppendInt(dst, int64(t), 10)
	case uint64:
		return strconv.AppendUint(dst, t, 10)
	case float64:
		return appendJavaDouble(dst, t, 64)
	case bool:
		return strconv.AppendBool(dst, t)
	case string:
		return appendJSONString(dst, t)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, rv.Uint(), 10)
	case reflect.Float32:
		return appendJavaDouble(dst, rv.Float(), 32)
	case reflect.Float64:
		return appendJavaDouble(dst, rv.Float(), 64)
	case reflect.Bool:
		return strconv.AppendBool(dst, rv.Bool())
	case reflect.String:
		return appendJSONString(dst, rv.String())
	}
	// Anything else (structs, Stringers): its text form, like Java's toString().
	return appendJSONString(dst, fmt.Sprint(v))
}

// appendJavaDouble formats a float the way Jackson writes a Java double:
// integral values keep a ".0" (stress_level 0 is "0.0"), so clients that
// decode by JSON token type see a float, and NaN/±Infinity — not valid JSON
// numbers — become the quoted strings Jackson's QUOTE_NON_NUMERIC_NUMBERS
// default produces.
func appendJavaDouble(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	// Same thresholds as encoding/json: exponent form for very small or very
	// large magnitudes, plain decimal otherwise.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'f' {
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		dst = append(dst, '.', '0')
	}
	return dst
}

// appendJSONString appends s as a JSON string. encoding/json handles invalid
// UTF-8 (replaced with U+FFFD) and control characters; marshaling a string
// cannot fail.
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
