package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// Line is one plotted series. Points with a NaN or negative Y (unknown) break the line.
type Line struct {
	Name  string
	Color string
	X, Y  []float64
}

// Chart is a line chart rendered as standalone SVG, without scripts or external resources.
type Chart struct {
	Title, XLabel, YLabel string
	Lines                 []Line
	Width, Height         int
}

const (
	padL, padR, padT, padB = 64, 16, 32, 44
)

// niceStep is a 1/2/5 × 10^k step that splits span into about n intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

func (c *Chart) bounds() (x0, x1, y0, y1 float64, ok bool) {
	x0, x1, y1 = math.Inf(1), math.Inf(-1), 0
	for _, l := range c.Lines {
		for i := range l.X {
			if i >= len(l.Y) || !valid(l.Y[i]) {
				continue
			}
			x0, x1 = math.Min(x0, l.X[i]), math.Max(x1, l.X[i])
			y1 = math.Max(y1, l.Y[i])
			ok = true
		}
	}
	if !ok {
		return 0, 1, 0, 1, false
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= 0 {
		y1 = 1
	}
	step := niceStep(y1, 5)
	return x0, x1, 0, math.Ceil(y1/step) * step, true
}

func valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }

// fmtNum prints a tick value compactly and deterministically.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return trim(fmt.Sprintf("%.2f", v/1e9)) + "G"
	case a >= 1e6:
		return trim(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case a >= 1e4:
		return trim(fmt.Sprintf("%.2f", v/1e3)) + "k"
	}
	return trim(fmt.Sprintf("%.3f", v))
}

func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// SVG renders the chart as an <svg> element.
func (c *Chart) SVG() string {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 720
	}
	if h == 0 {
		h = 300
	}
	pw, ph := float64(w-padL-padR), float64(h-padT-padB)
	x0, x1, y0, y1, ok := c.bounds()
	px := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*pw }
	py := func(y float64) float64 { return padT + ph - (y-y0)/(y1-y0)*ph }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`, w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13" font-weight="bold">%s</text>`, padL, html.EscapeString(c.Title))
	// Grid and ticks.
	ys := niceStep(y1-y0, 5)
	for v := y0; v <= y1+ys/2; v += ys {
		y := py(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`, padL, y, w-padR, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-4, y+4, fmtNum(v))
	}
	xs := niceStep(x1-x0, 8)
	for v := math.Ceil(x0/xs) * xs; v <= x1+xs/1000; v += xs {
		x := px(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`, x, padT, x, h-padB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, h-padB+14, fmtNum(v))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`, padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, padL+pw/2, h-8, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, padT+ph/2, padT+ph/2, html.EscapeString(c.YLabel))
	if !ok {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#888">no data</text>`, padL+pw/2, padT+ph/2)
	}
	for i, l := range c.Lines {
		color := l.Color
		if color == "" {
			color = palette[i%len(palette)]
		}
		for _, seg := range segments(l) {
			var pts strings.Builder
			for _, k := range seg {
				fmt.Fprintf(&pts, "%.1f,%.1f ", px(l.X[k]), py(l.Y[k]))
			}
			if len(seg) == 1 {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2" fill="%s"/>`, px(l.X[seg[0]]), py(l.Y[seg[0]]), color)
				continue
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.TrimSpace(pts.String()))
		}
		lx := padL + 8 + 150*i
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%s</text>`,
			lx, padT+10, lx+16, padT+10, color, lx+20, padT+14, html.EscapeString(l.Name))
	}
	b.WriteString("</svg>")
	return b.String()
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"}

// segments splits a line's point indices at unknown values.
func segments(l Line) [][]int {
	var out [][]int
	var cur []int
	for i := range l.X {
		if i < len(l.Y) && valid(l.Y[i]) {
			cur = append(cur, i)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// ByParticipants averages y over the samples of each participant count, for plots against
// load.
func ByParticipants(samples []Sample, y func(Sample) float64) (xs, ys []float64) {
	sum := map[int]float64{}
	n := map[int]int{}
	for _, s := range samples {
		v := y(s)
		if !valid(v) || s.Participants == 0 {
			continue
		}
		sum[s.Participants] += v
		n[s.Participants]++
	}
	keys := make([]int, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		xs = append(xs, float64(k))
		ys = append(ys, sum[k]/float64(n[k]))
	}
	return xs, ys
}
