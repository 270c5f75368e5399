package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// BridgeSample is what a probe reads from the bridge. Cumulative counters and gauges are -1
// when the probe cannot know them.
type BridgeSample struct {
	At         time.Time
	CPUSeconds float64 // user + system, cumulative
	RSS        float64 // bytes
	Heap       float64 // Go heap in use (or the JVM heap), bytes
	Goroutines float64 // goroutines (or JVM threads)
	PacketsOut float64 // RTP packets sent, cumulative (the bridge's own count)
	Dropped    float64 // packets the bridge dropped by its own count (all stages), cumulative
}

func unknownSample() BridgeSample {
	return BridgeSample{At: time.Now(), CPUSeconds: -1, RSS: -1, Heap: -1, Goroutines: -1, PacketsOut: -1, Dropped: -1}
}

// Probe reads the bridge's resource use.
type Probe interface {
	Sample(ctx context.Context) (BridgeSample, error)
}

// ProcProbe reads a local process from /proc: CPU from stat (utime + stime), RSS from status.
type ProcProbe struct{ PID int }

// clockTicks is Linux's USER_HZ, fixed at 100 by its ABI for /proc/<pid>/stat.
const clockTicks = 100

// Sample implements Probe.
func (p ProcProbe) Sample(context.Context) (BridgeSample, error) {
	s := unknownSample()
	cpu, err := procCPU(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return s, err
	}
	s.CPUSeconds = cpu
	if rss, err := procRSS(fmt.Sprintf("/proc/%d/status", p.PID)); err == nil {
		s.RSS = rss
	}
	return s, nil
}

// procCPU reads utime + stime (fields 14 and 15 of stat; the command name in field 2 may hold
// spaces and parentheses, so parsing starts after its last ')').
func procCPU(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}

var errProcStat = errors.New("bench: malformed /proc stat")

func parseProcStat(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errProcStat
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
	if len(f) < 13 {
		return 0, errProcStat
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errProcStat
	}
	return float64(ut+st) / clockTicks, nil
}

func procRSS(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb * 1024, nil
				}
			}
		}
	}
	return 0, errProcStat
}

// MetricsProbe reads a bridge's Prometheus /metrics: ours (Go and process collectors plus
// JVB's jitsi_jvb_* names) or JVB's (jitsi_jvb_* and, when exported, JVM metrics).
type MetricsProbe struct {
	URL    string
	Client *http.Client
}

// Sample implements Probe.
func (m MetricsProbe) Sample(ctx context.Context) (BridgeSample, error) {
	s := unknownSample()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return s, err
	}
	c := m.Client
	if c == nil {
		c = &http.Client{Timeout: 3 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return s, fmt.Errorf("bench: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("bench: metrics: %s", resp.Status)
	}
	vals, err := ParseMetrics(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return s, err
	}
	pick := func(names ...string) float64 {
		for _, n := range names {
			if v, ok := vals[n]; ok {
				return v
			}
		}
		return -1
	}
	s.CPUSeconds = pick("process_cpu_seconds_total")
	s.RSS = pick("process_resident_memory_bytes")
	s.Heap = pick("go_memstats_heap_inuse_bytes", `jvm_memory_bytes_used{area="heap"}`, "jvm_memory_used_bytes")
	s.Goroutines = pick("go_goroutines", "jitsi_jvb_thread_count", "jvm_threads_current")
	s.PacketsOut = pick("jitsi_jvb_packets_sent_total", "jitsi_jvb_packets_sent")
	s.Dropped = pick("jitsi_jvb_packets_dropped_total")
	return s, nil
}

// ParseMetrics reads the Prometheus text exposition format (version 0.0.4): for each metric
// name the sum over its label sets, and additionally each full "name{labels}" series. Comments,
// NaN and malformed lines are skipped; timestamps are ignored.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, series, v, ok := parseMetricLine(sc.Text())
		if !ok {
			continue
		}
		out[name] += v
		if series != name {
			out[series] = v
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("bench: metrics: %w", err)
	}
	return out, nil
}

func parseMetricLine(line string) (name, series string, v float64, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", 0, false
	}
	end := strings.IndexAny(line, "{ \t")
	if end <= 0 {
		return "", "", 0, false
	}
	name = line[:end]
	rest := line[end:]
	series = name
	if rest[0] == '{' {
		close := strings.LastIndexByte(rest, '}')
		if close < 0 {
			return "", "", 0, false
		}
		series = name + rest[:close+1]
		rest = rest[close+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || math.IsNaN(v) {
		return "", "", 0, false
	}
	return name, series, v, true
}

// combinedProbe takes CPU and RSS from /proc when available and the rest from /metrics.
type combinedProbe struct {
	proc    *ProcProbe
	metrics *MetricsProbe
}

func (c combinedProbe) Sample(ctx context.Context) (BridgeSample, error) {
	s := unknownSample()
	var errs []error
	if c.metrics != nil {
		m, err := c.metrics.Sample(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			s = m
		}
	}
	if c.proc != nil {
		p, err := c.proc.Sample(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.CPUSeconds = p.CPUSeconds
			if p.RSS >= 0 {
				s.RSS = p.RSS
			}
		}
	}
	s.At = time.Now()
	if len(errs) > 0 && s.CPUSeconds < 0 && s.RSS < 0 {
		return s, errors.Join(errs...)
	}
	return s, nil
}

// selfCPU is the harness's own CPU time.
func selfCPU() float64 {
	v, err := procCPU("/proc/self/stat")
	if err != nil {
		return -1
	}
	return v
}

// machineCPU is the CPU time of the whole machine from /proc/stat, in seconds: busy is user,
// nice, system, irq and steal of all CPUs; softirq is kept apart because with IRQ time
// accounting the kernel's packet processing (loopback included) is charged there and not to
// the processes that caused it. Both are -1 when unreadable.
func machineCPU() (busy, softirq float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1, -1
	}
	busy, softirq, err = parseStatCPU(b)
	if err != nil {
		return -1, -1
	}
	return busy, softirq
}

func parseStatCPU(b []byte) (busy, softirq float64, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, errProcStat
	}
	var v [9]uint64
	for i := 1; i <= 8; i++ { // user nice system idle iowait irq softirq steal
		if v[i], err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return 0, 0, errProcStat
		}
	}
	return float64(v[1]+v[2]+v[3]+v[6]+v[8]) / clockTicks, float64(v[7]) / clockTicks, nil
}

// udpDrops sums the kernel's receive drop counters (udp and udp6 in dir, last column) of the
// sockets bound to the given local ports: a socket whose receive buffer overflowed lost those
// datagrams before any process saw them. dir is /proc/net for this process's network
// namespace, /proc/<pid>/net for another process's (the bridge's, in the veth network).
func udpDrops(dir string, ports map[uint16]bool) uint64 {
	var total uint64
	for _, f := range []string{dir + "/udp", dir + "/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		total += parseUDPDrops(b, ports)
	}
	return total
}

// parseUDPDrops reads the table format of /proc/net/udp: a header line, then per socket
// "sl local_address(hex addr:hex port) ... drops".
func parseUDPDrops(b []byte, ports map[uint16]bool) uint64 {
	var total uint64
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 13 {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || !ports[uint16(port)] {
			continue
		}
		if d, err := strconv.ParseUint(f[len(f)-1], 10, 64); err == nil {
			total += d
		}
	}
	return total
}
