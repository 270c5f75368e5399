package bench

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"7318 (cat) R 7274 7274 25528 0 -1 4194304 124 0 0 0 250 75 0 0 20 0 1 0 309653 3133440 417", 3.25, true},
		{"42 (a b) c)) S 1 1 1 0 -1 0 0 0 0 0 100 100 0 0 20 0 1 0 1 1 1", 2, true},
		{"42 (videobridge) S 1", 0, false},
		{"no parenthesis", 0, false},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 1 0", 0, false},
	} {
		got, err := parseProcStat([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: got %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	if self := selfCPU(); self < 0 {
		t.Error("selfCPU unknown on Linux")
	}
	s, err := ProcProbe{PID: os.Getpid()}.Sample(context.Background())
	if err != nil || s.CPUSeconds < 0 || s.RSS <= 0 {
		t.Errorf("proc probe of ourselves: %+v %v", s, err)
	}
}

const metricsText = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 106
go_memstats_heap_inuse_bytes 1.9e+07
process_cpu_seconds_total 12.5
process_resident_memory_bytes 3.6e+07
jitsi_jvb_packets_sent_total 1000 1700000000000
jitsi_jvb_packets_dropped_total{stage="egress",reason="queue_full"} 3
jitsi_jvb_packets_dropped_total{stage="ingress",reason="srtp"} 4
broken_line{ 5
nan_metric NaN
`

func TestParseMetrics(t *testing.T) {
	got, err := ParseMetrics(strings.NewReader(metricsText))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 106, "go_memstats_heap_inuse_bytes": 1.9e7, "process_cpu_seconds_total": 12.5,
		"process_resident_memory_bytes": 3.6e7, "jitsi_jvb_packets_sent_total": 1000, "jitsi_jvb_packets_dropped_total": 7,
		`jitsi_jvb_packets_dropped_total{stage="egress",reason="queue_full"}`: 3,
		`jitsi_jvb_packets_dropped_total{stage="ingress",reason="srtp"}`:      4}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(metricsText)) }))
	defer srv.Close()
	s, err := MetricsProbe{URL: srv.URL}.Sample(context.Background())
	s.At = s.At.Truncate(0)
	if err != nil || s.CPUSeconds != 12.5 || s.RSS != 3.6e7 || s.Heap != 1.9e7 || s.Goroutines != 106 || s.PacketsOut != 1000 || s.Dropped != 7 {
		t.Errorf("metrics probe: %+v %v", s, err)
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add(metricsText)
	f.Add("a{b=\"}\"} 1\n")
	f.Add("x 1 2 3\n# c\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, _ := ParseMetrics(strings.NewReader(in))
		for k, v := range m {
			if k == "" || math.IsNaN(v) {
				t.Fatalf("entry %q = %v", k, v)
			}
		}
	})
}

func TestParseStatCPU(t *testing.T) {
	busy, soft, err := parseStatCPU([]byte("cpu  409093 3915 77668 336257 4256 10 3233 981 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || busy != float64(409093+3915+77668+10+981)/100 || soft != 32.33 {
		t.Errorf("got %v %v %v", busy, soft, err)
	}
	for _, bad := range []string{"", "cpu 1 2", "intr 1 2 3 4 5 6 7 8 9", "cpu a b c d e f g h"} {
		if _, _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if b, s := machineCPU(); b <= 0 || s < 0 {
		t.Error("machineCPU on Linux")
	}
}

const procNetUDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 1249: 0100007F:E305 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 242269 2 00000000b06809eb 17
 8223: 0100007F:BE43 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 242280 2 0000000033492b5c 0
 8224: 0100007F:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 242281 2 0000000033492b5d 5
 garbage line
`

func TestParseUDPDrops(t *testing.T) {
	if got := parseUDPDrops([]byte(procNetUDP), map[uint16]bool{0xE305: true, 10000: true}); got != 22 {
		t.Errorf("drops %d, want 22", got)
	}
	if got := parseUDPDrops([]byte(procNetUDP), map[uint16]bool{0xBE43: true}); got != 0 {
		t.Errorf("drops %d, want 0", got)
	}
}

func FuzzParseUDPDrops(f *testing.F) {
	f.Add(procNetUDP)
	f.Add("header\n 1: 0:0 0 0 0 0 0 0 0 0 0 0 x\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = parseUDPDrops([]byte(in), map[uint16]bool{0xE305: true, 10000: true})
	})
}
