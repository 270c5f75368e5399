package xmpptest

import (
	"strings"
	"testing"
)

// TestStartProsodyAndFocus checks both Prosody flavours accept the focus account and that the
// focus sees its own MUC self-presence (status 110) through the raw capture.
func TestStartProsodyAndFocus(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{{"plain", Options{}}, {"tls", Options{TLS: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			p := StartProsody(t, tc.opts)
			f := NewFocus(t, p)
			if !strings.HasPrefix(f.JID, "focus@auth.meet.test/") {
				t.Fatalf("focus JID = %q", f.JID)
			}
			self := f.WaitPresence(t, f.OccupantJID("focus"), nil)
			x := self.Child("http://jabber.org/protocol/muc#user", "x")
			if x == nil {
				t.Fatalf("self-presence without muc#user x: %+v", self)
			}
			var codes []string
			for _, c := range x.Children {
				if c.XMLName.Local == "status" {
					codes = append(codes, c.Attr("code"))
				}
			}
			if !contains(codes, "110") {
				t.Fatalf("self-presence status codes %v, want 110", codes)
			}
		})
	}
}

func TestParseStream(t *testing.T) {
	in := "<presence from='r@m/b'><stats xmlns='http://jitsi.org/protocol/colibri'><stat name='drain' value='false'/></stats></presence>" +
		" <iq type='result' id='1'/></stream:stream>"
	var got []*Element
	err := parseStream(strings.NewReader(in), func(e *Element) { got = append(got, e) })
	if err == nil || len(got) != 2 {
		t.Fatalf("got %d stanzas, err %v", len(got), err)
	}
	if s := got[0].Stats(); s["drain"] != "false" || len(s) != 1 {
		t.Fatalf("stats = %v", s)
	}
	if got[1].Attr("id") != "1" || got[1].Stats() != nil {
		t.Fatalf("iq = %+v", got[1])
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
