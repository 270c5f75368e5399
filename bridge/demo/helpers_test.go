package demo

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cityjitsi/videobridge/bridge/control"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// waitLimit guards against hangs; no test relies on timing to pass.
const waitLimit = 5 * time.Second

// newTestBridge is a control.Videobridge on the stand-in transport factory: real ICE
// credentials and certificate fingerprint, one loopback candidate, no media.
func newTestBridge(t testing.TB, mod func(*control.Options)) *control.Videobridge {
	t.Helper()
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	opts := control.Options{SCTPEnabled: true, Transports: &control.CredentialTransports{Certificate: cert,
		Candidates: []ice.Candidate{{Foundation: "1", Component: 1, Priority: 2130706431, Type: ice.TypeHost,
			Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000}}, AdvertisePrivate: true}}
	if mod != nil {
		mod(&opts)
	}
	vb := control.New(opts)
	t.Cleanup(vb.Close)
	return vb
}

// recorder passes requests to the bridge and keeps them, to compare with what Jicofo sends.
type recorder struct {
	inner conferenceModifier
	// drop, when set, swallows matching requests unanswered (a bridge that does not answer).
	drop func(*colibri2.ConferenceModify) bool

	mu   sync.Mutex
	reqs []*colibri2.ConferenceModify
}

func (r *recorder) ConferenceModify(req *colibri2.ConferenceModify, reply func(*colibri2.ConferenceModified, error)) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	drop := r.drop != nil && r.drop(req)
	r.mu.Unlock()
	if !drop {
		r.inner.ConferenceModify(req, reply)
	}
}

func (r *recorder) requests() []*colibri2.ConferenceModify {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*colibri2.ConferenceModify(nil), r.reqs...)
}

// startDemo serves the demo over httptest with the given bridge and options.
func startDemo(t testing.TB, cm conferenceModifier, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newHandler(cm, opts))
	t.Cleanup(srv.Close)
	return srv
}

// page is a signalling client standing in for the page's JavaScript.
type page struct {
	t testing.TB
	c *websocket.Conn
}

func dialPage(t testing.TB, srv *httptest.Server) *page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+SocketPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &page{t: t, c: c}
}

func (p *page) send(v any) {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(websocket.MessageText, b)
}

func (p *page) sendRaw(typ websocket.MessageType, b []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := p.c.Write(ctx, typ, b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) next() serverMessage {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, b, err := p.c.Read(ctx)
	if err != nil {
		p.t.Fatalf("reading a signalling message: %v", err)
	}
	var m serverMessage
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatalf("%s: %v", b, err)
	}
	return m
}

// expect reads the next message and fails unless it has the given type.
func (p *page) expect(typ string) serverMessage {
	p.t.Helper()
	m := p.next()
	if m.Type != typ {
		p.t.Fatalf("got %+v, want a %q message", m, typ)
	}
	return m
}

// expectError reads an error message with the given code.
func (p *page) expectError(request, code string) serverMessage {
	p.t.Helper()
	m := p.expect(msgError)
	if m.Code != code || m.Request != request {
		p.t.Fatalf("got error %s/%s %q, want %s/%s", m.Request, m.Code, m.Message, request, code)
	}
	return m
}

func (p *page) join(room, name string) serverMessage {
	p.t.Helper()
	p.send(clientMessage{Type: msgJoin, Room: room, Name: name})
	return p.expect(msgJoined)
}

// acceptMessage is the page's accept with Chrome-like transport and simulcast sources derived
// from base.
func acceptMessage(base uint32) clientMessage {
	return clientMessage{Type: msgAccept, Transport: chromeTransport(), Sources: []wireSource{
		{Type: "audio", SSRCs: []uint32{base}},
		{Type: "video", SSRCs: []uint32{base + 1, base + 11, base + 2, base + 12, base + 3, base + 13}, Groups: []wireGroup{
			{Semantics: "FID", SSRCs: []uint32{base + 1, base + 11}}, {Semantics: "FID", SSRCs: []uint32{base + 2, base + 12}},
			{Semantics: "FID", SSRCs: []uint32{base + 3, base + 13}}, {Semantics: "SIM", SSRCs: []uint32{base + 1, base + 2, base + 3}},
		}},
	}}
}

// strippedFor is what the other participants must receive for acceptMessage(base).
func strippedFor(id string, base uint32) []wireSource {
	return []wireSource{
		{Type: "audio", Name: id + "-a0", SSRCs: []uint32{base}},
		{Type: "video", Name: id + "-v0", SSRCs: []uint32{base + 1, base + 11},
			Groups: []wireGroup{{Semantics: "FID", SSRCs: []uint32{base + 1, base + 11}}}},
	}
}

// eventually polls cond until it holds or waitLimit passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
