package report

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
)

// Plots are the charts of a result, by file name.
type Plots struct {
	CPU, Packets, Latency Chart
	VsParticipants        []Chart
}

func col(samples []Sample, f func(Sample) float64) (xs, ys []float64) {
	for _, s := range samples {
		xs = append(xs, s.T)
		ys = append(ys, f(s))
	}
	return xs, ys
}

// MakePlots builds the charts: CPU, packet rates and latency over time, and CPU, forwarded
// packets and p99 latency against participants (from the capacity steps when there are any,
// else from the per-second samples).
func MakePlots(r *Result) Plots {
	line := func(name string, f func(Sample) float64) Line {
		x, y := col(r.Series, f)
		return Line{Name: name, X: x, Y: y}
	}
	p := Plots{
		CPU: Chart{Title: "CPU", XLabel: "time (s)", YLabel: "cores", Lines: []Line{
			line("bridge", func(s Sample) float64 { return s.BridgeCPU }),
			line("generator", func(s Sample) float64 { return s.GeneratorCPU }),
			line("other processes", func(s Sample) float64 { return s.OtherCPU }),
			line("kernel softirq", func(s Sample) float64 { return s.SoftIRQ }),
		}},
		Packets: Chart{Title: "RTP packet rates", XLabel: "time (s)", YLabel: "packets/s", Lines: []Line{
			line("into bridge", func(s Sample) float64 { return s.SentPPS }),
			line("forwarded", func(s Sample) float64 { return s.RecvPPS }),
		}},
		Latency: Chart{Title: "Forwarding latency", XLabel: "time (s)", YLabel: "ms", Lines: []Line{
			line("p50", func(s Sample) float64 { return s.LatencyP50 }),
			line("p99", func(s Sample) float64 { return s.LatencyP99 }),
		}},
	}
	vs := func(title, ylabel string, step func(Summary) float64, sample func(Sample) float64) Chart {
		var xs, ys []float64
		if len(r.Steps) > 0 {
			for i, st := range r.Steps {
				if i+1 < len(r.Steps) && r.Steps[i+1].Participants == st.Participants {
					continue // a step measured again: plot its last measurement
				}
				xs = append(xs, float64(st.Participants))
				ys = append(ys, step(st.Summary))
			}
		} else {
			xs, ys = ByParticipants(r.Series, sample)
		}
		return Chart{Title: title + " vs participants", XLabel: "participants", YLabel: ylabel, Height: 240,
			Lines: []Line{{Name: title, X: xs, Y: ys}}}
	}
	p.VsParticipants = []Chart{
		vs("bridge CPU", "cores", func(s Summary) float64 { return s.BridgeCPU }, func(s Sample) float64 { return s.BridgeCPU }),
		vs("forwarded packets", "packets/s", func(s Summary) float64 { return s.OutPPS }, func(s Sample) float64 { return s.RecvPPS }),
		vs("p99 latency", "ms", func(s Summary) float64 { return s.Latency.P99 }, func(s Sample) float64 { return s.LatencyP99 }),
	}
	return p
}

// stackSVG puts several charts under each other in one SVG document.
func stackSVG(charts []Chart) string {
	var b strings.Builder
	h := 0
	for i := range charts {
		if charts[i].Height == 0 {
			charts[i].Height = 300
		}
		h += charts[i].Height
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="%d" viewBox="0 0 720 %d">`, h, h)
	y := 0
	for _, c := range charts {
		fmt.Fprintf(&b, `<g transform="translate(0 %d)">%s</g>`, y, c.SVG())
		y += c.Height
	}
	b.WriteString("</svg>")
	return b.String()
}

// HTML is a self-contained page: the Markdown summary and every chart inline.
func HTML(r *Result) ([]byte, error) {
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		return nil, err
	}
	p := MakePlots(r)
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bench %s</title>"+
		"<style>body{font-family:sans-serif;max-width:960px;margin:1em auto}pre{white-space:pre-wrap;font-size:12px}</style></head><body>\n",
		html.EscapeString(r.Scenario.Name))
	fmt.Fprintf(&b, "<h1>Bench run: %s</h1>\n", html.EscapeString(r.Scenario.Name))
	for _, c := range []Chart{p.CPU, p.Packets, p.Latency} {
		b.WriteString("<div>" + c.SVG() + "</div>\n")
	}
	for _, c := range p.VsParticipants {
		b.WriteString("<div>" + c.SVG() + "</div>\n")
	}
	b.WriteString("<h2>Summary</h2>\n<pre>" + html.EscapeString(md.String()) + "</pre>\n</body></html>\n")
	return b.Bytes(), nil
}

// WriteDir writes result.json, summary.md, report.html and the SVG plots into dir.
func WriteDir(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	js, err := r.Marshal()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		return err
	}
	page, err := HTML(r)
	if err != nil {
		return err
	}
	p := MakePlots(r)
	files := map[string][]byte{
		"result.json":         append(js, '\n'),
		"summary.md":          md.Bytes(),
		"report.html":         page,
		"cpu.svg":             []byte(p.CPU.SVG()),
		"packets.svg":         []byte(p.Packets.SVG()),
		"latency.svg":         []byte(p.Latency.SVG()),
		"vs-participants.svg": []byte(stackSVG(p.VsParticipants)),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}
