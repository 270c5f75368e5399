package endpoint

import (
	"bytes"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/srtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/rtcp"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
)

// recorder is a Handler that copies what it receives to channels.
type recorder struct {
	rtp  chan []byte
	rtcp chan []byte
	ice  chan ICEState
	dtls chan DTLSState
}

func newRecorder() *recorder {
	return &recorder{rtp: make(chan []byte, 256), rtcp: make(chan []byte, 64),
		ice: make(chan ICEState, 16), dtls: make(chan DTLSState, 16)}
}

func (r *recorder) OnRTP(b []byte) {
	select {
	case r.rtp <- bytes.Clone(b):
	default:
	}
}

func (r *recorder) OnRTCP(b []byte) {
	select {
	case r.rtcp <- bytes.Clone(b):
	default:
	}
}

func (r *recorder) OnICEState(s ICEState) {
	select {
	case r.ice <- s:
	default:
	}
}

func (r *recorder) OnDTLSState(s DTLSState) {
	select {
	case r.dtls <- s:
	default:
	}
}

func waitFor[T comparable](t *testing.T, ch <-chan T, want T, what string) {
	t.Helper()
	deadline := time.After(testWait)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s = %v", what, want)
		}
	}
}

type fixture struct {
	sock *udp.Socket
	cert *dtls.Certificate
	port uint16
	// noCands gives New no candidates, so the agent anchors its pairs on the socket's own
	// (possibly unspecified) address.
	noCands bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, netip.MustParseAddr("127.0.0.1"))
}

// newFixtureOn binds the socket to addr (the zero Addr: all addresses, dual-stack).
func newFixtureOn(t *testing.T, addr netip.Addr) *fixture {
	t.Helper()
	sock, err := udp.Listen(0, udp.Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{sock: sock, cert: cert, port: sock.LocalAddr().Port()}
}

func (f *fixture) candidates() []ice.Candidate {
	if f.noCands {
		return nil
	}
	return []ice.Candidate{{Foundation: "1", Component: 1, Type: ice.TypeHost,
		Addr: netip.MustParseAddr("127.0.0.1"), Port: int(f.port), Priority: ice.Priority(ice.TypeHost, 65535, 1)}}
}

// session is one bridge Transport connected to one pion peer.
type session struct {
	tr   *Transport
	rec  *recorder
	peer *pionPeer
}

func (f *fixture) connect(t *testing.T, o peerOptions) *session {
	t.Helper()
	s := f.prepare(t, o)
	s.start(t)
	s.await(t)
	return s
}

// prepare creates the bridge transport and the pion peer that answered its offer.
func (f *fixture) prepare(t *testing.T, o peerOptions) *session {
	t.Helper()
	rec := newRecorder()
	tr, err := New(f.sock, f.cert, ice.NewCredentials("jvb:"), f.candidates(), rec, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return &session{tr: tr, rec: rec, peer: newPionPeer(t, tr, f.port, f.cert, o)}
}

// start hands pion's answer to the bridge, as Jicofo's transport update does.
func (s *session) start(t *testing.T) {
	t.Helper()
	if err := s.tr.SetRemote(s.peer.remote); err != nil {
		t.Fatal(err)
	}
}

func (s *session) await(t *testing.T) {
	t.Helper()
	waitFor(t, s.rec.ice, ICEConnected, "bridge ICE state")
	waitFor(t, s.rec.dtls, DTLSConnected, "bridge DTLS state")
	waitFor(t, s.peer.state, webrtc.PeerConnectionStateConnected, "pion connection state")
}

// exchangeMedia checks RTP and RTCP in both directions.
func (s *session) exchangeMedia(t *testing.T) {
	t.Helper()
	// pion → bridge RTP: Handler.OnRTP sees the decrypted packet with pion's SSRC.
	payload := []byte("pion-to-bridge-opus-frame")
	got := s.retry(t, func(i int) {
		_ = s.peer.track.WriteRTP(&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 111,
			SequenceNumber: uint16(100 + i), Timestamp: uint32(960 * i)}, Payload: payload})
	}, s.rec.rtp, "RTP at the bridge")
	var pkt pionrtp.Packet
	if err := pkt.Unmarshal(got); err != nil {
		t.Fatalf("bridge got undecodable RTP: %v", err)
	}
	if pkt.SSRC != s.peer.ssrc || pkt.PayloadType != 111 || !bytes.Equal(pkt.Payload, payload) {
		t.Fatalf("bridge got ssrc %d pt %d payload %q, want ssrc %d pt 111 payload %q",
			pkt.SSRC, pkt.PayloadType, pkt.Payload, s.peer.ssrc, payload)
	}

	// bridge → pion RTP: pion's TrackRemote for the signaled SSRC receives it.
	out := []byte("bridge-to-pion-opus-frame")
	var rtpGot *pionrtp.Packet
	deadline := time.After(testWait)
	for i := 0; rtpGot == nil; i++ {
		raw, _ := (&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 111, SSRC: bridgeSSRC,
			SequenceNumber: uint16(i), Timestamp: uint32(960 * i)}, Payload: out}).Marshal()
		if !s.tr.WriteRTP(raw) {
			t.Fatalf("WriteRTP dropped: %+v", s.tr.Stats())
		}
		select {
		case rtpGot = <-s.peer.fromRTP:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("pion received no RTP from the bridge")
		}
	}
	if rtpGot.SSRC != bridgeSSRC || !bytes.Equal(rtpGot.Payload, out) {
		t.Fatalf("pion got ssrc %d payload %q", rtpGot.SSRC, rtpGot.Payload)
	}

	// pion → bridge RTCP.
	pli := &rtcp.PictureLossIndication{SenderSSRC: s.peer.ssrc, MediaSSRC: bridgeSSRC}
	rawRTCP := s.retry(t, func(int) { _ = s.peer.pc.WriteRTCP([]rtcp.Packet{pli}) }, s.rec.rtcp, "RTCP at the bridge")
	pkts, err := rtcp.Unmarshal(rawRTCP)
	if err != nil || len(pkts) != 1 {
		t.Fatalf("bridge got RTCP %v, %v", pkts, err)
	}
	if gotPLI, ok := pkts[0].(*rtcp.PictureLossIndication); !ok || *gotPLI != *pli {
		t.Fatalf("bridge got RTCP %#v, want %#v", pkts[0], pli)
	}

	// bridge → pion RTCP, to pion's sender.
	back := &rtcp.PictureLossIndication{SenderSSRC: bridgeSSRC, MediaSSRC: s.peer.ssrc}
	raw, _ := back.Marshal()
	deadline = time.After(testWait)
	for done := false; !done; {
		if !s.tr.WriteRTCP(raw) {
			t.Fatalf("WriteRTCP dropped: %+v", s.tr.Stats())
		}
		select {
		case p := <-s.peer.fromRTC:
			if gotPLI, ok := p.(*rtcp.PictureLossIndication); ok && *gotPLI == *back {
				done = true
			}
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("pion received no RTCP from the bridge")
		}
	}
}

// retry calls send until ch yields a value (pion may still be finishing its SRTP setup).
func (s *session) retry(t *testing.T, send func(i int), ch <-chan []byte, what string) []byte {
	t.Helper()
	deadline := time.After(testWait)
	for i := 0; ; i++ {
		send(i)
		select {
		case b := <-ch:
			return b
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s", what)
		}
	}
}

func TestPionInterop(t *testing.T) {
	tests := []struct {
		name     string
		opts     peerOptions
		profile  srtp.Profile
		wildcard bool // dual-stack socket on all addresses, no candidates given to New
	}{
		{"gcm/bridge-dtls-server/prflx", peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM}, srtp.ProfileAEADAES128GCM, false},
		{"cm-sha1-80/bridge-dtls-server", peerOptions{profile: piondtls.SRTP_AES128_CM_HMAC_SHA1_80, signalCands: true},
			srtp.ProfileAES128CMHMACSHA1_80, false},
		{"gcm/bridge-dtls-client", peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM, passive: true, signalCands: true},
			srtp.ProfileAEADAES128GCM, false},
		{"gcm/dual-stack-socket/no-local-candidates", peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM},
			srtp.ProfileAEADAES128GCM, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureOn(t, netip.MustParseAddr("127.0.0.1"))
			if tt.wildcard {
				f.sock.Close()
				f = newFixtureOn(t, netip.Addr{})
				f.noCands = true
			}
			defer f.sock.Close()
			s := f.connect(t, tt.opts)
			defer s.peer.close()
			defer s.tr.Close()
			if s.tr.DTLSConn() == nil {
				t.Fatal("DTLSConn is nil after DTLS connected")
			}
			if got := s.tr.SRTPProfile(); got != tt.profile {
				t.Fatalf("SRTP profile %s, want %s", got, tt.profile)
			}
			if !s.tr.Selected().IsValid() {
				t.Fatal("no selected address")
			}
			s.exchangeMedia(t)
			if s.tr.LastActivity() == 0 {
				t.Fatal("LastActivity not updated by media")
			}
			checkPrefetchSend(t, s.tr)
		})
	}
}

// checkPrefetchSend checks that the stages of PrefetchSend reach what write reads on a
// connected transport, whatever the layout becomes.
func checkPrefetchSend(t *testing.T, tr *Transport) {
	t.Helper()
	var stages [3]prefetch.Batch
	for i := range stages {
		tr.PrefetchSend(i, &stages[i])
	}
	for name, p := range map[string]unsafe.Pointer{"tx": unsafe.Pointer(&tr.tx), "dst": unsafe.Pointer(&tr.dst),
		"stats.rtpOut": unsafe.Pointer(&tr.stats.rtpOut)} {
		if !stages[0].Covers(p) {
			t.Errorf("stage 0 misses %s", name)
		}
	}
	if !stages[1].Covers(unsafe.Pointer(tr.tx.Load())) || !stages[1].Covers(unsafe.Pointer(tr.dst.Load())) {
		t.Error("stage 1 misses the SRTP context or the destination")
	}
	if stages[2].Lines() == 0 {
		t.Error("stage 2 hints nothing")
	}
}

// TestTwoEndpointsAndDrops runs two endpoints on one socket concurrently, injects garbage,
// wrong-ufrag STUN, unknown-source media and forged SRTP, and checks every drop is counted
// while media keeps flowing; then checks that Close leaves no goroutine behind.
func TestTwoEndpointsAndDrops(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t)
	// Both endpoints connect at the same time on the one socket.
	sessions := []*session{
		f.prepare(t, peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM}),
		f.prepare(t, peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM, signalCands: true}),
	}
	for _, s := range sessions {
		s.start(t)
	}
	for _, s := range sessions {
		s.await(t)
	}
	if a, b := sessions[0].tr.Selected(), sessions[1].tr.Selected(); a == b {
		t.Fatalf("both endpoints selected %s", a)
	}

	injectBadTraffic(t, f, sessions[0])
	for _, s := range sessions {
		s.exchangeMedia(t)
	}

	for _, s := range sessions {
		s.peer.close()
		s.tr.Close()
		s.tr.Close() // idempotent
	}
	if err := sessions[0].tr.SetRemote(sessions[0].peer.remote); err == nil {
		t.Fatal("SetRemote after Close succeeded")
	}
	if sessions[0].tr.WriteRTP(make([]byte, 100)) {
		t.Fatal("WriteRTP after Close succeeded")
	}
	f.sock.Close()
	waitNoLeaks(t, before)
}

func injectBadTraffic(t *testing.T, f *fixture, s *session) {
	t.Helper()
	bridge := net.UDPAddrFromAddrPort(f.sock.LocalAddr())
	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	base := f.sock.Stats()

	// Garbage (first byte outside RFC 7983 ranges) and RTP from an unknown address.
	send(t, stranger, bridge, []byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	rtpPkt, _ := (&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 111, SSRC: 5}, Payload: make([]byte, 40)}).Marshal()
	send(t, stranger, bridge, rtpPkt)
	// A Binding request naming a ufrag nobody registered.
	send(t, stranger, bridge, stunRequest(t, "nobody:x", "password-password-pass"))
	// A Binding request naming the endpoint's ufrag but signed with the wrong password.
	send(t, stranger, bridge, stunRequest(t, s.tr.Local().Ufrag+":"+s.peer.remote.Ufrag, "wrong-password-wrong-pwd"))
	waitCounter(t, "socket unknown_kind", func() uint64 { return f.sock.Stats().Dropped(udp.DropUnknownKind) - base.Dropped(udp.DropUnknownKind) }, 1)
	waitCounter(t, "socket no_route", func() uint64 { return f.sock.Stats().Dropped(udp.DropNoRoute) - base.Dropped(udp.DropNoRoute) }, 1)
	waitCounter(t, "socket unknown_ufrag", func() uint64 {
		return f.sock.Stats().Dropped(udp.DropUnknownUfrag) - base.Dropped(udp.DropUnknownUfrag)
	}, 1)
	waitCounter(t, "endpoint stun_auth", func() uint64 { return s.tr.Stats().Dropped(DropSTUNAuth) }, 1)
	if owner := f.sock.Owner(netip.MustParseAddrPort(stranger.LocalAddr().String())); owner != nil {
		t.Fatal("an unauthenticated STUN source was bound to an endpoint")
	}

	// Forged SRTP from the endpoint's own address: authentication fails, counted.
	forged, _ := (&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 111, SSRC: s.peer.ssrc,
		SequenceNumber: 40000}, Payload: bytes.Repeat([]byte{0xab}, 60)}).Marshal()
	forgedRTCP := append([]byte{0x81, 200, 0, 1, 1, 2, 3, 4}, bytes.Repeat([]byte{0xcd}, 24)...)
	if _, err := s.peer.conn.WriteToUDP(forged, bridge); err != nil {
		t.Fatal(err)
	}
	if _, err := s.peer.conn.WriteToUDP(forgedRTCP, bridge); err != nil {
		t.Fatal(err)
	}
	waitCounter(t, "endpoint srtp_auth", func() uint64 { return s.tr.Stats().Dropped(DropAuth) }, 2)
}

func send(t *testing.T, c *net.UDPConn, to *net.UDPAddr, b []byte) {
	t.Helper()
	if _, err := c.WriteToUDP(b, to); err != nil {
		t.Fatal(err)
	}
}

func waitCounter(t *testing.T, what string, get func() uint64, want uint64) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for get() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d, want >= %d", what, get(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitNoLeaks waits until no goroutine of this module's transport or of pion remains and the
// count is back to the test's start.
func waitNoLeaks(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		leak := false
		// The first stack is this goroutine's own, which names this package.
		for _, g := range strings.Split(stacks, "\n\n")[1:] {
			if strings.Contains(g, "bridge/transport/") || strings.Contains(g, "github.com/pion/") {
				leak = true
			}
		}
		if !leak && runtime.NumGoroutine() <= before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left (%d, before %d):\n%s", runtime.NumGoroutine(), before, stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stunRequest(t *testing.T, user, pwd string) []byte {
	t.Helper()
	m, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(user),
		stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// TestFingerprintMismatch: a peer whose certificate does not match the signaled fingerprint
// must fail the handshake (RFC 5763 §5), and no SRTP context may be installed.
func TestFingerprintMismatch(t *testing.T) {
	f := newFixture(t)
	defer f.sock.Close()
	s := f.prepare(t, peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM})
	defer s.peer.close()
	defer s.tr.Close()
	other, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	r := s.peer.remote
	r.Fingerprints = map[string][]string{"sha-256": {other.Fingerprint}}
	if err := s.tr.SetRemote(r); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s.rec.ice, ICEConnected, "bridge ICE state")
	waitFor(t, s.rec.dtls, DTLSFailed, "bridge DTLS state")
	if s.tr.SRTPProfile() != 0 || s.tr.DTLSConn() != nil {
		t.Fatal("SRTP installed after a failed handshake")
	}
}

// TestDTLSWaitsForRole: ICE may connect before the setup attribute is known; DTLS starts
// when a later SetRemote supplies it.
func TestDTLSWaitsForRole(t *testing.T) {
	f := newFixture(t)
	defer f.sock.Close()
	s := f.prepare(t, peerOptions{profile: piondtls.SRTP_AEAD_AES_128_GCM})
	defer s.peer.close()
	defer s.tr.Close()
	r := s.peer.remote
	r.Role, r.Fingerprints = dtls.RoleUnknown, nil
	if err := s.tr.SetRemote(r); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s.rec.ice, ICEConnected, "bridge ICE state")
	if s.tr.DTLSConn() != nil {
		t.Fatal("DTLS started without a role")
	}
	s.start(t)
	waitFor(t, s.rec.dtls, DTLSConnected, "bridge DTLS state")
	s.exchangeMedia(t)
}

// TestCloseWhileConnecting closes transports that never connected (no remote yet, and
// remote credentials nobody answers) and checks nothing is left running.
func TestCloseWhileConnecting(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t)
	idle, err := New(f.sock, f.cert, ice.NewCredentials(""), f.candidates(), newRecorder(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	dialing, err := New(f.sock, f.cert, ice.NewCredentials(""), f.candidates(), rec, nil,
		WithICETimeouts(50*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	remote := Remote{Ufrag: "abcd", Pwd: "0123456789012345678901234", Role: dtls.RoleServer,
		Fingerprints: map[string][]string{"sha-256": {f.cert.Fingerprint}},
		Candidates:   []ice.Candidate{{Type: ice.TypeHost, Addr: netip.MustParseAddr("127.0.0.1"), Port: 9, Priority: 1}}}
	if err := dialing.SetRemote(remote); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f.sock, f.cert, dialing.Local(), nil, newRecorder(), nil); err == nil {
		t.Fatal("a second transport registered the same ufrag")
	}
	waitFor(t, rec.ice, ICEFailed, "ICE state with an unreachable remote")
	idle.Close()
	dialing.Close()
	f.sock.Close()
	waitNoLeaks(t, before)
}

// TestWithConsent checks the mapping of ice4j's consent freshness onto the agent's timers.
func TestWithConsent(t *testing.T) {
	tests := []struct {
		interval                time.Duration
		retrans                 int
		keepalive, disconnected time.Duration
	}{
		{5 * time.Second, 5, 5 * time.Second, 7500 * time.Millisecond}, // JVB's application.conf
		{15 * time.Second, 30, 15 * time.Second, 30 * time.Second},     // ice4j's reference.conf
		{time.Second, -1, time.Second, time.Second},
		{0, 5, 0, 0}, // unset: pion's defaults
	}
	for _, tt := range tests {
		var tr Transport
		WithConsent(tt.interval, tt.retrans)(&tr)
		if tr.keepalive != tt.keepalive || tr.disconnected != tt.disconnected || tr.failed != 0 {
			t.Errorf("WithConsent(%s, %d): keepalive %s disconnected %s failed %s; want %s %s 0",
				tt.interval, tt.retrans, tr.keepalive, tr.disconnected, tr.failed, tt.keepalive, tt.disconnected)
		}
	}
}
