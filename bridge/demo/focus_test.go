package demo

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cityjitsi/videobridge/bridge/control"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

var endpointIDRe = regexp.MustCompile(`^[0-9a-f]{8}$`)

// TestMeeting runs three participants through one room against the real control plane and
// checks both what the pages receive and the colibri2 requests the bridge gets.
func TestMeeting(t *testing.T) {
	vb := newTestBridge(t, nil)
	rec := &recorder{inner: vb}
	srv := startDemo(t, rec, Options{SCTP: true})

	a := dialPage(t, srv)
	ja := a.join("Room1", "Alice")
	if !endpointIDRe.MatchString(ja.EndpointID) || ja.Room != "room1" || len(ja.Participants) != 0 || ja.SCTPPort != 5000 {
		t.Fatalf("joined = %+v", ja)
	}
	tr := ja.Transport
	if tr == nil || len(tr.Ufrag) < 4 || len(tr.Pwd) < 22 || len(tr.Fingerprints) != 1 || tr.Fingerprints[0].Setup != "actpass" ||
		len(tr.Candidates) != 1 || tr.Candidates[0].IP != "127.0.0.1" || tr.Candidates[0].Port != 10000 {
		t.Fatalf("bridge transport = %+v", tr)
	}
	if len(ja.Media) != 2 || ja.Media[0].Type != "audio" || ja.Media[1].Type != "video" || ja.Media[1].PayloadTypes[1].Name != "VP8" {
		t.Fatalf("media = %+v", ja.Media)
	}
	reqs := rec.requests()
	create := reqs[0]
	meetingID := create.MeetingID
	if !create.Create || create.Name != "room1@conference.localhost" || len(create.Endpoints) != 1 {
		t.Fatalf("first request = %+v", create)
	}
	if ep := create.Endpoints[0]; !ep.Create || ep.ID != ja.EndpointID || ep.Transport.SCTP == nil ||
		!reflect.DeepEqual(ep.Capabilities, []string{colibri2.CapSourceNames}) {
		t.Fatalf("allocation endpoint = %+v", ep)
	}

	b := dialPage(t, srv)
	jb := b.join("room1", "Bob")
	if want := []wireParticipant{{ID: ja.EndpointID, Name: "Alice"}}; !reflect.DeepEqual(jb.Participants, want) {
		t.Fatalf("Bob sees %+v, want %+v", jb.Participants, want)
	}
	if pj := a.expect(msgParticipantJoined); !reflect.DeepEqual(pj.Participant, &wireParticipant{ID: jb.EndpointID, Name: "Bob"}) {
		t.Fatalf("Alice got %+v", pj.Participant)
	}
	if r := rec.requests()[1]; r.Create || r.Name != "" || r.MeetingID != meetingID || !r.Endpoints[0].Create {
		t.Fatalf("second allocation = %+v", r)
	}

	// Alice accepts: the bridge gets her transport and full sources, Bob her stripped sources.
	a.send(acceptMessage(1000))
	src := b.expect(msgSources)
	if want := (&wireParticipant{ID: ja.EndpointID, Name: "Alice", Sources: strippedFor(ja.EndpointID, 1000)}); !reflect.DeepEqual(src.Participant, want) {
		t.Fatalf("Bob got %+v, want %+v", src.Participant, want)
	}
	info, ok := vb.Conference(meetingID)
	if !ok {
		t.Fatal("conference missing")
	}
	epA, _ := info.Endpoint(ja.EndpointID)
	if epA.Remote.Ufrag != "sXoJ" || epA.Remote.Role != control.DTLSRoleServer || len(epA.Remote.Candidates) != 2 ||
		len(epA.Sources.Video) != 1 || len(epA.Sources.Video[0].Encodings) != 3 || epA.Sources.Video[0].Encodings[0].RTX != 1011 ||
		len(epA.Sources.Audio) != 1 || epA.Sources.Audio[0].SSRC != 1000 {
		t.Fatalf("bridge endpoint after accept: remote %+v sources %+v", epA.Remote, epA.Sources)
	}

	// Carol joins late and sees Alice's sources at once.
	c := dialPage(t, srv)
	jc := c.join("room1", "Carol")
	want := []wireParticipant{{ID: ja.EndpointID, Name: "Alice", Sources: strippedFor(ja.EndpointID, 1000)}, {ID: jb.EndpointID, Name: "Bob"}}
	if !reflect.DeepEqual(jc.Participants, want) {
		t.Fatalf("Carol sees %+v, want %+v", jc.Participants, want)
	}
	a.expect(msgParticipantJoined)
	b.expect(msgParticipantJoined)

	b.send(acceptMessage(2000))
	for _, p := range []*page{a, c} {
		if m := p.expect(msgSources); m.Participant.ID != jb.EndpointID || !reflect.DeepEqual(m.Participant.Sources, strippedFor(jb.EndpointID, 2000)) {
			t.Fatalf("source-add for Bob = %+v", m.Participant)
		}
	}

	// Bob's tab closes: his endpoint expires and the others drop him.
	_ = b.c.CloseNow()
	for _, p := range []*page{a, c} {
		if m := p.expect(msgParticipantLeft); m.ID != jb.EndpointID {
			t.Fatalf("participant-left = %+v", m)
		}
	}
	info, _ = vb.Conference(meetingID)
	if _, ok := info.Endpoint(jb.EndpointID); ok || len(info.Endpoints) != 2 {
		t.Fatalf("bridge still has %d endpoints, Bob present=%v", len(info.Endpoints), ok)
	}
	last := rec.requests()
	if r := last[len(last)-1]; len(r.Endpoints) != 1 || !r.Endpoints[0].Expire || r.Endpoints[0].ID != jb.EndpointID || r.Expire {
		t.Fatalf("leave request = %+v", r)
	}

	// Alice leaves but keeps her socket and joins another room.
	a.send(clientMessage{Type: msgLeave})
	if m := c.expect(msgParticipantLeft); m.ID != ja.EndpointID {
		t.Fatalf("participant-left = %+v", m)
	}
	if j := a.join("elsewhere", "Alice"); len(j.Participants) != 0 {
		t.Fatalf("joined elsewhere = %+v", j)
	}

	// The last participant of room1 leaves: the whole conference is expired.
	c.send(clientMessage{Type: msgLeave})
	eventually(t, "room1's conference to expire", func() bool { _, ok := vb.Conference(meetingID); return !ok })
	last = rec.requests()
	if r := last[len(last)-1]; !r.Expire || r.MeetingID != meetingID || len(r.Endpoints) != 0 {
		t.Fatalf("last request = %+v, want a conference expire", r)
	}
}

func TestSignallingErrors(t *testing.T) {
	vb := newTestBridge(t, nil)
	srv := startDemo(t, vb, Options{SCTP: true, MaxParticipants: 2, MaxRooms: 1})
	a := dialPage(t, srv)

	a.sendRaw(websocket.MessageText, []byte(`{"type":`))
	a.expectError("", codeBadMessage)
	a.sendRaw(websocket.MessageBinary, []byte(`{"type":"leave"}`))
	a.expectError("", codeBadMessage)
	a.send(map[string]any{"type": "join", "room": "r", "name": "x", "role": "moderator"})
	if m := a.expectError("", codeBadMessage); !strings.Contains(m.Message, "unknown field") {
		t.Errorf("message %q", m.Message)
	}
	a.send(acceptMessage(1))
	a.expectError(msgAccept, codeNotJoined)
	a.send(clientMessage{Type: msgLeave})
	a.expectError(msgLeave, codeNotJoined)
	a.send(clientMessage{Type: msgJoin, Room: "no spaces please", Name: "A"})
	a.expectError(msgJoin, codeInvalidRoom)
	a.send(clientMessage{Type: msgJoin, Room: "r", Name: " "})
	a.expectError(msgJoin, codeInvalidName)

	a.join("r", "A")
	a.send(clientMessage{Type: msgJoin, Room: "r", Name: "A"})
	a.expectError(msgJoin, codeAlreadyJoined)
	bad := acceptMessage(1)
	bad.Transport.Fingerprints[0].Setup = "actpass"
	a.send(bad)
	a.expectError(msgAccept, codeInvalidTransport)

	// A rejected accept leaves the participant in place: a correct one still works.
	b := dialPage(t, srv)
	b.join("r", "B")
	a.expect(msgParticipantJoined)
	a.send(acceptMessage(1))
	b.expect(msgSources)
	a.send(acceptMessage(1))
	a.expectError(msgAccept, codeAlreadyAccepted)
	b.send(acceptMessage(1))
	if m := b.expectError(msgAccept, codeInvalidSources); !strings.Contains(m.Message, "already used in this room") {
		t.Errorf("message %q", m.Message)
	}

	c := dialPage(t, srv)
	c.send(clientMessage{Type: msgJoin, Room: "r", Name: "C"})
	c.expectError(msgJoin, codeRoomFull)
	c.send(clientMessage{Type: msgJoin, Room: "other", Name: "C"})
	c.expectError(msgJoin, codeTooManyRooms)
}

// TestBridgeTimeout: a bridge that does not answer makes the join fail with a clear error, and
// the focus undoes the allocation behind it in case it is processed late.
func TestBridgeTimeout(t *testing.T) {
	vb := newTestBridge(t, nil)
	rec := &recorder{inner: vb, drop: func(r *colibri2.ConferenceModify) bool { return r.Create }}
	srv := startDemo(t, rec, Options{SCTP: true, RequestTimeout: 20 * time.Millisecond})
	a := dialPage(t, srv)
	a.send(clientMessage{Type: msgJoin, Room: "r", Name: "A"})
	if m := a.expectError(msgJoin, codeBridge); !strings.Contains(m.Message, "did not answer in time") {
		t.Errorf("message %q", m.Message)
	}
	reqs := rec.requests()
	if len(reqs) != 2 || !reqs[1].Expire || reqs[1].MeetingID != reqs[0].MeetingID {
		t.Fatalf("requests = %+v, want the create then its conference expire", reqs)
	}
}

// TestConferenceLost: when the bridge ended the conference by itself (its endpoints expired),
// the next join starts a new one and the stale participants are told to join again.
func TestConferenceLost(t *testing.T) {
	vb := newTestBridge(t, func(o *control.Options) { o.ConferenceEmptyTimeout = time.Nanosecond })
	rec := &recorder{inner: vb}
	srv := startDemo(t, rec, Options{SCTP: true})
	a := dialPage(t, srv)
	ja := a.join("r", "A")
	first := rec.requests()[0].MeetingID
	info, _ := vb.Conference(first)
	vb.ExpireEndpoint(info.ID, ja.EndpointID, "ICE failed")
	eventually(t, "the conference to expire", func() bool { _, ok := vb.Conference(first); return !ok })

	b := dialPage(t, srv)
	if jb := b.join("r", "B"); len(jb.Participants) != 0 {
		t.Fatalf("B sees %+v", jb.Participants)
	}
	a.expectError("", codeConferenceEnded)
	reqs := rec.requests()
	if r := reqs[len(reqs)-1]; !r.Create || r.MeetingID == first {
		t.Fatalf("last request = %+v, want a create with a new meeting-id", r)
	}
	// A may join again on the same socket.
	if j := a.join("r", "A"); len(j.Participants) != 1 {
		t.Fatalf("A rejoined with %+v", j.Participants)
	}
}

// TestWithoutSCTP: with SCTP off the focus asks for no data channel and the page gets the
// colibri-ws URL; asking a bridge without SCTP for one is a clear error.
func TestWithoutSCTP(t *testing.T) {
	vb := newTestBridge(t, func(o *control.Options) {
		o.SCTPEnabled = false
		o.WebSockets = control.WebSocketOptions{Enabled: true, ServerID: "jvb1", Domains: []string{"127.0.0.1:9090"}}
	})
	srv := startDemo(t, vb, Options{SCTP: false})
	a := dialPage(t, srv)
	j := a.join("r", "A")
	if j.SCTPPort != 0 || len(j.Transport.WebSockets) != 1 ||
		!strings.HasPrefix(j.Transport.WebSockets[0], "ws://127.0.0.1:9090/colibri-ws/jvb1/") ||
		!strings.Contains(j.Transport.WebSockets[0], "/"+j.EndpointID+"?pwd=") {
		t.Fatalf("joined without SCTP = sctp %d, web sockets %v", j.SCTPPort, j.Transport.WebSockets)
	}

	srv = startDemo(t, vb, Options{SCTP: true})
	b := dialPage(t, srv)
	b.send(clientMessage{Type: msgJoin, Room: "r2", Name: "B"})
	if m := b.expectError(msgJoin, codeBridge); !strings.Contains(m.Message, "SCTP support is not configured") {
		t.Errorf("message %q", m.Message)
	}
}

// TestSilentPageLeaves: a page whose socket stays open but that no longer answers pings (a
// suspended laptop) leaves its room, and the others are told.
func TestSilentPageLeaves(t *testing.T) {
	vb := newTestBridge(t, nil)
	srv := startDemo(t, vb, Options{SCTP: true, KeepaliveInterval: 20 * time.Millisecond})
	a := dialPage(t, srv)
	ja := a.join("r", "A")
	b := dialPage(t, srv)
	b.join("r", "B")
	// From here on A's client never reads, so it never answers a ping; B keeps reading.
	if m := b.expect(msgParticipantLeft); m.ID != ja.EndpointID {
		t.Fatalf("participant-left = %+v", m)
	}
}
