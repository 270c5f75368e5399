package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files from the recorded results")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n%s", name, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + la[i] + "\nwant: " + lb[i]
		}
	}
	return "lengths differ"
}

// The recorded results are real runs of the harness against the bridge on the project's
// machine (meeting-10, lecture and a lecture capacity search, bench/RESULTS.md), kept as
// produced.
func recorded(t *testing.T, name string) *Result {
	t.Helper()
	r, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMarkdownGolden(t *testing.T) {
	for _, name := range []string{"meeting-10", "lecture", "capacity-lecture"} {
		var b bytes.Buffer
		if err := Markdown(&b, recorded(t, name+".json")); err != nil {
			t.Fatal(err)
		}
		golden(t, name+".md", b.Bytes())
	}
}

func TestHTMLAndPlotsGolden(t *testing.T) {
	r := recorded(t, "meeting-10.json")
	page, err := HTML(r)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "meeting-10.html", page)
	p := MakePlots(r)
	golden(t, "meeting-10-cpu.svg", []byte(p.CPU.SVG()))
	golden(t, "meeting-10-vs-participants.svg", []byte(stackSVG(p.VsParticipants)))
	if s := string(page); strings.Contains(s, "<script") || strings.Contains(s, "http://") && !strings.Contains(s, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the page must be self-contained")
	}
}

func TestCompareGolden(t *testing.T) {
	a, b := recorded(t, "meeting-10.json"), recorded(t, "lecture.json")
	var out bytes.Buffer
	if err := Compare(&out, a, b, "meeting-10.json", "lecture.json"); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", out.Bytes())
	if err := Compare(&out, a, &Result{}, "a", "b"); err != ErrNoSteady {
		t.Errorf("compare without steady state: %v", err)
	}
}

func TestWriteDirRoundTrip(t *testing.T) {
	r := recorded(t, "lecture.json")
	dir := t.TempDir()
	if err := WriteDir(dir, r); err != nil {
		t.Fatal(err)
	}
	back, err := Load(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Error("result.json does not round-trip")
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"schema": 99}`), 0o644)
	if _, err := Load(bad); err == nil {
		t.Error("wrong schema accepted")
	}
}

func TestChartPieces(t *testing.T) {
	for _, tc := range []struct {
		span float64
		n    int
		want float64
	}{{10, 5, 2}, {0.7, 5, 0.2}, {26000, 5, 10000}, {1, 8, 0.2}, {0, 5, 1}, {math.NaN(), 5, 1}} {
		if got := niceStep(tc.span, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("niceStep(%v, %d) = %v, want %v", tc.span, tc.n, got, tc.want)
		}
	}
	l := Line{X: []float64{0, 1, 2, 3, 4, 5}, Y: []float64{1, -1, 2, 3, math.NaN(), 4}}
	if got := segments(l); !reflect.DeepEqual(got, [][]int{{0}, {2, 3}, {5}}) {
		t.Errorf("segments %v", got)
	}
	for v, want := range map[float64]string{0: "0", 2.5: "2.5", 12000: "12k", 3.5e6: "3.5M", 0.125: "0.125"} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
	empty := Chart{Title: "t"}
	if !strings.Contains(empty.SVG(), "no data") {
		t.Error("empty chart")
	}
	xs, ys := ByParticipants([]Sample{{Participants: 2, BridgeCPU: 1}, {Participants: 2, BridgeCPU: 3}, {Participants: 4, BridgeCPU: -1},
		{Participants: 1, BridgeCPU: 0.5}}, func(s Sample) float64 { return s.BridgeCPU })
	if !reflect.DeepEqual(xs, []float64{1, 2}) || !reflect.DeepEqual(ys, []float64{0.5, 2}) {
		t.Errorf("by participants %v %v", xs, ys)
	}
}
