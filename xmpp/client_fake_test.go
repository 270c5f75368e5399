package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// TestFakeIQRouting sends the client requests and checks each answer exactly; every request is
// followed by a ping, so a stanza that must not be answered shows up as the ping's answer
// coming first and alone.
func TestFakeIQRouting(t *testing.T) {
	fs := startFakeServer(t)
	var (
		mu       sync.Mutex
		payloads []IQ
	)
	h := handlerFunc(func(iq IQ, reply func([]byte, error)) {
		mu.Lock()
		payloads = append(payloads, iq)
		mu.Unlock()
		switch iq.Name {
		case "healthcheck":
			reply(nil, nil)
		case "conference-modify":
			go reply([]byte("<conference-modified xmlns='jitsi:colibri2'/>"), nil) // async, another goroutine
		case "expire":
			reply(nil, &colibri2.Error{Condition: colibri2.CondItemNotFound, Text: "Conference not found",
				Reason: colibri2.ReasonConferenceNotFound})
		case "boom":
			reply(nil, errors.New("handler failed"))
			reply(nil, nil) // a second reply is dropped
		}
	})
	runFakeClient(t, fs, h, nil, nil)
	s := fs.accept(t)
	s.join(t)

	focus := fakeRoom + "/focus"
	cm := "<conference-modify xmlns='jitsi:colibri2' meeting-id='m&amp;1'>\n  <endpoint id='e1' create='true'/></conference-modify>"
	colibriErr := string((&colibri2.Error{Condition: colibri2.CondItemNotFound, Text: "Conference not found",
		Reason: colibri2.ReasonConferenceNotFound}).AppendXML(nil))
	stanzaNS := " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'"
	tests := []struct {
		name, send string
		typ, from  string // expected reply; empty typ: no reply
		inner      string
	}{
		{"health check via the room: empty result", "<iq type='get' id='h1' from='" + focus + "' to='" + s.jid + "'>" +
			"<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>", "result", focus, ""},
		{"colibri2 get, async reply", "<iq type='get' id='c1' from='" + focus + "' to='" + s.jid + "'>" + cm + "</iq>",
			"result", focus, "<conference-modified xmlns='jitsi:colibri2'/>"},
		{"colibri2 error keeps extensions", "<iq type='set' id='c2' from='" + focus + "' to='" + s.jid + "'>" +
			"<expire xmlns='jitsi:colibri2'/></iq>", "error", focus, "<error type='cancel'>" + colibriErr + "</error>"},
		{"plain handler error: internal-server-error; second reply dropped", "<iq type='get' id='b1' from='" + focus + "'>" +
			"<boom xmlns='urn:x'/></iq>", "error", focus, "<error type='cancel'><internal-server-error" + stanzaNS + "/>" +
			"<text" + stanzaNS + " xml:lang='en'>handler failed</text></error>"},
		{"version answered by the client", "<iq type='get' id='v1' from='" + focus + "'><query xmlns='jabber:iq:version'/></iq>",
			"result", focus, "<query xmlns='jabber:iq:version'><name>JVB</name><version>2.3.99-gtest</version><os>Linux</os></query>"},
		{"request from the real focus JID: forbidden", "<iq type='get' id='f1' from='focus@" + fakeDomain + "/x'>" +
			"<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>", "error", "focus@" + fakeDomain + "/x",
			"<error type='auth'><forbidden" + stanzaNS + "/></error>"},
		{"ping from anyone", "<iq type='get' id='p1' from='x@y/z'><ping xmlns='urn:xmpp:ping'/></iq>", "result", "x@y/z", ""},
		{"request without child: bad-request", "<iq type='set' id='n1' from='" + focus + "'/>", "error", focus,
			"<error type='modify'><bad-request" + stanzaNS + "/><text" + stanzaNS + " xml:lang='en'>IQ without a child element</text></error>"},
		{"unsolicited result ignored", "<iq type='result' id='zz' from='" + focus + "'/>", "", "", ""},
		{"message ignored", "<message from='" + fakeRoom + "' type='groupchat'><subject>s</subject></message>", "", "", ""},
		{"iq without type ignored", "<iq id='t0' from='" + focus + "'><healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>", "", "", ""},
	}
	for i, tc := range tests {
		s.send(t, tc.send)
		probe := "probe" + strconv.Itoa(i)
		s.send(t, "<iq type='get' id='"+probe+"' from='"+fakeDomain+"'><ping xmlns='urn:xmpp:ping'/></iq>")
		sent := &elem{}
		if err := xml.Unmarshal([]byte(tc.send), sent); err != nil {
			t.Fatal(err)
		}
		// The probe's answer comes after every synchronous reply; an asynchronous one may
		// overtake it, so collect by id.
		replies := map[string]*elem{}
		for n := 0; n < 2 && replies[probe] == nil; n++ {
			r := s.expect(t, "iq")
			replies[r.attr("id")] = r
		}
		if p := replies[probe]; p == nil || p.attr("type") != "result" {
			t.Fatalf("%s: no probe answer; got %v", tc.name, replies)
		}
		if tc.typ == "" {
			if len(replies) != 1 {
				t.Errorf("%s: unexpected reply %v", tc.name, replies)
			}
			continue
		}
		if replies[sent.attr("id")] == nil {
			replies[sent.attr("id")] = s.expect(t, "iq")
		}
		r := replies[sent.attr("id")]
		if r.attr("type") != tc.typ || r.attr("id") != sent.attr("id") || r.attr("to") != tc.from ||
			r.attr("from") != sent.attr("to") || r.Inner != tc.inner {
			t.Errorf("%s: got <iq %v>%s", tc.name, r.Attrs, r.Inner)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(payloads) != 4 {
		t.Fatalf("handler saw %d IQs, want 4", len(payloads))
	}
	want := IQ{ID: "c1", From: focus, To: s.jid, Type: "get", Name: "conference-modify", Namespace: "jitsi:colibri2", Payload: []byte(cm)}
	if got := payloads[1]; got.ID != want.ID || got.From != want.From || got.To != want.To || got.Type != want.Type ||
		got.Name != want.Name || got.Namespace != want.Namespace || string(got.Payload) != string(want.Payload) {
		t.Errorf("handler IQ\n got %+v %s\nwant %+v %s", got, got.Payload, want, want.Payload)
	}
}

// TestFakeReconnect: each kind of broken connection ends the session; the client counts it,
// logs in again and re-joins the room.
func TestFakeReconnect(t *testing.T) {
	tests := []struct {
		name      string
		mod       func(*Client)
		breakConn func(t *testing.T, s *fakeConn)
	}{
		{"malformed XML", nil, func(t *testing.T, s *fakeConn) { s.send(t, "<presence from='a'><<</presence>") }},
		{"oversized stanza", nil, func(t *testing.T, s *fakeConn) {
			_ = s.sendErr("<message><body>" + strings.Repeat("x", MaxStanzaSize+1) + "</body></message>")
		}},
		{"stream error", nil, func(t *testing.T, s *fakeConn) {
			s.send(t, "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
		}},
		{"server closes the stream", nil, func(t *testing.T, s *fakeConn) { s.send(t, "</stream:stream>") }},
		{"TCP reset", nil, func(t *testing.T, s *fakeConn) { s.conn.Close() }},
		{"unanswered ping", func(c *Client) { c.pingInterval, c.pingTimeout = 20*time.Millisecond, 50*time.Millisecond },
			func(t *testing.T, s *fakeConn) {
				if p := s.expect(t, "iq"); !strings.Contains(p.Inner, "urn:xmpp:ping") {
					t.Fatalf("want a ping, got %s", p.Inner)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFakeServer(t)
			c := runFakeClient(t, fs, nil, nil, tc.mod)
			s1 := fs.accept(t)
			s1.join(t)
			waitFor(t, "joined", func() bool { return c.Status().MUCsJoined == 1 })
			tc.breakConn(t, s1)
			s2 := fs.accept(t)
			s2.join(t)
			waitFor(t, "re-joined", func() bool { st := c.Status(); return st.MUCsJoined == 1 && st.JID == s2.jid })
			if got := c.Status().Disconnects; got != 1 {
				t.Errorf("Disconnects = %d, want 1", got)
			}
		})
	}
}

// TestFakePingsKeepSession: answered pings keep the connection; the next ping is only sent
// once the previous one was answered, so three pings on one connection prove pongs are seen.
func TestFakePingsKeepSession(t *testing.T) {
	fs := startFakeServer(t)
	runFakeClient(t, fs, nil, nil, func(c *Client) { c.pingInterval, c.pingTimeout = 10*time.Millisecond, time.Minute })
	s := fs.accept(t)
	s.join(t)
	for i := 0; i < 3; i++ {
		p := s.expect(t, "iq")
		if p.attr("type") != "get" || p.attr("to") != fakeDomain || p.Inner != "<ping xmlns='urn:xmpp:ping'/>" {
			t.Fatalf("ping %d: <iq %v>%s", i, p.Attrs, p.Inner)
		}
		s.send(t, "<iq type='result' id='"+p.attr("id")+"' from='"+fakeDomain+"' to='"+s.jid+"'/>")
	}
}

// TestFakeSpoofedPong: a result from someone else than the server does not count as a pong.
func TestFakeSpoofedPong(t *testing.T) {
	fs := startFakeServer(t)
	c := runFakeClient(t, fs, nil, nil, func(c *Client) { c.pingInterval, c.pingTimeout = 10*time.Millisecond, 100*time.Millisecond })
	s := fs.accept(t)
	s.join(t)
	p := s.expect(t, "iq")
	s.send(t, "<iq type='result' id='"+p.attr("id")+"' from='mallory@"+fakeDomain+"/x'/>")
	fs.accept(t).join(t)
	if got := c.Status().Disconnects; got != 1 {
		t.Errorf("Disconnects = %d, want 1", got)
	}
}

// TestFakePresence: join carries stats and the MUC <x/>; interval updates and SendPresenceNow
// carry fresh stats without <x/>; a created room gets the whois=anyone form.
func TestFakePresence(t *testing.T) {
	fs := startFakeServer(t)
	var n atomic.Int64
	stats := func() []Stat {
		return []Stat{{"drain", "false"}, {"n", strconv.FormatInt(n.Add(1), 10)}}
	}
	c := runFakeClient(t, fs, nil, stats, nil)
	s := fs.accept(t)
	j := s.join(t, "201")
	if want := "<x xmlns='http://jabber.org/protocol/muc'/><stats xmlns='http://jitsi.org/protocol/colibri'>" +
		"<stat name='drain' value='false'/><stat name='n' value='1'/></stats>"; j.Inner != want {
		t.Errorf("join presence %s, want %s", j.Inner, want)
	}
	cfg := s.expect(t, "iq")
	if cfg.attr("type") != "set" || cfg.attr("to") != fakeRoom ||
		!strings.Contains(cfg.Inner, "<field var='muc#roomconfig_whois'><value>anyone</value></field>") {
		t.Errorf("room config: <iq %v>%s", cfg.Attrs, cfg.Inner)
	}
	s.send(t, "<iq type='result' id='"+cfg.attr("id")+"' from='"+fakeRoom+"'/>")
	waitFor(t, "joined", func() bool { return c.Status().MUCsJoined == 1 })
	c.SendPresenceNow()
	u := s.expect(t, "presence")
	if want := "<stats xmlns='http://jitsi.org/protocol/colibri'><stat name='drain' value='false'/><stat name='n' value='2'/></stats>"; u.attr("to") != fakeOccupant || u.Inner != want {
		t.Errorf("update presence to %s: %s, want %s", u.attr("to"), u.Inner, want)
	}
}

func TestFakePresenceInterval(t *testing.T) {
	fs := startFakeServer(t)
	var n atomic.Int64
	stats := func() []Stat { return []Stat{{"n", strconv.FormatInt(n.Add(1), 10)}} }
	c := runFakeClient(t, fs, nil, stats, func(c *Client) { c.cfg.PresenceInterval = 10 * time.Millisecond })
	s := fs.accept(t)
	s.join(t)
	waitFor(t, "joined", func() bool { return c.Status().MUCsJoined == 1 })
	prev := ""
	for i := 0; i < 3; i++ {
		u := s.expect(t, "presence")
		if strings.Contains(u.Inner, "http://jabber.org/protocol/muc'") || u.Inner == prev {
			t.Fatalf("update %d: %s (previous %s)", i, u.Inner, prev)
		}
		prev = u.Inner
	}
}

// TestFakeNicknameConflict: a 409 is retried on the same connection after a backoff.
func TestFakeNicknameConflict(t *testing.T) {
	fs := startFakeServer(t)
	c := runFakeClient(t, fs, nil, nil, nil)
	s := fs.accept(t)
	s.expect(t, "presence")
	s.send(t, "<presence from='"+fakeOccupant+"' type='error'><error type='cancel'>"+
		"<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>")
	s.join(t)
	waitFor(t, "joined", func() bool { return c.Status().MUCsJoined == 1 })
	if got := c.Status().Disconnects; got != 0 {
		t.Errorf("Disconnects = %d, want 0 (conflict must not drop the connection)", got)
	}
	// Removed from the room (e.g. kicked): re-join on the same connection.
	s.send(t, "<presence from='"+fakeOccupant+"' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>"+
		"<status code='110'/><status code='307'/></x></presence>")
	s.join(t)
}

// TestFakeCloseLeaves: Close sends unavailable presence and closes the stream, Run returns nil
// and no goroutine of the client is left.
func TestFakeCloseLeaves(t *testing.T) {
	fs := startFakeServer(t)
	before := runtime.NumGoroutine()
	cfg := Config{Host: "127.0.0.1", Port: fs.port(), Domain: fakeDomain, Username: "jvb", Password: "pw",
		MUCJIDs: []string{fakeRoom}, MUCNickname: fakeNick, SecurityMode: SecurityDisabled}
	c := New(cfg, nil, nil, "v", nil)
	c.pingInterval = 10 * time.Millisecond // keep the timer loop busy
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	s := fs.accept(t)
	s.join(t)
	waitFor(t, "joined", func() bool { return c.Status().MUCsJoined == 1 })
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	sawLeave := false
	for {
		e, err := s.next()
		if errors.Is(err, errClientStreamEnd) {
			break
		}
		if err != nil {
			t.Fatalf("reading client stream: %v", err)
		}
		if e.XMLName.Local == "iq" && e.attr("type") == "get" {
			s.send(t, "<iq type='result' id='"+e.attr("id")+"' from='"+fakeDomain+"'/>")
		}
		if e.XMLName.Local == "presence" && e.attr("type") == "unavailable" && e.attr("to") == fakeOccupant {
			sawLeave = true
		}
	}
	if !sawLeave {
		t.Error("no unavailable presence before the stream end")
	}
	s.send(t, "</stream:stream>")
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after Close = %v, want nil", err)
	}
	if st := c.Status(); st.Connected || st.MUCsJoined != 0 {
		t.Errorf("status after Close: %+v", st)
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestRunLifecycle(t *testing.T) {
	cfg := Config{Host: "127.0.0.1", Port: 1, Username: "u", Password: "p", MUCJIDs: []string{"r@m"}, MUCNickname: "n"}

	c := New(cfg, nil, nil, "", nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Errorf("Run after Close = %v, want nil", err)
	}

	if err := New(Config{}, nil, nil, "", nil).Run(context.Background()); !errors.Is(err, ErrNoHost) {
		t.Errorf("Run with empty config = %v, want ErrNoHost", err)
	}

	// Nothing listens on port 1: login fails and is retried until ctx ends.
	c = New(cfg, nil, nil, "", nil)
	c.backoffMin, c.backoffMax = time.Millisecond, 2*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, "retries", func() bool { return c.Status().ConnectFailures >= 3 })
	if err := c.Run(ctx); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run = %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}
