package endpoint

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	piondtls "github.com/pion/dtls/v3"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// bridgeSSRC is the SSRC the bridge sends with in the tests; it is signaled in the offer so
// that pion fires OnTrack for it.
const bridgeSSRC = 0x0b0b0b0b

// testWait bounds every wait in these tests.
const testWait = 10 * time.Second

// pionPeer is an independent WebRTC implementation (pion/webrtc) playing the browser: it
// answers the bridge's offer, so the bridge is ICE-controlling as with Jicofo.
type pionPeer struct {
	pc      *webrtc.PeerConnection
	conn    *net.UDPConn // pion's ICE socket: the test can also send from pion's address
	mux     *pionice.UDPMuxDefault
	track   *webrtc.TrackLocalStaticRTP
	remote  Remote // pion's answer as the bridge's remote description
	ssrc    uint32 // pion's sending SSRC
	fromRTP chan *pionrtp.Packet
	fromRTC chan rtcp.Packet
	state   chan webrtc.PeerConnectionState
}

type peerOptions struct {
	profile     piondtls.SRTPProtectionProfile
	passive     bool // pion answers setup:passive, making the bridge the DTLS client
	signalCands bool // pass pion's candidates to the bridge (else they are peer-reflexive)
}

func newPionPeer(t *testing.T, tr *Transport, sockPort uint16, cert *dtls.Certificate, o peerOptions) *pionPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &pionPeer{
		conn: conn, mux: pionice.NewUDPMuxDefault(pionice.UDPMuxParams{UDPConn: conn}),
		fromRTP: make(chan *pionrtp.Packet, 64), fromRTC: make(chan rtcp.Packet, 64),
		state: make(chan webrtc.PeerConnectionState, 16),
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEUDPMux(p.mux)
	se.SetSRTPProtectionProfiles(o.profile)
	if o.passive {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
			t.Fatal(err)
		}
	}
	var me webrtc.MediaEngine
	opus := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opus, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me))
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	p.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		select {
		case p.state <- s:
		default:
		}
	})
	p.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case p.fromRTP <- pkt:
			default:
			}
		}
	})
	offer := bridgeOffer(tr.Local(), cert.Fingerprint, sockPort)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("pion rejected the offer: %v\n%s", err, offer)
	}
	if p.track, err = webrtc.NewTrackLocalStaticRTP(opus, "audio", "pion"); err != nil {
		t.Fatal(err)
	}
	sender, err := p.pc.AddTrack(p.track)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				select {
				case p.fromRTC <- pk:
				default:
				}
			}
		}
	}()
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(testWait):
		t.Fatal("pion did not finish gathering")
	}
	p.remote, p.ssrc = parseAnswer(t, p.pc.LocalDescription().SDP, o.signalCands)
	return p
}

func (p *pionPeer) close() {
	_ = p.pc.Close()
	_ = p.mux.Close()
	_ = p.conn.Close()
}

// bridgeOffer is the offer a Jingle session-initiate from Jicofo amounts to: one audio m-line,
// rtcp-mux, the bridge's ICE credentials, fingerprint with setup:actpass and its host
// candidate on the shared port.
func bridgeOffer(local ice.Credentials, fingerprint string, port uint16) string {
	lines := []string{
		"v=0",
		"o=- 4611731400430051336 2 IN IP4 127.0.0.1",
		"s=-",
		"t=0 0",
		"a=group:BUNDLE 0",
		"m=audio 9 UDP/TLS/RTP/SAVPF 111",
		"c=IN IP4 0.0.0.0",
		"a=rtcp:9 IN IP4 0.0.0.0",
		"a=ice-ufrag:" + local.Ufrag,
		"a=ice-pwd:" + local.Pwd,
		"a=fingerprint:sha-256 " + fingerprint,
		"a=setup:actpass",
		"a=mid:0",
		"a=sendrecv",
		"a=rtcp-mux",
		"a=rtpmap:111 opus/48000/2",
		fmt.Sprintf("a=ssrc:%d cname:bridge", bridgeSSRC),
		fmt.Sprintf("a=ssrc:%d msid:bridge-stream bridge-track", bridgeSSRC),
		fmt.Sprintf("a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host", port),
		"a=end-of-candidates",
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// parseAnswer extracts what Jicofo would forward to the bridge from pion's answer.
func parseAnswer(t *testing.T, sdp string, withCands bool) (Remote, uint32) {
	t.Helper()
	r := Remote{Fingerprints: map[string][]string{}}
	var ssrc uint32
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
		case strings.HasPrefix(l, "a=ssrc:") && ssrc == 0:
			n, _, _ := strings.Cut(strings.TrimPrefix(l, "a=ssrc:"), " ")
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				t.Fatalf("bad ssrc line %q", l)
			}
			ssrc = uint32(v)
		case strings.HasPrefix(l, "a=candidate:") && withCands:
			r.Candidates = append(r.Candidates, parseCandidate(t, strings.TrimPrefix(l, "a=")))
		}
	}
	if r.Ufrag == "" || r.Pwd == "" || len(r.Fingerprints) == 0 || r.Role == dtls.RoleUnknown || ssrc == 0 {
		t.Fatalf("incomplete answer: %+v ssrc %d\n%s", r, ssrc, sdp)
	}
	return r, ssrc
}

func parseCandidate(t *testing.T, s string) ice.Candidate {
	t.Helper()
	pc, err := pionice.UnmarshalCandidate(s)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := netip.ParseAddr(pc.Address())
	if err != nil {
		t.Fatal(err)
	}
	return ice.Candidate{
		Foundation: pc.Foundation(), Component: int(pc.Component()), Priority: pc.Priority(),
		Type: pc.Type().String(), Addr: addr, Port: pc.Port(),
	}
}
