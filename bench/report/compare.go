package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNoSteady means a result has no steady-state window to compare (the run failed early).
var ErrNoSteady = errors.New("report: result has no steady-state window")

// Metric is one compared figure.
type Metric struct {
	Name   string
	A, B   float64
	Better string // "lower" or "higher"
}

// Ratio is B/A; NaN when either is unknown (negative) or A is zero.
func (m Metric) Ratio() float64 {
	if m.A <= 0 || m.B < 0 {
		return nanValue()
	}
	return m.B / m.A
}

func nanValue() float64 {
	var zero float64
	return zero / zero
}

// CompareMetrics lists the figures the project publishes, from both results' steady state.
func CompareMetrics(a, b *Result) ([]Metric, error) {
	if a.Steady == nil || b.Steady == nil {
		return nil, ErrNoSteady
	}
	sa, sb := a.Steady, b.Steady
	m := []Metric{
		{"participants", float64(sa.Participants), float64(sb.Participants), "higher"},
		{"bridge CPU (cores)", sa.BridgeCPU, sb.BridgeCPU, "lower"},
		{"bridge CPU per forwarded packet (µs)", sa.CPUPerPacketUs, sb.CPUPerPacketUs, "lower"},
		{"forwarded packets/s", sa.OutPPS, sb.OutPPS, "higher"},
		{"forwarded bits/s", sa.OutBPS, sb.OutBPS, "higher"},
		{"latency p50 (ms)", sa.Latency.P50, sb.Latency.P50, "lower"},
		{"latency p99 (ms)", sa.Latency.P99, sb.Latency.P99, "lower"},
		{"latency max (ms)", sa.Latency.Max, sb.Latency.Max, "lower"},
		{"loss (%)", 100 * sa.Loss, 100 * sb.Loss, "lower"},
		{"freezes per stream-minute", sa.FreezesPerM, sb.FreezesPerM, "lower"},
		{"bridge RSS (MiB)", sa.RSS / (1 << 20), sb.RSS / (1 << 20), "lower"},
		{"bridge RSS per participant (KiB)", sa.RSSPerParticipant / 1024, sb.RSSPerParticipant / 1024, "lower"},
		{"join total p50 (ms)", a.Join.Total.P50, b.Join.Total.P50, "lower"},
	}
	if a.Capacity != nil && b.Capacity != nil {
		m = append(m, Metric{"capacity (participants)", float64(a.Capacity.Participants), float64(b.Capacity.Participants), "higher"})
	}
	return m, nil
}

// Compare prints the ratios B/A between two results as a table.
func Compare(w io.Writer, a, b *Result, nameA, nameB string) error {
	ms, err := CompareMetrics(a, b)
	if err != nil {
		return err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "A: %s (%s, %s, %s%s)\nB: %s (%s, %s, %s%s)\n\n", nameA, a.Scenario.Name, orNA(a.Bridge.Version), orNA(a.Commit),
		netLabel(a), nameB, b.Scenario.Name, orNA(b.Bridge.Version), orNA(b.Commit), netLabel(b))
	if a.Scenario != b.Scenario {
		s.WriteString("warning: the scenarios differ; ratios compare different loads\n\n")
	}
	if na, nb := netOf(a), netOf(b); na != nb {
		fmt.Fprintf(&s, "warning: the networks differ (A %s, B %s); on loopback the bridge's CPU includes the endpoints' receive work\n\n",
			orNA(na), orNA(nb))
	}
	fmt.Fprintf(&s, "%-40s %14s %14s %8s\n", "metric", "A", "B", "B/A")
	for _, m := range ms {
		r := m.Ratio()
		rs := "n/a"
		if r == r { // not NaN
			rs = fmt.Sprintf("%.2f", r)
			if (m.Better == "lower" && r < 1) || (m.Better == "higher" && r > 1) {
				rs += " +"
			} else if r != 1 {
				rs += " -"
			}
		}
		fmt.Fprintf(&s, "%-40s %14s %14s %8s\n", m.Name, fnum(m.A), fnum(m.B), rs)
	}
	s.WriteString("\n+ : B is better, - : B is worse (by the metric's direction)\n")
	_, err = io.WriteString(w, s.String())
	return err
}

func fnum(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return trim(fmt.Sprintf("%.3f", v))
}

// netOf is a result's network: as recorded, else loopback for a local bridge (results from
// before the veth mode), else unknown ("").
func netOf(r *Result) string {
	if r.Settings.Net == "" && r.Bridge.Mode == "local" {
		return "loopback"
	}
	return r.Settings.Net
}

// netLabel names a result's network in the comparison header ("" when unknown).
func netLabel(r *Result) string {
	if n := netOf(r); n != "" {
		return ", net " + n
	}
	return ""
}
