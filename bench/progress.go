package bench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cityjitsi/videobridge/bench/report"
)

// progress prints one line per sample: refreshed in place on a terminal, else every 5 s.
type progress struct {
	w    io.Writer
	live bool
	last time.Time
}

func newProgress(w io.Writer, live bool) *progress { return &progress{w: w, live: live} }

// Line formats a sample for the terminal.
func Line(s report.Sample, failed int, phase string) string {
	cpu := "n/a"
	if s.BridgeCPU >= 0 {
		cpu = fmt.Sprintf("%.2f", s.BridgeCPU)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%4.0fs %-14s joined %3d", s.T, phase, s.Participants)
	if failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", failed)
	}
	fmt.Fprintf(&b, " | bridge %s cores, gen %.2f | in %s pps, out %s pps | p50 %.2f p99 %.2f ms | loss %.2f%% | freezes %d",
		cpu, max(s.GeneratorCPU, 0), kilo(s.SentPPS), kilo(s.RecvPPS), s.LatencyP50, s.LatencyP99, 100*s.Loss, s.Freezes)
	return b.String()
}

func kilo(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.0f", v)
}

func (p *progress) show(s report.Sample, failed int, phase string) {
	if p.w == nil {
		return
	}
	line := Line(s, failed, phase)
	if p.live {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	if time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		fmt.Fprintln(p.w, line)
	}
}

// done ends a refreshed line.
func (p *progress) done() {
	if p.w != nil && p.live {
		fmt.Fprintln(p.w)
	}
}
