package integration

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestDataPlaneImportsNoControlPlane keeps ARCHITECTURE.md's rule: data-plane packages never
// import colibri/, xmpp/ or bridge/{api,control,config}; dependencies point from control to data.
func TestDataPlaneImportsNoControlPlane(t *testing.T) {
	dataPlane := regexp.MustCompile(`/bridge/(transport|rtp|receiver|router|sender|selector|bwe|allocator|pacer|stats|media|packet|speaker)(/|$)`)
	controlPlane := regexp.MustCompile(`^github\.com/cityjitsi/videobridge/(colibri|xmpp|bridge/(api|control|config))(/|$)`)
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../bridge/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !dataPlane.MatchString(f[0]) {
			continue
		}
		checked++
		for _, dep := range f[1:] {
			if controlPlane.MatchString(dep) {
				t.Errorf("data-plane package %s depends on %s", f[0], dep)
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d data-plane packages found; the package layout changed?", checked)
	}
}
