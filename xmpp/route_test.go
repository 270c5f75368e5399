package xmpp

import (
	"encoding/xml"
	"testing"
)

func TestClassifyIQ(t *testing.T) {
	rooms := map[string]bool{"jvbbrewery@internal-muc.meet.jitsi": true}
	cm := xml.Name{Space: "jitsi:colibri2", Local: "conference-modify"}
	ping := xml.Name{Space: nsPing, Local: "ping"}
	version := xml.Name{Space: nsVersion, Local: "query"}
	health := xml.Name{Space: "http://jitsi.org/protocol/healthcheck", Local: "healthcheck"}
	focus := "jvbbrewery@internal-muc.meet.jitsi/focus"
	tests := []struct {
		name  string
		typ   string
		from  string
		child xml.Name
		want  iqAction
	}{
		{"colibri2 as get (Smack default) via the room", "get", focus, cm, iqDispatch},
		{"colibri2 as set via the room", "set", focus, cm, iqDispatch},
		{"health check via the room", "get", focus, health, iqDispatch},
		{"room JID compared case-insensitively", "get", "JVBBrewery@Internal-MUC.meet.jitsi/focus", health, iqDispatch},
		{"room bare JID itself", "get", "jvbbrewery@internal-muc.meet.jitsi", health, iqDispatch},
		{"focus real JID is forbidden", "get", "focus@auth.meet.jitsi/focus123", health, iqForbidden},
		{"other room on the same MUC service is forbidden", "get", "other@internal-muc.meet.jitsi/focus", cm, iqForbidden},
		{"no from (our server) is forbidden", "set", "", cm, iqForbidden},
		{"version via the room answered by the client", "get", focus, version, iqVersion},
		{"version from outside is forbidden", "get", "someone@x/y", version, iqForbidden},
		{"version as set goes to the handler", "set", focus, version, iqDispatch},
		{"ping from anyone", "get", "someone@x/y", ping, iqPing},
		{"ping from the server", "get", "", ping, iqPing},
		{"request without child", "get", focus, xml.Name{}, iqBadRequest},
		{"result", "result", "auth.meet.jitsi", xml.Name{}, iqResponse},
		{"error", "error", focus, xml.Name{}, iqResponse},
		{"missing type", "", focus, cm, iqIgnore},
		{"unknown type", "headline", focus, cm, iqIgnore},
	}
	for _, tc := range tests {
		if got := classifyIQ(tc.typ, tc.from, tc.child, rooms); got != tc.want {
			t.Errorf("%s: got %d want %d", tc.name, got, tc.want)
		}
	}
}
