package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Conversions of HOCON scalar text to typed values, with the formats Typesafe Config (which
// JVB uses) accepts.

// parseBool accepts true/false/yes/no/on/off, as Typesafe Config's getBoolean does.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

func parseInt(s string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d out of range [%d, %d]", n, lo, hi)
	}
	return n, nil
}

func parseFloat(s string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if f < lo || f > hi {
		return 0, fmt.Errorf("%v out of range [%v, %v]", f, lo, hi)
	}
	return f, nil
}

// durationUnits are Typesafe Config's duration unit names. "m" is minutes.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"us": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// parseDuration reads `5 seconds`, `15ms`, `1.5 minutes`, a bare number (milliseconds, as
// Typesafe Config's getDuration) or an ISO-8601 duration such as `PT1M` (java.time.Duration).
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "P") || strings.HasPrefix(t, "p") {
		d, ok := parseISODuration(t)
		if !ok {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return d, nil
	}
	num, unitName := splitNumberUnit(t)
	unit := time.Millisecond
	if unitName != "" {
		u, ok := durationUnits[unitName]
		if !ok {
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q", s, unitName)
		}
		unit = u
	}
	d, ok := scale(num, unit)
	if !ok {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return time.Duration(d), nil
}

// splitNumberUnit splits "5 seconds" into "5" and "seconds".
func splitNumberUnit(t string) (num, unit string) {
	i := len(t)
	for i > 0 && isLetter(t[i-1]) {
		i--
	}
	return strings.TrimSpace(t[:i]), t[i:]
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// scale multiplies a decimal number by unit, failing on syntax errors and int64 overflow.
func scale(num string, unit time.Duration) (int64, bool) {
	if num == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n > math.MaxInt64/int64(unit) || n < math.MinInt64/int64(unit) {
			return 0, false
		}
		return n * int64(unit), true
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	f *= float64(unit)
	if f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// parseISODuration reads the non-negative subset of java.time.Duration.parse:
// P[nD][T[nH][nM][n[.f]S]], case-insensitive.
func parseISODuration(t string) (time.Duration, bool) {
	datePart, timePart, hasT := strings.Cut(strings.ToUpper(t[1:]), "T")
	if (hasT && timePart == "") || (datePart == "" && timePart == "") {
		return 0, false
	}
	var total int64
	if !addISO(&total, datePart, "D", []time.Duration{24 * time.Hour}) ||
		!addISO(&total, timePart, "HMS", []time.Duration{time.Hour, time.Minute, time.Second}) {
		return 0, false
	}
	return time.Duration(total), true
}

// addISO adds components such as "1H30M" to total; unit letters must appear in the order of
// units, each at most once, and only seconds may have a fraction.
func addISO(total *int64, part, units string, scales []time.Duration) bool {
	next := 0
	for part != "" {
		i := strings.IndexAny(part, units[next:])
		if i <= 0 {
			return false
		}
		k := strings.IndexByte(units, part[i])
		num := part[:i]
		for j := 0; j < len(num); j++ {
			c := num[j]
			if (c < '0' || c > '9') && !((c == '.' || c == ',') && scales[k] == time.Second) {
				return false
			}
		}
		n, ok := scale(strings.Replace(num, ",", ".", 1), scales[k])
		if !ok || n > math.MaxInt64-*total {
			return false
		}
		*total += n
		part, next = part[i+1:], k+1
	}
	return true
}

// bitrateUnits are the units jitsi-utils' Bandwidth.fromString accepts (case-insensitive).
var bitrateUnits = map[string]int64{"bps": 1, "kbps": 1_000, "mbps": 1_000_000, "gbps": 1_000_000_000}

// parseBitrate reads `500 kbps`, `10 Mbps` or a bare number of bits per second.
func parseBitrate(s string) (int64, error) {
	num, unitName := splitNumberUnit(strings.TrimSpace(s))
	unit := int64(1)
	if unitName != "" {
		u, ok := bitrateUnits[strings.ToLower(unitName)]
		if !ok {
			return 0, fmt.Errorf("invalid bitrate %q: unknown unit %q", s, unitName)
		}
		unit = u
	}
	n, ok := scale(num, time.Duration(unit))
	if !ok || n < 0 {
		return 0, fmt.Errorf("invalid bitrate %q", s)
	}
	return n, nil
}
