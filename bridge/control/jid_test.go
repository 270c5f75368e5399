package control

import (
	"strings"
	"testing"
)

func TestValidBareJID(t *testing.T) {
	for s, want := range map[string]bool{
		"myroom@muc.meet.jitsi":            true,
		"my\\20room@conference.example.":   true,
		"ünïcode@münchen.example":          true,
		"room@192.0.2.1":                   true,
		"":                                 false,
		"muc.meet.jitsi":                   false, // domain-only: not an entity bare JID
		"@muc.meet.jitsi":                  false,
		"room@":                            false,
		"room@muc/resource":                false,
		"a@b@c":                            false,
		"my room@muc.meet.jitsi":           false,
		"room\x00@muc":                     false,
		"ro:om@muc":                        false,
		"room@muc..jitsi":                  false,
		"room@.muc":                        false,
		strings.Repeat("a", 1024) + "@muc": false,
		"\xff@muc":                         false,
	} {
		if got := validBareJID(s); got != want {
			t.Errorf("validBareJID(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzValidBareJID: the conference name comes from the network; the check must not panic and
// anything it accepts must have exactly one '@' with non-empty sides and no '/'.
func FuzzValidBareJID(f *testing.F) {
	for _, s := range []string{"myroom@muc.meet.jitsi", "a@b", "@", "a@b/c", "a@b.", "\xff@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validBareJID(s) {
			return
		}
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || domain == "" || strings.ContainsAny(s, "/ ") || strings.Count(s, "@") != 1 {
			t.Fatalf("accepted %q", s)
		}
	})
}
