package media

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// waitUntil polls cond until it holds or waitLimit passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGoroutinesAndCloseConcurrency runs the real egress goroutines while the routing
// changes, then closes everything and checks that no goroutine is left (the race detector
// watches the hand-overs).
func TestGoroutinesAndCloseConcurrency(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t, false)
	a := f.add(jicofoEndpoint("a", 1000, true))
	b := f.add(jicofoEndpoint("b", 2000, true))
	c := f.add(jicofoEndpoint("c", 3000, true))
	b.SetConstraints(720, nil)
	c.SetConstraints(180, nil)
	received := func(id string) func() bool {
		return func() bool {
			f.trs[id].mu.Lock()
			defer f.trs[id].mu.Unlock()
			return len(f.trs[id].rtp) > 20
		}
	}
	done := make(chan struct{})
	go func() { // the socket reader's role
		defer close(done)
		s := simulcastSender{base: 1000}
		for i := range 300 {
			for _, p := range s.next(i%30 == 0) {
				a.OnRTP(p)
			}
			a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: uint16(i), ts: uint32(960 * i), payload: []byte("opus")}.bytes())
			f.clock.Add(int64(33 * time.Millisecond))
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for i := range 20 { // the control plane's role, meanwhile
		c.SetConstraints(180*(i%3), nil)
		f.publish()
	}
	<-done
	waitUntil(t, "b's media", received("b"))
	for _, e := range []*Endpoint{a, b, c} {
		e.Close()
		e.Close() // idempotent
	}
	if got := f.p.Stats().RTPReceived; got != 1200 {
		t.Errorf("plane counted %d received after close, want 1200 (retired endpoints count)", got)
	}
	f.p.Close()
	waitUntil(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if n := packet.DoubleReleases(); n != 0 {
		t.Errorf("%d double releases", n)
	}
	if f.p.Conferences() != 1 {
		t.Errorf("%d conferences", f.p.Conferences())
	}
	f.p.RemoveConference("conf1")
	if f.p.Conferences() != 0 {
		t.Error("conference not removed")
	}
}

// TestEndpointOutsideConfiguration: an endpoint not (yet) in the published configuration
// drops what it receives, and one that left stops getting media.
func TestEndpointOutsideConfiguration(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, false))
	f.add(jicofoEndpoint("b", 2000, false))
	f.cfg = f.cfg[1:] // a leaves the configuration (colibri2 expire in progress)
	f.publish()
	a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: 1, payload: []byte("x")}.bytes())
	f.drain()
	if got := a.Stats().IngressDrops[DropNotConfigured]; got != 1 {
		t.Errorf("not_configured drops %d", got)
	}
	if out, _ := f.trs["b"].take(); len(out) != 0 {
		t.Errorf("b got %d packets from an endpoint outside the configuration", len(out))
	}
	if _, err := f.c.NewEndpoint("b", ice.NewCredentials("")); err == nil {
		t.Error("duplicate endpoint accepted")
	}
}

// TestRealTransportLeavesNoGoroutine: endpoints on the real transport (ICE agent, DTLS
// runner) over a real socket, started toward a peer that never answers, close completely.
func TestRealTransportLeavesNoGoroutine(t *testing.T) {
	sock, err := udp.Listen(0, udp.Options{Addr: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	p := NewPlane(sock, cert, nil, Options{})
	c := p.Conference("conf")
	var eps []*Endpoint
	for _, id := range []string{"a", "b"} {
		e, err := c.NewEndpoint(id, ice.NewCredentials("t:"))
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	c.Update(router.Config{Endpoints: []router.EndpointConfig{jicofoEndpoint("a", 1000, true), jicofoEndpoint("b", 2000, true)}}, 1)
	if err := eps[0].SetRemote(endpoint.Remote{Ufrag: "peer", Pwd: "peer-password-0123456789012",
		Fingerprints: map[string][]string{"sha-256": {"AA"}}, Role: dtls.RoleServer,
		Candidates: []ice.Candidate{{Foundation: "1", Component: 1, Type: ice.TypeHost, Priority: 1,
			Addr: netip.MustParseAddr("127.0.0.1"), Port: 9}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let ICE start checking
	for _, e := range eps {
		e.Close()
	}
	p.Close()
	waitUntil(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
