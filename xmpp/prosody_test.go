package xmpp_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
	"github.com/cityjitsi/videobridge/xmpp"
	"github.com/cityjitsi/videobridge/xmpp/xmpptest"
)

const (
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsHealth  = "http://jitsi.org/protocol/healthcheck"
)

// stubHandler answers like the bridge would: health checks with an empty result, colibri2
// with a fixed response or a conference_not_found error, and records what it saw.
type stubHandler struct {
	mu  sync.Mutex
	iqs []xmpp.IQ
}

func (h *stubHandler) HandleIQ(iq xmpp.IQ, reply func([]byte, error)) {
	h.mu.Lock()
	h.iqs = append(h.iqs, iq)
	h.mu.Unlock()
	switch {
	case iq.Name == "healthcheck":
		reply(nil, nil)
	case strings.Contains(string(iq.Payload), "meeting-id='gone'"):
		reply(nil, &colibri2.Error{Condition: colibri2.CondItemNotFound, Text: "Conference not found",
			Reason: colibri2.ReasonConferenceNotFound})
	default:
		go reply([]byte("<conference-modified xmlns='jitsi:colibri2'/>"), nil)
	}
}

func (h *stubHandler) last() xmpp.IQ {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.iqs[len(h.iqs)-1]
}

// startBridge runs a client for the jvb account (mod edits its config, tune the client before
// Run); it is closed in t.Cleanup.
func startBridge(t *testing.T, p *xmpptest.Prosody, h xmpp.Handler, log *zap.Logger, mod func(*xmpp.Config),
	tune ...func(*xmpp.Client)) *xmpp.Client {
	t.Helper()
	var seq atomic.Int64
	stats := func() []xmpp.Stat {
		return []xmpp.Stat{{Name: "stress_level", Value: "0.01"}, {Name: "drain", Value: "false"},
			{Name: "version", Value: "2.3.99-gtest"}, {Name: "seq", Value: strconv.FormatInt(seq.Add(1), 10)}}
	}
	cfg := xmpp.Config{ID: "shard", Host: p.Host, Port: p.Port, Domain: p.Domain, Username: p.JVB.User,
		Password: p.JVB.Password, MUCJIDs: []string{p.Brewery}, MUCNickname: "jvb-1",
		DisableCertificateVerification: true, PresenceInterval: 50 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := xmpp.New(cfg, h, stats, "2.3.99-gtest", log)
	xmpp.SetBackoffForTest(c, 20*time.Millisecond, 200*time.Millisecond)
	for _, f := range tune {
		f(c)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(xmpptest.WaitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hasStats(e *xmpptest.Element) bool { return e.Stats() != nil }

// TestProsody runs the Jicofo-facing behaviour against a real Prosody, plain and with
// STARTTLS (internal_hashed accounts, self-signed certificate).
func TestProsody(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"plain", false}, {"starttls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := xmpptest.StartProsody(t, xmpptest.Options{TLS: tc.tls})
			f := xmpptest.NewFocus(t, p)
			h := &stubHandler{}
			core, logs := observer.New(zapcore.DebugLevel)
			c := startBridge(t, p, h, zap.New(core), nil, func(c *xmpp.Client) {
				xmpp.SetPingForTest(c, 10*time.Millisecond, xmpptest.WaitTimeout)
			})
			occupant := f.OccupantJID("jvb-1")

			// Jicofo registers a bridge on its first presence with <stats>; drain must be explicit.
			first := f.WaitPresence(t, occupant, hasStats)
			if s := first.Stats(); s["drain"] != "false" || s["stress_level"] != "0.01" || s["version"] != "2.3.99-gtest" {
				t.Errorf("bridge stats %v", s)
			}
			// Re-sent on the interval with fresh values.
			third := f.WaitPresences(t, occupant, hasStats, 3)
			if third.Stats()["seq"] == first.Stats()["seq"] {
				t.Errorf("stats not refreshed: seq %s twice", first.Stats()["seq"])
			}
			st := c.Status()
			if !st.Connected || st.Encrypted != tc.tls || st.MUCsJoined != 1 || !strings.HasPrefix(st.JID, "jvb@auth.meet.test/") {
				t.Errorf("status %+v", st)
			}
			t.Logf("SASL mechanism %s", st.Mechanism)
			// internal_hashed behind STARTTLS is what docker-jitsi runs: the issue requires
			// SCRAM-SHA-1 there, not the PLAIN fallback.
			if tc.tls && st.Mechanism != "SCRAM-SHA-1" {
				t.Errorf("Mechanism = %q, want SCRAM-SHA-1", st.Mechanism)
			}

			// Prosody's answers to our pings are recognized: the next ping only goes out once
			// the previous one was answered.
			waitFor(t, "3 answered pings", func() bool { return logs.FilterMessage("server answered ping").Len() >= 3 })

			// Health check through the occupant JID, as Jicofo's JvbDoctor sends it.
			r := f.SendIQ(t, occupant, "get", "<healthcheck xmlns='"+nsHealth+"'/>")
			if r.Attr("type") != "result" || len(r.Children) != 0 {
				t.Errorf("health check reply %+v", r)
			}
			if iq := h.last(); iq.From != f.OccupantJID("focus") || iq.Type != "get" || iq.Namespace != nsHealth {
				t.Errorf("handler saw %+v", iq)
			}

			// colibri2 via the occupant JID, answered asynchronously.
			r = f.SendIQ(t, occupant, "get", "<conference-modify xmlns='jitsi:colibri2' meeting-id='m1' create='true'/>")
			if r.Attr("type") != "result" || r.Child("jitsi:colibri2", "conference-modified") == nil {
				t.Errorf("conference-modify reply %+v", r)
			}
			if iq := h.last(); iq.Name != "conference-modify" || !strings.Contains(string(iq.Payload), "meeting-id='m1'") {
				t.Errorf("handler saw %+v %s", iq, iq.Payload)
			}

			// A colibri2 error reaches the focus with its extension inside <error>.
			r = f.SendIQ(t, occupant, "get", "<conference-modify xmlns='jitsi:colibri2' meeting-id='gone'/>")
			e := r.Child("jabber:client", "error")
			if r.Attr("type") != "error" || e == nil || e.Child(nsStanzas, "item-not-found") == nil ||
				e.Child("jitsi:colibri2", "error") == nil || e.Child("jitsi:colibri2", "error").Attr("reason") != "conference_not_found" {
				t.Errorf("colibri2 error reply %+v", r)
			}

			// Version, answered by the client itself.
			r = f.SendIQ(t, occupant, "get", "<query xmlns='jabber:iq:version'/>")
			q := r.Child("jabber:iq:version", "query")
			if r.Attr("type") != "result" || q == nil || q.Child("jabber:iq:version", "name").Text != "JVB" ||
				q.Child("jabber:iq:version", "version").Text != "2.3.99-gtest" || q.Child("jabber:iq:version", "os").Text != "Linux" {
				t.Errorf("version reply %+v", r)
			}

			// Straight to the bridge's real JID from the focus account: not via the brewery.
			r = f.SendIQ(t, st.JID, "get", "<healthcheck xmlns='"+nsHealth+"'/>")
			if e := r.Child("jabber:client", "error"); r.Attr("type") != "error" || e == nil || e.Child(nsStanzas, "forbidden") == nil {
				t.Errorf("direct IQ reply %+v", r)
			}
			if got := c.Status().IQsRejected; got != 1 {
				t.Errorf("IQsRejected = %d", got)
			}
		})
	}
}

// TestProsodyRestart kills Prosody under a joined bridge: the client reconnects, logs in again
// and re-joins, and the new focus sees it.
func TestProsodyRestart(t *testing.T) {
	p := xmpptest.StartProsody(t, xmpptest.Options{TLS: true})
	c := startBridge(t, p, &stubHandler{}, nil, nil)
	waitFor(t, "joined", func() bool { return c.Status().MUCsJoined == 1 })
	p.Restart(t)
	f := xmpptest.NewFocus(t, p)
	f.WaitPresence(t, f.OccupantJID("jvb-1"), hasStats)
	waitFor(t, "re-joined", func() bool { return c.Status().MUCsJoined == 1 })
	if got := c.Status().Disconnects; got != 1 {
		t.Errorf("Disconnects = %d, want 1", got)
	}
}

// TestProsodyRoomCreated: the bridge creates a semi-anonymous room (status 201) and submits
// muc#roomconfig_whois=anyone, so a non-moderator occupant sees the bridge's real JID.
func TestProsodyRoomCreated(t *testing.T) {
	p := xmpptest.StartProsody(t, xmpptest.Options{AnonymousRooms: true})
	core, logs := observer.New(zapcore.InfoLevel)
	c := startBridge(t, p, &stubHandler{}, zap.New(core), nil)
	waitFor(t, "room configured", func() bool { return logs.FilterMessage("brewery room configured").Len() == 1 })
	f := xmpptest.NewFocus(t, p)
	pres := f.WaitPresence(t, f.OccupantJID("jvb-1"), hasStats)
	x := pres.Child("http://jabber.org/protocol/muc#user", "x")
	if x == nil || x.Child("http://jabber.org/protocol/muc#user", "item") == nil ||
		x.Child("http://jabber.org/protocol/muc#user", "item").Attr("jid") != c.Status().JID {
		t.Errorf("bridge presence in the configured room: %+v", pres)
	}
}

// TestProsodyNicknameConflict: a second bridge with the same nickname gets 409, keeps its
// connection and joins once the nickname is free.
func TestProsodyNicknameConflict(t *testing.T) {
	p := xmpptest.StartProsody(t, xmpptest.Options{Accounts: []xmpptest.Account{{User: "jvb2", Password: "jvb2pass"}}})
	core, logs := observer.New(zapcore.ErrorLevel)
	first := xmpp.New(xmpp.Config{Host: p.Host, Port: p.Port, Domain: p.Domain, Username: "jvb", Password: "jvbpass",
		MUCJIDs: []string{p.Brewery}, MUCNickname: "jvb-1"}, nil, nil, "v", nil)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(context.Background()) }()
	waitFor(t, "first joined", func() bool { return first.Status().MUCsJoined == 1 })

	second := startBridge(t, p, nil, zap.New(core), func(c *xmpp.Config) { c.Username, c.Password = "jvb2", "jvb2pass" })
	waitFor(t, "conflict logged", func() bool { return logs.FilterMessageSnippet("nickname already in use").Len() >= 1 })
	if st := second.Status(); !st.Connected || st.MUCsJoined != 0 {
		t.Errorf("second bridge during conflict: %+v", st)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	<-firstDone
	waitFor(t, "second joined", func() bool { return second.Status().MUCsJoined == 1 })
	if got := second.Status().Disconnects; got != 0 {
		t.Errorf("Disconnects = %d, want 0", got)
	}
}

// TestProsodyCloseNoLeak: Close makes the bridge leave the room (the focus sees unavailable)
// and every goroutine of the client ends.
func TestProsodyCloseNoLeak(t *testing.T) {
	p := xmpptest.StartProsody(t, xmpptest.Options{TLS: true})
	f := xmpptest.NewFocus(t, p)
	before := runtime.NumGoroutine()
	c := xmpp.New(xmpp.Config{Host: p.Host, Port: p.Port, Domain: p.Domain, Username: "jvb", Password: "jvbpass",
		MUCJIDs: []string{p.Brewery}, MUCNickname: "jvb-1", DisableCertificateVerification: true}, &stubHandler{}, nil, "v", nil)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	f.WaitPresence(t, f.OccupantJID("jvb-1"), hasStats)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	f.WaitPresence(t, f.OccupantJID("jvb-1"), func(e *xmpptest.Element) bool { return e.Attr("type") == "unavailable" })
	waitFor(t, "client goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestProsodyLoginRefused: certificate verification against the self-signed certificate, and
// SECURITY_MODE=required against a server without TLS, both fail the login (and are retried).
func TestProsodyLoginRefused(t *testing.T) {
	tlsP := xmpptest.StartProsody(t, xmpptest.Options{TLS: true})
	plainP := xmpptest.StartProsody(t, xmpptest.Options{})
	for _, tc := range []struct {
		name string
		p    *xmpptest.Prosody
		mod  func(*xmpp.Config)
	}{
		{"certificate verification", tlsP, func(c *xmpp.Config) { c.DisableCertificateVerification = false }},
		{"required without STARTTLS", plainP, func(c *xmpp.Config) { c.SecurityMode = xmpp.SecurityRequired }},
		{"wrong password", plainP, func(c *xmpp.Config) { c.Password = "nope" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startBridge(t, tc.p, nil, nil, tc.mod)
			waitFor(t, "failed logins", func() bool { return c.Status().ConnectFailures >= 2 })
			if c.Status().Connected {
				t.Error("connected")
			}
		})
	}
}
