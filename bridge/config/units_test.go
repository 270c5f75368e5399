package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"5 seconds", 5 * time.Second, ""},
		{"1 minute", time.Minute, ""},
		{"1 minutes", time.Minute, ""},
		{"15ms", 15 * time.Millisecond, ""},
		{"24 hours", 24 * time.Hour, ""},
		{"90s", 90 * time.Second, ""},
		{"2m", 2 * time.Minute, ""}, // Typesafe Config: m is minutes
		{"1d", 24 * time.Hour, ""},
		{"500 milliseconds", 500 * time.Millisecond, ""},
		{"100 us", 100 * time.Microsecond, ""},
		{"7ns", 7, ""},
		{"1.5 seconds", 1500 * time.Millisecond, ""},
		{"2500", 2500 * time.Millisecond, ""}, // a bare number is milliseconds
		{" 10 ", 10 * time.Millisecond, ""},
		{"0", 0, ""},
		{"-1s", -time.Second, ""}, // range checks belong to the field
		{"PT1M", time.Minute, ""},
		{"pt30s", 30 * time.Second, ""},
		{"PT1H30M", 90 * time.Minute, ""},
		{"PT0.5S", 500 * time.Millisecond, ""},
		{"P1DT1S", 24*time.Hour + time.Second, ""},
		{"P2D", 48 * time.Hour, ""},
		{"", 0, `invalid duration ""`},
		{"seconds", 0, `invalid duration "seconds"`},
		{"5 parsecs", 0, `invalid duration "5 parsecs": unknown unit "parsecs"`},
		{"5 Seconds", 0, `invalid duration "5 Seconds": unknown unit "Seconds"`},
		{"abc", 0, `invalid duration "abc": unknown unit "abc"`},
		{"9999999999999 days", 0, `invalid duration "9999999999999 days"`},
		{"1e300 seconds", 0, `invalid duration "1e300 seconds"`},
		{"PT", 0, `invalid duration "PT"`},
		{"P", 0, `invalid duration "P"`},
		{"PT1M1H", 0, `invalid duration "PT1M1H"`}, // out of order
		{"PT1.5M", 0, `invalid duration "PT1.5M"`}, // only seconds take fractions
		{"PT-1S", 0, `invalid duration "PT-1S"`},
		{"P1H", 0, `invalid duration "P1H"`},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.wantErr {
			t.Errorf("parseDuration(%q) = %v, %q; want %v, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestParseBitrate(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"500 kbps", 500_000, ""},
		{"10 Mbps", 10_000_000, ""},
		{"20 mbps", 20_000_000, ""},
		{"2500kbps", 2_500_000, ""},
		{"1.5 Gbps", 1_500_000_000, ""},
		{"64000", 64_000, ""},
		{"30 bps", 30, ""},
		{"-1 kbps", 0, `invalid bitrate "-1 kbps"`},
		{"5 furlongs", 0, `invalid bitrate "5 furlongs": unknown unit "furlongs"`},
		{"kbps", 0, `invalid bitrate "kbps"`},
	}
	for _, tt := range tests {
		got, err := parseBitrate(tt.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.wantErr {
			t.Errorf("parseBitrate(%q) = %v, %q; want %v, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "yes": true, "on": true, "TRUE": true,
		"false": false, "no": false, "off": false, " False ": false} {
		got, err := parseBool(in)
		if err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "0", "maybe", "t"} {
		if _, err := parseBool(in); err == nil {
			t.Errorf("parseBool(%q) succeeded", in)
		}
	}
}
