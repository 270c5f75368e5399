package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestNetworkRecorded checks that the network mode reaches the summary and the comparison:
// a loopback figure includes the endpoints' receive work, so mixing the two must be visible.
func TestNetworkRecorded(t *testing.T) {
	veth := func(r *Result) *Result {
		c := *r
		c.Settings.Net, c.Settings.NetNote = "veth", "veth pair between namespaces vbh-7 and vbb-7"
		return &c
	}
	a, b := recorded(t, "lecture.json"), recorded(t, "lecture.json")
	for _, tc := range []struct {
		name string
		a, b *Result
		head string
	}{
		{"old local result is loopback", a, veth(b), "A: a (lecture, JVB 1.0.0-dev, fe27636, net loopback)\n" +
			"B: b (lecture, JVB 1.0.0-dev, fe27636, net veth)\n\n" +
			"warning: the networks differ (A loopback, B veth); on loopback the bridge's CPU includes the endpoints' receive work\n\n"},
		{"same network", veth(a), veth(b), "A: a (lecture, JVB 1.0.0-dev, fe27636, net veth)\n" +
			"B: b (lecture, JVB 1.0.0-dev, fe27636, net veth)\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Compare(&out, tc.a, tc.b, "a", "b"); err != nil {
				t.Fatal(err)
			}
			head, _, _ := strings.Cut(out.String(), "metric")
			if head != tc.head {
				t.Errorf("got\n%s\nwant\n%s", head, tc.head)
			}
		})
	}
	var md bytes.Buffer
	if err := Markdown(&md, veth(a)); err != nil {
		t.Fatal(err)
	}
	if row := "| network | veth: veth pair between namespaces vbh-7 and vbb-7 |\n"; !strings.Contains(md.String(), row) {
		t.Errorf("summary lacks %q", row)
	}
	md.Reset()
	if err := Markdown(&md, a); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "| network |") {
		t.Error("a result without a recorded network got a network row")
	}
}
