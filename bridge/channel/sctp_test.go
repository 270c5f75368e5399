package channel

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// dtlsStates is an endpoint.Handler that only reports DTLS state changes.
type dtlsStates chan endpoint.DTLSState

func (dtlsStates) OnRTP([]byte)                 {}
func (dtlsStates) OnRTCP([]byte)                {}
func (dtlsStates) OnICEState(endpoint.ICEState) {}
func (s dtlsStates) OnDTLSState(st endpoint.DTLSState) {
	select {
	case s <- st:
	default:
	}
}

// dcMessage is one message pion received on a data channel.
type dcMessage struct {
	text bool
	data string
}

// browser is a pion/webrtc peer playing lib-jitsi-meet's side of the bridge channel.
type browser struct {
	pc   *webrtc.PeerConnection
	conn *net.UDPConn
	mux  *pionice.UDPMuxDefault
}

// sctpSession connects a bridge endpoint.Transport to a pion peer whose offer, as Jicofo's
// session-initiate becomes in lib-jitsi-meet, has only the data m-line, and returns the
// bridge's DTLS connection once it is up.
func sctpSession(t *testing.T) (*browser, *endpoint.Transport) {
	t.Helper()
	sock, err := udp.Listen(0, udp.Options{Addr: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sock.Close() })
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	port := sock.LocalAddr().Port()
	states := make(dtlsStates, 16)
	cands := []ice.Candidate{{Foundation: "1", Component: 1, Type: ice.TypeHost,
		Addr: netip.MustParseAddr("127.0.0.1"), Port: int(port), Priority: ice.Priority(ice.TypeHost, 65535, 1)}}
	tr, err := endpoint.New(sock, cert, ice.NewCredentials("jvb:"), cands, states, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)

	b := &browser{}
	if b.conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	b.mux = pionice.NewUDPMuxDefault(pionice.UDPMuxParams{UDPConn: b.conn})
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEUDPMux(b.mux)
	if b.pc, err = webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.pc.Close(); _ = b.mux.Close(); _ = b.conn.Close() })

	local := tr.Local()
	offer := strings.Join([]string{
		"v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE data",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
		"a=ice-ufrag:" + local.Ufrag, "a=ice-pwd:" + local.Pwd,
		"a=fingerprint:sha-256 " + cert.Fingerprint, "a=setup:actpass", "a=mid:data",
		"a=sctp-port:5000", "a=max-message-size:262144",
		fmt.Sprintf("a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host", port), "a=end-of-candidates",
	}, "\r\n") + "\r\n"
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("pion rejected the offer: %v", err)
	}
	answer, err := b.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(testWait):
		t.Fatal("pion did not finish gathering")
	}
	if err := tr.SetRemote(remoteOf(t, b.pc.LocalDescription().SDP)); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(testWait)
	for st := endpoint.DTLSNew; st != endpoint.DTLSConnected; {
		select {
		case st = <-states:
			if st == endpoint.DTLSFailed {
				t.Fatal("DTLS failed")
			}
		case <-deadline:
			t.Fatal("bridge DTLS never connected")
		}
	}
	return b, tr
}

// remoteOf extracts what Jicofo forwards to the bridge from pion's answer.
func remoteOf(t *testing.T, sdp string) endpoint.Remote {
	t.Helper()
	r := endpoint.Remote{Fingerprints: map[string][]string{}}
	for _, l := range strings.Split(sdp, "\r\n") {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"):
			r.Ufrag = strings.TrimPrefix(l, "a=ice-ufrag:")
		case strings.HasPrefix(l, "a=ice-pwd:"):
			r.Pwd = strings.TrimPrefix(l, "a=ice-pwd:")
		case strings.HasPrefix(l, "a=fingerprint:"):
			h, v, _ := strings.Cut(strings.TrimPrefix(l, "a=fingerprint:"), " ")
			r.Fingerprints[strings.ToLower(h)] = append(r.Fingerprints[strings.ToLower(h)], v)
		case l == "a=setup:active":
			r.Role = dtls.RoleServer
		case l == "a=setup:passive":
			r.Role = dtls.RoleClient
		}
	}
	if r.Ufrag == "" || r.Pwd == "" || len(r.Fingerprints) == 0 || r.Role == dtls.RoleUnknown {
		t.Fatalf("incomplete answer:\n%s", sdp)
	}
	return r
}

// openJVBChannel opens the bridge channel exactly as lib-jitsi-meet does:
// createDataChannel('JVB data channel', {protocol: 'http://jitsi.org/protocols/colibri'}),
// ordered and negotiated in-band.
func (b *browser) openJVBChannel(t *testing.T) (*webrtc.DataChannel, chan dcMessage, *atomic.Bool) {
	t.Helper()
	proto := DataChannelProtocol
	dc, err := b.pc.CreateDataChannel(DataChannelLabel, &webrtc.DataChannelInit{Protocol: &proto})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan dcMessage, 64)
	var opened atomic.Bool
	dc.OnOpen(func() { opened.Store(true) }) // pion fires it on the bridge's DCEP ACK
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case msgs <- dcMessage{m.IsString, string(m.Data)}:
		default:
		}
	})
	return dc, msgs, &opened
}

func expectDC(t *testing.T, msgs chan dcMessage, want ...bc.Message) {
	t.Helper()
	for i, m := range want {
		select {
		case got := <-msgs:
			if w := string(bc.Marshal(m)); !got.text || got.data != w {
				t.Fatalf("message %d: got %+v, want text %s", i, got, w)
			}
		case <-time.After(testWait):
			t.Fatalf("message %d never came: want %s", i, bc.Marshal(m))
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSCTPDataChannel(t *testing.T) {
	th := newTestHub(t, newFakeConf(cam("ep1", "ep1-v0")), Options{})
	ep1, ep2 := th.add(t, "ep1", false), th.add(t, "ep2", false)
	l2 := connect(t, ep2)
	expect(t, l2, &bc.ForwardedSources{})

	b, tr := sctpSession(t)
	// Both channels are created before the association exists, so pion opens them in this
	// order once it does, and fires OnOpen only on the bridge's DCEP ACK.
	dc, msgs, opened := b.openJVBChannel(t)
	dc2, msgs2, opened2 := b.openJVBChannel(t)
	served := make(chan error, 1)
	go func() { served <- ep1.ServeSCTP(tr.DTLSConn()) }()

	// The bridge accepts the association and answers the OPEN with an ACK (pion's OnOpen);
	// no ServerHello on open, only the resync.
	waitUntil(t, "the data channel to open", opened.Load)
	expectDC(t, msgs, &bc.SenderSourceConstraints{SourceName: "ep1-v0"}, &bc.ForwardedSources{})

	// A second OPEN is ignored: no ACK, and its messages never reach the channel.
	waitUntil(t, "the second OPEN", func() bool { return ep1.Stats().ExtraDataChannels == 1 })
	waitUntil(t, "pion to be able to send on the second channel", func() bool {
		return dc2.ReadyState() == webrtc.DataChannelStateOpen
	})
	if err := dc2.SendText(`{"colibriClass":"ClientHello"}`); err != nil {
		t.Fatal(err)
	}

	// Text (PPID 51) is processed, the reply goes back on the data channel; binary (PPID 53)
	// is counted and ignored.
	if err := dc.Send([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := dc.SendText(`{"colibriClass":"ClientHello"}`); err != nil {
		t.Fatal(err)
	}
	expectDC(t, msgs, &bc.ServerHello{})
	if s := ep1.Stats(); s.Binary != 1 || s.Received != 1 {
		t.Fatalf("stats %+v", s)
	}

	// EndpointMessage both ways.
	receive(t, ep2, l2, `{"colibriClass":"EndpointMessage","to":"ep1","msgPayload":{"hi":true}}`)
	select {
	case got := <-msgs:
		if want := `{"colibriClass":"EndpointMessage","to":"ep1","msgPayload":{"hi":true},"from":"ep2"}`; !got.text || got.data != want {
			t.Fatalf("got %+v, want %s", got, want)
		}
	case <-time.After(testWait):
		t.Fatal("EndpointMessage not delivered over SCTP")
	}
	if err := dc.SendText(`{"colibriClass":"EndpointMessage","to":"ep2","msgPayload":{"n":1}}`); err != nil {
		t.Fatal(err)
	}
	expectRaw(t, l2, `{"colibriClass":"EndpointMessage","to":"ep2","msgPayload":{"n":1},"from":"ep1"}`, 0)
	if opened2.Load() || len(msgs2) != 0 {
		t.Fatalf("the ignored channel was acknowledged or answered (%d messages)", len(msgs2))
	}

	// Endpoint expiry ends ServeSCTP without closing the DTLS connection it does not own.
	th.RemoveEndpoint("ep1")
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("ServeSCTP: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("ServeSCTP did not return")
	}
	if st := b.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Fatalf("pion connection state %v after the channel closed", st)
	}
}

func TestSCTPEndsWithDTLS(t *testing.T) {
	th := newTestHub(t, newFakeConf(), Options{})
	ep := th.add(t, "ep", false)
	b, tr := sctpSession(t)
	_, msgs, opened := b.openJVBChannel(t)
	served := make(chan error, 1)
	go func() { served <- ep.ServeSCTP(tr.DTLSConn()) }()
	waitUntil(t, "the data channel to open", opened.Load)
	expectDC(t, msgs, &bc.ForwardedSources{})

	tr.Close() // the endpoint's transport goes away under the association
	select {
	case err := <-served:
		if err == nil {
			t.Fatal("ServeSCTP returned nil although the DTLS connection failed")
		}
	case <-time.After(testWait):
		t.Fatal("ServeSCTP did not return")
	}
	waitUntil(t, "the data channel to detach", func() bool { return !ep.Connected() })
}
