package api

import (
	"math"
	"testing"
	"time"
)

type level int32

type named struct{ A int }

func TestAppendStatsJSON(t *testing.T) {
	tests := []struct {
		name  string
		stats []Stat
		want  string
	}{
		{"empty", nil, `{}`},
		{"ints", []Stat{{"a", int64(-3)}, {"b", 7}, {"c", uint64(1 << 63)}}, `{"a":-3,"b":7,"c":9223372036854775808}`},
		{"floats java style", []Stat{{"z", 0.0}, {"one", 1.0}, {"f", 0.0412}, {"neg", -2.5}},
			`{"z":0.0,"one":1.0,"f":0.0412,"neg":-2.5}`},
		{"float extremes", []Stat{{"tiny", 1e-9}, {"huge", 1e22}, {"big", 123456789012.0}},
			`{"tiny":1e-09,"huge":1e+22,"big":123456789012.0}`},
		{"non-finite as Jackson strings", []Stat{{"n", math.NaN()}, {"p", math.Inf(1)}, {"m", math.Inf(-1)}},
			`{"n":"NaN","p":"Infinity","m":"-Infinity"}`},
		{"float32", []Stat{{"f", float32(0.5)}}, `{"f":0.5}`},
		{"bools and strings", []Stat{{"drain", false}, {"healthy", true}, {"version", "2.3.0-g1"}},
			`{"drain":false,"healthy":true,"version":"2.3.0-g1"}`},
		{"escaping", []Stat{{"k\"ey", "a\nb<>&\x01"}}, `{"k\"ey":"a\nb\u003c\u003e\u0026\u0001"}`},
		{"named numeric kinds stay numbers", []Stat{{"d", time.Duration(1500)}, {"l", level(3)}}, `{"d":1500,"l":3}`},
		{"other types via fmt", []Stat{{"s", named{4}}}, `{"s":"{4}"}`},
		{"nil omitted, order kept", []Stat{{"b", 1}, {"x", nil}, {"a", 2}}, `{"b":1,"a":2}`},
		{"duplicates kept", []Stat{{"a", 1}, {"a", 2}}, `{"a":1,"a":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendStatsJSON(nil, tt.stats)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
