package xmpp

import (
	"testing"
	"time"
)

func TestClassifyPresence(t *testing.T) {
	rooms := []room{{jid: "a@muc"}, {jid: "b@muc"}}
	tests := []struct {
		name    string
		st      stanza
		idx     int
		ev      presenceEvent
		created bool
	}{
		{"self-presence by nickname", stanza{From: "b@muc/jvb1"}, 1, presenceJoined, false},
		{"room created", stanza{From: "a@muc/jvb1", StatusCodes: []string{"110", "201"}}, 0, presenceJoined, true},
		{"status 110 under a rewritten nickname", stanza{From: "a@muc/other", StatusCodes: []string{"110"}}, 0, presenceJoined, false},
		{"room JID case-insensitive", stanza{From: "A@MUC/jvb1"}, 0, presenceJoined, false},
		{"nickname is case-sensitive", stanza{From: "a@muc/JVB1"}, 0, presenceOther, false},
		{"other occupant", stanza{From: "a@muc/focus"}, 0, presenceOther, false},
		{"other occupant leaving", stanza{From: "a@muc/focus", Type: "unavailable"}, 0, presenceOther, false},
		{"nickname conflict", stanza{From: "a@muc/jvb1", Type: "error", ErrorCondition: "conflict"}, 0, presenceJoinFailed, false},
		{"error from the room itself", stanza{From: "a@muc", Type: "error", ErrorCondition: "forbidden"}, 0, presenceJoinFailed, false},
		{"we were removed", stanza{From: "b@muc/jvb1", Type: "unavailable", StatusCodes: []string{"110", "307"}}, 1, presenceLeft, false},
		{"not a brewery room", stanza{From: "c@muc/jvb1"}, -1, presenceOther, false},
		{"our own account's presence", stanza{From: "jvb@auth/res"}, -1, presenceOther, false},
		{"subscription presence ignored", stanza{From: "a@muc/jvb1", Type: "subscribe"}, 0, presenceOther, false},
	}
	for _, tc := range tests {
		idx, ev, created := classifyPresence(&tc.st, rooms, "jvb1")
		if idx != tc.idx || ev != tc.ev || created != tc.created {
			t.Errorf("%s: got (%d,%d,%v) want (%d,%d,%v)", tc.name, idx, ev, created, tc.idx, tc.ev, tc.created)
		}
	}
}

func TestJoinSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	rooms := []room{
		{jid: "a", joined: true},
		{jid: "b", nextJoin: t0.Add(2 * time.Second)},
		{jid: "c", nextJoin: t0},
		{jid: "d", nextJoin: t0.Add(-time.Second)},
	}
	if got := dueJoins(rooms, t0); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("dueJoins = %v, want [2 3]", got)
	}
	if at, ok := nextJoinAt(rooms); !ok || !at.Equal(t0.Add(-time.Second)) {
		t.Errorf("nextJoinAt = %v %v", at, ok)
	}
	if _, ok := nextJoinAt([]room{{joined: true}}); ok {
		t.Error("nextJoinAt with every room joined reported a time")
	}
}
