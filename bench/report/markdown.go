package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cityjitsi/videobridge/bench/stats"
)

// Markdown writes the human summary of r.
func Markdown(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Bench run: %s\n\n", r.Scenario.Name)
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| started | %s (%s) |\n", r.Started.UTC().Format("2006-01-02 15:04:05Z"), dur(r.Ended.Sub(r.Started).Seconds()))
	fmt.Fprintf(&b, "| outcome | **%s**%s |\n", r.Outcome.Status, errSuffix(r.Outcome.Error))
	fmt.Fprintf(&b, "| limited by | %s |\n", r.Outcome.Limited)
	fmt.Fprintf(&b, "| bridge | %s, %s%s |\n", orNA(r.Bridge.Version), r.Bridge.Mode, cpuSuffix(r.Bridge.CPUs))
	fmt.Fprintf(&b, "| constraints via | %s |\n", r.Bridge.Constraints)
	fmt.Fprintf(&b, "| commit | %s |\n", orNA(r.Commit))
	fmt.Fprintf(&b, "| machine | %s, %d CPUs, %s, %s |\n", r.Machine.CPUModel, r.Machine.CPUs, r.Machine.Kernel, r.Machine.GoVersion)
	fmt.Fprintf(&b, "| scenario | %d × %d participants, %d senders each, last-N %d, %s view |\n",
		r.Scenario.Conferences, r.Scenario.Size, r.Scenario.Senders, r.Scenario.LastN, r.Scenario.View)
	s := r.Settings
	fmt.Fprintf(&b, "| settings | join %.1f/s, warm-up %s, window %s, decrypt 1 in %d, loss in %.1f%%/out %.1f%%, delay %.0f ms%s |\n",
		s.JoinRate, dur(s.WarmupS), dur(s.DurationS), s.SampleEvery, 100*s.RecvLoss, 100*s.SendLoss, s.SendDelayMs, cpuSuffix(s.GeneratorCPUs))
	if s.Net != "" {
		fmt.Fprintf(&b, "| network | %s%s |\n", s.Net, map[bool]string{true: ": " + s.NetNote, false: ""}[s.NetNote != ""])
	}
	fmt.Fprintf(&b, "| endpoint sockets | UDP GRO %s |\n", map[bool]string{true: "on", false: "off"}[s.ReceiverGRO])
	fmt.Fprintf(&b, "| senders' pacer | %s |\n", pacerNote(s.Pacer))
	for _, n := range r.Outcome.Notes {
		fmt.Fprintf(&b, "\n> %s\n", n)
	}

	j := r.Join
	fmt.Fprintf(&b, "\n## Joins\n\n%d attempted, %d connected, %d failed.\n\n", j.Attempted, j.Connected, j.Failed)
	b.WriteString("| phase | n | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|\n")
	for _, p := range []struct {
		name string
		q    stats.Quantiles
	}{{"colibri2 allocation", j.Allocate}, {"ICE", j.ICE}, {"DTLS", j.DTLS}, {"allocation → DTLS done", j.Total},
		{"data channel (SCTP + DCEP)", j.DataChannel}, {"first forwarded media", j.Media}} {
		if p.q.Count == 0 {
			fmt.Fprintf(&b, "| %s | 0 | – | – | – | – |\n", p.name)
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", p.name, p.q.Count, msf(p.q.P50), msf(p.q.P95), msf(p.q.P99), msf(p.q.Max))
	}
	if j.DataChannelNote != "" {
		fmt.Fprintf(&b, "\nData channel: %s.\n", j.DataChannelNote)
	}
	for _, f := range j.Failures {
		fmt.Fprintf(&b, "\n- failure: `%s`", f)
	}
	if len(j.Failures) > 0 {
		b.WriteString("\n")
	}
	if r.Steady != nil {
		b.WriteString("\n## Steady state\n\n")
		writeSummary(&b, r.Steady)
	}
	if len(r.Layers) > 0 {
		b.WriteString("\n## Layers: asked vs received\n\nVerified samples of forwarded video by the encoding the sender used.\n\n")
		b.WriteString("| asked maxHeight | streams | got 180 | got 360 | got 720 |\n|---|---|---|---|---|\n")
		for _, l := range r.Layers {
			fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", l.Asked, l.Streams, share(l, "180"), share(l, "360"), share(l, "720"))
		}
	}
	if len(r.Steps) > 0 {
		b.WriteString("\n## Capacity steps\n\n| participants | bridge CPU | µs/pkt | out pps | p99 | loss | held |\n|---|---|---|---|---|---|---|\n")
		for _, st := range r.Steps {
			held := "yes"
			if !st.Held {
				held = "no: " + st.Why
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %.0f | %s | %s | %s |\n", st.Participants, cores(st.Summary.BridgeCPU),
				us(st.Summary.CPUPerPacketUs), st.Summary.OutPPS, msf(st.Summary.Latency.P99), pct(st.Summary.Loss), held)
		}
	}
	if c := r.Capacity; c != nil {
		fmt.Fprintf(&b, "\n**Capacity: %d participants** held the objective (%s); limited by %s.\n", c.Participants, c.Objective, c.LimitedBy)
	}
	b.WriteString("\nPlots: `report.html` (all), `cpu.svg`, `packets.svg`, `latency.svg`, `vs-participants.svg`.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSummary(b *strings.Builder, s *Summary) {
	fmt.Fprintf(b, "Window %s with %d participants.\n\n| metric | value |\n|---|---|\n", dur(s.WindowS), s.Participants)
	row := func(k, v string) { fmt.Fprintf(b, "| %s | %s |\n", k, v) }
	row("bridge CPU", cores(s.BridgeCPU))
	row("bridge CPU per forwarded packet", us(s.CPUPerPacketUs))
	row("  above its idle CPU ("+cores(s.BridgeIdleCPU)+")", us(s.CPUPerPacketMarginalUs))
	row("generator CPU", cores(s.GeneratorCPU))
	row("other processes' CPU (noise)", cores(s.OtherCPU))
	row("kernel softirq CPU (packet processing, all processes)", cores(s.SoftIRQ))
	row("packets in / out (per s)", fmt.Sprintf("%.0f / %.0f", s.InPPS, s.OutPPS))
	if s.BridgeReportOut >= 0 {
		row("bridge-reported packets out (per s)", fmt.Sprintf("%.0f", s.BridgeReportOut))
	}
	row("bits in / out (per s)", fmt.Sprintf("%s / %s", mbps(s.InBPS), mbps(s.OutBPS)))
	row("forwarding latency p50 / p95 / p99 / max", quant(s.Latency))
	row("  audio", quant(s.AudioLatency))
	row("  video", quant(s.VideoLatency))
	row("loss", pct(s.Loss))
	if s.BridgeDropped >= 0 {
		row("bridge-reported drops, all reasons incl. layer filtering (per s)", fmt.Sprintf("%.0f", s.BridgeDropped))
	}
	row("kernel receive drops: endpoints' sockets / bridge socket", fmt.Sprintf("%d / %d", s.GeneratorSocketDrops, s.BridgeSocketDrops))
	row("freezes", fmt.Sprintf("%d (%.2f per stream-minute)", s.Freezes, s.FreezesPerM))
	row("video streams received / silent at the end", fmt.Sprintf("%d / %d", s.VideoStreams, s.SilentAtEnd))
	if s.RTT.Count > 0 {
		row("sender RTT p50 / p99", fmt.Sprintf("%s / %s", msf(s.RTT.P50), msf(s.RTT.P99)))
	}
	row("bridge RSS (idle → loaded)", fmt.Sprintf("%s → %s", mib(s.RSSIdle), mib(s.RSS)))
	row("bridge RSS per participant", kib(s.RSSPerParticipant))
	row("bridge Go heap / goroutines", fmt.Sprintf("%s / %s", mib(s.Heap), num(s.Goroutines)))
	c := s.Counters
	row("samples decrypted (errors: decrypt / verify)", fmt.Sprintf("%d (%d / %d)", c.Sampled, c.DecryptErrors, c.VerifyErrors))
	row("NACKs sent (packets) / recovered", fmt.Sprintf("%d (%d) / %d", c.NACKsSent, c.NACKedPackets, c.Recovered))
	row("PLIs sent / received, keyframes sent", fmt.Sprintf("%d / %d, %d", c.PLIsSent, c.PLIsReceived, c.KeyframesSent))
	row("transport-cc feedback sent / received", fmt.Sprintf("%d / %d", c.TWCCSent, c.TWCCReceived))
}

func share(l LayerRow, h string) string {
	var total uint64
	for _, v := range l.Received {
		total += v
	}
	if total == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(l.Received[h])/float64(total))
}

// SortLayers orders layer rows by asked height.
func SortLayers(rows []LayerRow) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Asked < rows[j].Asked })
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(e, "\n", " ")
}

func cpuSuffix(c string) string {
	if c == "" {
		return ""
	}
	return ", CPUs " + c
}

// pacerNote names the senders' pacer model; results from before the choice paced as
// "interval" does.
func pacerNote(p string) string {
	switch p {
	case "burst":
		return "burst (libwebrtc's 40 ms burst interval: a frame leaves whole)"
	case "", "interval":
		return "interval (5 ms budget: a frame leaves over several intervals)"
	}
	return p
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func dur(s float64) string  { return fmt.Sprintf("%.0f s", s) }
func msf(v float64) string  { return fmt.Sprintf("%.2f ms", v) }
func pct(v float64) string  { return fmt.Sprintf("%.3f %%", 100*v) }
func mbps(v float64) string { return fmt.Sprintf("%.1f Mbit", v/1e6) }
func quant(q stats.Quantiles) string {
	if q.Count == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s / %s / %s / %s (%d samples)", msf(q.P50), msf(q.P95), msf(q.P99), msf(q.Max), q.Count)
}

func cores(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f cores", v)
}

func us(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f µs", v)
}

func mib(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", v/(1<<20))
}

func kib(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f KiB", v/1024)
}

func num(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", v)
}
