package integration

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
	"github.com/cityjitsi/videobridge/integration/focus"
)

const mediaMeeting = "5f0c2a8e-0d4b-4c1e-9a77-2c4f0b8d9e31"

// TestMediaThreeParticipants runs three pion/webrtc clients (an independent WebRTC stack)
// through the real bridge process, allocated by the focus emulator as Jicofo would, each
// sending Opus-like audio and 3-layer VP8 simulcast. It checks the forwarding rules of
// media.md §2: audio to everyone on its SSRC; video only on the first SIM SSRC and only
// under constraints; a layer switch at a keyframe with continuous numbering; NACK answered
// by RTX downstream and losses NACKed upstream; PLI reaching the sender, throttled; SRs
// translated; both SRTP profiles; and expiry stopping media.
func TestMediaThreeParticipants(t *testing.T) {
	p := debianProsody(t, false)
	f := joinFocus(t, p)
	rb := startBridge(t, debianConf(t, p)+"videobridge.apis.rest.enabled = true\nvideobridge.health.require-valid-address = false\n")
	ctx := ctxT(t, 60*time.Second)
	if _, err := f.WaitBridge(ctx, debianNick, nil); err != nil {
		t.Fatal(err)
	}
	clients := connectClients(t, ctx, f)
	a, b, c := clients[0], clients[1], clients[2]
	checkAudioWithoutVideo(t, clients)
	check180(t, rb, clients)
	checkSwitchTo720(t, rb, a, b)
	checkLossRepaired(t, a, b, c)
	checkPLIThrottled(t, a, b)
	// SRs from c reach a translated: on the SSRC a is sent, counts of what a was sent.
	eventually(t, a.id+" gets translated SRs of "+c.id, func() bool { return a.srCount(c.videoSSRC[0]) > 0 })
	a.checkSR(t, c.videoSSRC[0])
	checkRTT(t, rb)
	checkMetrics(t, rb)
	checkExpiry(t, ctx, f, a, b, c)
	for _, c := range clients {
		c.close()
	}
	// Run with GOFLAGS=-race, the bridge itself is a race-detector build: it must stay clean.
	rb.stop(t)
	if log, err := os.ReadFile(rb.logPath); err != nil || strings.Contains(string(log), "DATA RACE") ||
		strings.Contains(string(log), "panic:") {
		t.Errorf("bridge log has a race or panic (%v):\n%s", err, tailLines(string(log), 80))
	}
}

// connectClients allocates three endpoints as Jicofo does and connects a pion client to
// each: the first and third negotiate only AEAD_AES_128_GCM, the second only
// AES_CM_128_HMAC_SHA1_80, so both SRTP profiles carry media.
func connectClients(t *testing.T, ctx context.Context, f *focus.Focus) []*client {
	profiles := []piondtls.SRTPProtectionProfile{piondtls.SRTP_AEAD_AES_128_GCM,
		piondtls.SRTP_AES128_CM_HMAC_SHA1_80, piondtls.SRTP_AEAD_AES_128_GCM}
	var clients []*client
	for i, id := range []string{"aaaa0001", "bbbb0002", "cccc0003"} {
		req := focus.AllocateRequest(mediaMeeting, roomJID, i == 0, id, "stats-"+id, false)
		// Classic SSRC mode: without the ssrc-rewriting capability (media.md §2.3).
		req.Endpoints[0].Capabilities = []string{colibri2.CapSourceNames}
		res, err := f.Do(ctx, debianNick, req)
		if err != nil {
			t.Fatalf("allocate %s: %v", id, err)
		}
		clients = append(clients, newClient(t, id, res.Endpoints[0].Transport.ICE, profiles[i]))
	}
	// Round 1: each client answers an offer for what it sends; Jicofo forwards its transport
	// and sources (session-accept).
	for _, c := range clients {
		c.negotiate(c.offer(nil))
		if _, err := f.Do(ctx, debianNick, focus.AcceptRequest(mediaMeeting, c.id, "stats-"+c.id, c.ufrag, c.pwd,
			c.fingerprint, c.sources())); err != nil {
			t.Fatalf("accept %s: %v", c.id, err)
		}
	}
	// Round 2: source-add of the other participants. Jicofo's strip-simulcast signals only
	// the primary SSRC and its FID partner, so pion gets no SIM group (which it rejects).
	for _, c := range clients {
		var others []*client
		for _, o := range clients {
			if o != c {
				others = append(others, o)
			}
		}
		c.negotiate(c.offer(others))
	}
	for _, c := range clients {
		c.waitConnected(ctx)
		go c.send(ctx)
	}
	return clients
}

// checkAudioWithoutVideo: audio reaches both others on the sender's SSRC, with its audio
// level; no video yet (JVB's initial maxHeight is 0).
func checkAudioWithoutVideo(t *testing.T, clients []*client) {
	for _, rx := range clients {
		for _, tx := range clients {
			if rx != tx {
				eventually(t, rx.id+" hears "+tx.id, func() bool { return rx.count(tx.audioSSRC, allPackets) >= 20 })
				if !rx.has(tx.audioSSRC, func(p rxPacket) bool { return p.level }) {
					t.Errorf("%s: audio of %s without the ssrc-audio-level extension", rx.id, tx.id)
				}
			}
		}
	}
	for _, rx := range clients {
		for _, tx := range clients {
			if rx != tx && rx.count(tx.videoSSRC[0], allPackets) != 0 {
				t.Errorf("%s got video of %s before any constraints", rx.id, tx.id)
			}
		}
	}
}

// check180: at 180p everywhere only encoding 0 arrives, on the first SIM SSRC (the only one
// the clients know).
func check180(t *testing.T, rb *runningBridge, clients []*client) {
	for _, c := range clients {
		setConstraints(t, rb, c.id, `{"defaultConstraints":{"maxHeight":180}}`)
	}
	for _, rx := range clients {
		for _, tx := range clients {
			if rx != tx {
				eventually(t, rx.id+" sees "+tx.id+" at 180p", func() bool { return rx.count(tx.videoSSRC[0], allPackets) >= 30 })
				if rx.has(tx.videoSSRC[0], func(p rxPacket) bool { return p.enc != 0 }) {
					t.Errorf("%s got an encoding other than 0 from %s at 180p", rx.id, tx.id)
				}
			}
		}
	}
}

// checkSwitchTo720: a raises b's video to 720p; the switch to encoding 2 happens at its
// keyframe, with continuous sequence numbers, picture IDs +1 and timestamps moving forward.
func checkSwitchTo720(t *testing.T, rb *runningBridge, a, b *client) {
	setConstraints(t, rb, a.id, fmt.Sprintf(`{"defaultConstraints":{"maxHeight":180},"constraints":{"%s-v0":{"maxHeight":720}}}`, b.id))
	eventually(t, a.id+" switches to 720p", func() bool { return a.count(b.videoSSRC[0], func(p rxPacket) bool { return p.enc == 2 }) >= 10 })
	checkSwitch(t, a.packets(b.videoSSRC[0]))
	t.Logf("switch seen by %s: %d packets of %s's video", a.id, len(a.packets(b.videoSSRC[0])), b.id)
}

// checkLossRepaired: downstream, b drops three packets of a's video as they arrive and its
// NACKs are answered by the bridge with RTX (the FID SSRC, RTX payload type 96); upstream,
// c loses three packets of its encoding 0 before they leave, the bridge NACKs them, c
// retransmits by RTX, and b (at 180p) gets those frames after all.
func checkLossRepaired(t *testing.T, a, b, c *client) {
	lostDown := b.lossy.planIn(a.videoSSRC[0], 3, 7)
	eventually(t, "RTX repairs at "+b.id, func() bool {
		return len(lostDown.done()) == 3 && b.count(a.videoSSRC[0], func(p rxPacket) bool {
			return p.rtx && p.rtxSSRC == a.rtxSSRC[0] && p.rtxPT == 96 && lostDown.contains(p.seq)
		}) >= 3
	})
	lostUp := c.lossy.planOut(c.videoSSRC[0], 3, 5)
	eventually(t, c.id+" retransmits what the bridge NACKed", func() bool {
		dropped := lostUp.done()
		return len(dropped) == 3 && c.lossy.retransmitted(dropped)
	})
	frames := lostUp.frames()
	t.Logf("downstream loss at %s repaired by RTX: %v; upstream loss at %s: %v (frames %v)", b.id, lostDown.done(),
		c.id, lostUp.done(), frames)
	eventually(t, b.id+" gets "+c.id+"'s repaired frames", func() bool {
		return b.count(c.videoSSRC[0], func(p rxPacket) bool { return frames[p.frame] && p.enc == 0 }) >= 3
	})
}

// checkPLIThrottled: PLIs from b for a's video, every 40 ms for one second, reach a at most
// 3 times per 10 s per receiver and source (media.md §2.6).
func checkPLIThrottled(t *testing.T, a, b *client) {
	time.Sleep(300 * time.Millisecond) // let keyframe requests of the earlier steps settle
	before := a.plis.Load()
	for range 25 {
		b.sendPLI(a.videoSSRC[0])
		time.Sleep(40 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	t.Logf("PLIs reaching %s: %d of 25 sent by %s (%d in total)", a.id, a.plis.Load()-before, b.id, a.plis.Load())
	if got := a.plis.Load() - before; got < 1 || got > 3 {
		t.Errorf("25 PLIs from %s reached %s %d times, want 1 to 3", b.id, a.id, got)
	}
}

// checkRTT: the receivers' RRs name the SRs the bridge forwarded them, which gives their
// round-trip times; /colibri/stats reports the mean as rtt_aggregate (ms). On loopback it is
// far under 250 ms, which it would not be without the receivers' delays (DLSR, up to pion's
// 1 s report interval) taken off.
func checkRTT(t *testing.T, rb *runningBridge) {
	var rtt float64
	eventually(t, "rtt_aggregate measured", func() bool {
		_, body := rb.get(t, "/colibri/stats")
		var stats struct {
			RTT float64 `json:"rtt_aggregate"`
		}
		if err := json.Unmarshal([]byte(body), &stats); err != nil {
			t.Fatalf("/colibri/stats: %v: %s", err, body)
		}
		rtt = stats.RTT
		return rtt > 0
	})
	t.Logf("rtt_aggregate %.3f ms", rtt)
	if rtt >= 250 {
		t.Errorf("rtt_aggregate %.1f ms on loopback", rtt)
	}
}

// checkMetrics: /metrics counts what happened.
func checkMetrics(t *testing.T, rb *runningBridge) {
	_, metrics := rb.get(t, "/metrics")
	for _, re := range []string{`jitsi_jvb_retransmissions_sent_total [1-9]`, `jitsi_jvb_keyframe_requests_throttled_total [1-9]`,
		`jitsi_jvb_packets_dropped_total\{reason="not_target_encoding",stage="egress"\} [1-9]`,
		`jitsi_jvb_packets_received_total [1-9]`} {
		if !regexp.MustCompile(re).MatchString(metrics) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
}

// checkExpiry: a colibri2 expire of c stops its media both ways; a and b go on.
func checkExpiry(t *testing.T, ctx context.Context, f *focus.Focus, a, b, c *client) {
	if _, err := f.Do(ctx, debianNick, focus.ExpireEndpointRequest(mediaMeeting, c.id)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	fromC, toC, ab := a.count(c.audioSSRC, allPackets), c.count(a.audioSSRC, allPackets), b.count(a.audioSSRC, allPackets)
	time.Sleep(time.Second)
	if a.count(c.audioSSRC, allPackets) != fromC || c.count(a.audioSSRC, allPackets) != toC {
		t.Errorf("media flows after expiry: from c %d→%d, to c %d→%d", fromC, a.count(c.audioSSRC, allPackets),
			toC, c.count(a.audioSSRC, allPackets))
	}
	if n := b.count(a.audioSSRC, allPackets); n < ab+25 {
		t.Errorf("a→b audio stalled after c left: %d→%d packets in 1 s", ab, n)
	}
}

// checkSwitch asserts the projection across the 180p→720p switch in one receiver's stream.
func checkSwitch(t *testing.T, pkts []rxPacket) {
	t.Helper()
	var media []rxPacket
	for _, p := range pkts {
		if !p.rtx {
			media = append(media, p)
		}
	}
	first := -1
	for i, p := range media {
		if p.enc == 2 {
			first = i
			break
		}
	}
	if first < 1 {
		t.Fatalf("no switch seen in %d packets", len(media))
	}
	sw, prev := media[first], media[first-1]
	if !sw.key || sw.w != 1280 || sw.h != 720 {
		t.Errorf("first encoding-2 packet is not its keyframe: %+v", sw)
	}
	if sw.seq != prev.seq+1 || sw.pic != (prev.pic+1)&0x7fff || int32(sw.ts-prev.ts) <= 0 {
		t.Errorf("switch not continuous: %+v after %+v", sw, prev)
	}
	for i := 1; i < len(media); i++ {
		if media[i].enc < media[i-1].enc {
			t.Errorf("went back from encoding %d to %d", media[i-1].enc, media[i].enc)
		}
	}
}

func setConstraints(t *testing.T, rb *runningBridge, ep, body string) {
	t.Helper()
	if code, resp := rb.post(t, "/debug/constraints/"+mediaMeeting+"/"+ep, body); code != 204 {
		t.Fatalf("constraints for %s: %d %s", ep, code, resp)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- the pion client ----

// rxPacket is what a client received on one SSRC (RTX already unwrapped by pion).
type rxPacket struct {
	seq     uint16
	ts      uint32
	rtx     bool
	rtxSSRC uint32
	rtxPT   uint8
	level   bool
	pic     uint16
	key     bool
	w, h    uint16
	enc     byte
	frame   uint16
}

func allPackets(rxPacket) bool { return true }

type client struct {
	t           *testing.T
	id          string
	bridge      *colibri2.ICEUDPTransport
	pc          *webrtc.PeerConnection
	lossy       *lossy
	audio       *webrtc.TrackLocalStaticRTP
	video       [3]*webrtc.TrackLocalStaticRTP
	audioSSRC   uint32
	videoSSRC   [3]uint32
	rtxSSRC     [3]uint32
	ufrag, pwd  string
	fingerprint string
	connected   chan struct{}
	keyframe    atomic.Bool
	plis        atomic.Int64

	mu  sync.Mutex
	got map[uint32][]rxPacket
	srs map[uint32][]rtcp.SenderReport
}

func newClient(t *testing.T, id string, bridge *colibri2.ICEUDPTransport, profile piondtls.SRTPProtectionProfile) *client {
	c := &client{t: t, id: id, bridge: bridge, lossy: newLossy(), connected: make(chan struct{}),
		got: map[uint32][]rxPacket{}, srs: map[uint32][]rtcp.SenderReport{}}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetSRTPProtectionProfiles(profile)
	me := &webrtc.MediaEngine{}
	must(t, me.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		webrtc.RTPCodecTypeAudio))
	fb := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}}
	must(t, me.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 100, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}}, webrtc.RTPCodecTypeVideo))
	must(t, me.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: "apt=100"}}, webrtc.RTPCodecTypeVideo))
	must(t, me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio))
	ir := &interceptor.Registry{}
	ir.Add(c.lossy) // first: nearest the network, so NACK logic sees its drops
	must(t, webrtc.ConfigureNack(me, ir))
	must(t, webrtc.ConfigureRTCPReports(ir))
	must(t, webrtc.ConfigureTWCCHeaderExtensionSender(me, ir))
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	var err error
	c.pc, err = api.NewPeerConnection(webrtc.Configuration{})
	must(t, err)
	var once sync.Once
	c.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(c.connected) })
		}
	})
	c.pc.OnTrack(c.onTrack)
	c.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "a", id)
	must(t, err)
	c.addTrack(c.audio)
	for e := range c.video {
		c.video[e], err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"v"+strconv.Itoa(e), id)
		must(t, err)
		c.addTrack(c.video[e])
	}
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// addTrack adds a send track and reads its RTCP: a PLI or FIR makes the next frame a
// keyframe on every encoding (as Chrome does).
func (c *client) addTrack(tr webrtc.TrackLocal) {
	s, err := c.pc.AddTrack(tr)
	must(c.t, err)
	go func() {
		for {
			pkts, _, err := s.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					c.plis.Add(1)
					c.keyframe.Store(true)
				}
			}
		}
	}()
}

// offer is the Jingle offer Jicofo would send: the client's own send m-lines (audio and one
// per simulcast encoding) plus, per other participant, audio and video with the SSRCs Jicofo
// signals under strip-simulcast (primary + FID RTX).
func (c *client) offer(others []*client) string {
	ice := c.bridge
	var cand string
	for _, cd := range ice.Candidates {
		if cd.IP == "127.0.0.1" {
			cand = fmt.Sprintf("a=candidate:%s 1 udp %d 127.0.0.1 %d typ host", cd.Foundation, cd.Priority, cd.Port)
			break
		}
	}
	transport := []string{"c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0", "a=ice-ufrag:" + ice.Ufrag, "a=ice-pwd:" + ice.Pwd,
		"a=fingerprint:sha-256 " + ice.Fingerprints[0].Fingerprint, "a=setup:actpass", "a=rtcp-mux"}
	audio := func(mid, dir string) []string {
		return append(append([]string{"m=audio 9 UDP/TLS/RTP/SAVPF 111"}, transport...), "a=mid:"+mid, "a="+dir,
			"a=extmap:1 "+sdp.AudioLevelURI, "a=extmap:5 "+sdp.TransportCCURI, "a=rtpmap:111 opus/48000/2",
			"a=fmtp:111 minptime=10;useinbandfec=1", "a=rtcp-fb:111 transport-cc")
	}
	video := func(mid, dir string) []string {
		return append(append([]string{"m=video 9 UDP/TLS/RTP/SAVPF 100 96"}, transport...), "a=mid:"+mid, "a="+dir,
			"a=extmap:5 "+sdp.TransportCCURI, "a=rtpmap:100 VP8/90000", "a=rtcp-fb:100 ccm fir", "a=rtcp-fb:100 nack",
			"a=rtcp-fb:100 nack pli", "a=rtcp-fb:100 transport-cc", "a=rtpmap:96 rtx/90000", "a=fmtp:96 apt=100")
	}
	ssrc := func(s uint32, owner, track string) []string {
		return []string{fmt.Sprintf("a=ssrc:%d cname:%s", s, owner), fmt.Sprintf("a=ssrc:%d msid:%s %s", s, owner, track)}
	}
	mids := []string{"0", "1", "2", "3"}
	m := audio("0", "recvonly")
	m = append(m, cand, "a=end-of-candidates")
	for e := 1; e <= 3; e++ {
		m = append(m, video(strconv.Itoa(e), "recvonly")...)
	}
	for _, o := range others {
		mids = append(mids, "a"+o.id, "v"+o.id)
		m = append(m, audio("a"+o.id, "sendonly")...)
		m = append(m, ssrc(o.audioSSRC, o.id, o.id+"-a0")...)
		m = append(m, video("v"+o.id, "sendonly")...)
		m = append(m, fmt.Sprintf("a=ssrc-group:FID %d %d", o.videoSSRC[0], o.rtxSSRC[0]))
		m = append(m, ssrc(o.videoSSRC[0], o.id, o.id+"-v0")...)
		m = append(m, ssrc(o.rtxSSRC[0], o.id, o.id+"-v0")...)
	}
	head := []string{"v=0", "o=- 1923518516 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE " + strings.Join(mids, " "),
		"a=msid-semantic: WMS *"}
	return strings.Join(append(head, m...), "\r\n") + "\r\n"
}

// negotiate applies an offer and records pion's answer and SSRCs.
func (c *client) negotiate(offer string) {
	t := c.t
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("%s rejected the offer: %v\n%s", c.id, err, offer)
	}
	answer, err := c.pc.CreateAnswer(nil)
	must(t, err)
	gathered := webrtc.GatheringCompletePromise(c.pc)
	must(t, c.pc.SetLocalDescription(answer))
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("pion did not finish gathering")
	}
	for _, l := range strings.Split(c.pc.LocalDescription().SDP, "\r\n") {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"):
			c.ufrag = strings.TrimPrefix(l, "a=ice-ufrag:")
		case strings.HasPrefix(l, "a=ice-pwd:"):
			c.pwd = strings.TrimPrefix(l, "a=ice-pwd:")
		case strings.HasPrefix(l, "a=fingerprint:sha-256 "):
			c.fingerprint = strings.TrimPrefix(l, "a=fingerprint:sha-256 ")
		}
	}
	for _, tr := range c.pc.GetTransceivers() {
		s := tr.Sender()
		if s == nil || s.Track() == nil {
			continue
		}
		enc := s.GetParameters().Encodings[0]
		switch s.Track() {
		case c.audio:
			c.audioSSRC = uint32(enc.SSRC)
		default:
			for e := range c.video {
				if s.Track() == c.video[e] {
					c.videoSSRC[e], c.rtxSSRC[e] = uint32(enc.SSRC), uint32(enc.RTX.SSRC)
				}
			}
		}
	}
	if c.audioSSRC == 0 || c.videoSSRC[2] == 0 || c.rtxSSRC[2] == 0 {
		t.Fatalf("%s: SSRCs not negotiated: audio %d video %v rtx %v", c.id, c.audioSSRC, c.videoSSRC, c.rtxSSRC)
	}
}

// sources is the client's source set as Jicofo forwards it: audio and a SIM group with FID
// pairs.
func (c *client) sources() *colibri2.Sources {
	v := c.id + "-v0"
	vs := colibri2.MediaSource{Type: "video", ID: v, SSRCGroups: []colibri2.SSRCGroup{
		{Semantics: "SIM", SSRCs: c.videoSSRC[:]}}}
	for e := range c.video {
		vt := ""
		if e == 0 {
			vt = "camera"
		}
		vs.Sources = append(vs.Sources, colibri2.Source{SSRC: c.videoSSRC[e], Name: v, VideoType: vt},
			colibri2.Source{SSRC: c.rtxSSRC[e], Name: v})
		vs.SSRCGroups = append(vs.SSRCGroups, colibri2.SSRCGroup{Semantics: "FID", SSRCs: []uint32{c.videoSSRC[e], c.rtxSSRC[e]}})
	}
	return &colibri2.Sources{MediaSources: []colibri2.MediaSource{
		{Type: "audio", ID: c.id + "-a0", Sources: []colibri2.Source{{SSRC: c.audioSSRC, Name: c.id + "-a0"}}}, vs}}
}

func (c *client) waitConnected(ctx context.Context) {
	select {
	case <-c.connected:
	case <-ctx.Done():
		c.t.Fatalf("%s did not connect", c.id)
	}
}

var layerSize = [3][2]uint16{{320, 180}, {640, 360}, {1280, 720}}

// send writes 20 ms audio frames and 30 fps 3-layer VP8 simulcast (one packet per frame)
// until ctx ends.
func (c *client) send(ctx context.Context) {
	at, vt := time.NewTicker(20*time.Millisecond), time.NewTicker(33*time.Millisecond)
	defer at.Stop()
	defer vt.Stop()
	var aseq uint16
	var vseq [3]uint16
	frame := uint16(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-at.C:
			aseq++
			p := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 111, SequenceNumber: aseq,
				Timestamp: uint32(aseq) * 960}, Payload: []byte("opus-like-frame-of-twenty-ms")}
			_ = p.Header.SetExtension(1, []byte{byte(0x80 | 30)})
			_ = c.audio.WriteRTP(p)
		case <-vt.C:
			frame++
			key := frame == 1 || c.keyframe.Swap(false)
			for e := range c.video {
				vseq[e]++
				_ = c.video[e].WriteRTP(&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 100, Marker: true,
					SequenceNumber: vseq[e], Timestamp: uint32(frame) * 3000},
					Payload: vp8Frame(frame, uint8(frame), key, layerSize[e][0], layerSize[e][1], byte(e))})
			}
		}
	}
}

// vp8Frame is a one-packet VP8 frame: descriptor with a 15-bit picture ID, TL0PICIDX and TID
// 0; a keyframe header with start code and size; and a tail naming encoding and frame.
func vp8Frame(pic uint16, tl0 uint8, key bool, w, h uint16, enc byte) []byte {
	b := []byte{0x90, 0xe0, byte(0x80 | (pic>>8)&0x7f), byte(pic), tl0, 0x00}
	if key {
		b = append(b, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w>>8), byte(h), byte(h>>8))
	} else {
		b = append(b, 0x11)
	}
	for len(b) < 400 {
		b = append(b, 0x5a)
	}
	return append(b, enc, byte(pic>>8), byte(pic))
}

func (c *client) onTrack(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	ssrc := uint32(tr.SSRC())
	go func() {
		for {
			pkts, _, err := r.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if sr, ok := p.(*rtcp.SenderReport); ok {
					c.mu.Lock()
					c.srs[sr.SSRC] = append(c.srs[sr.SSRC], *sr)
					c.mu.Unlock()
				}
			}
		}
	}()
	for {
		pkt, attr, err := tr.ReadRTP()
		if err != nil {
			return
		}
		rp := rxPacket{seq: pkt.SequenceNumber, ts: pkt.Timestamp, level: pkt.GetExtension(1) != nil}
		if v, ok := attr.Get(webrtc.AttributeRtxSsrc).(uint32); ok {
			rp.rtx, rp.rtxSSRC = true, v
			rp.rtxPT, _ = attr.Get(webrtc.AttributeRtxPayloadType).(uint8)
		}
		var d rtp.VP8Descriptor
		if pkt.PayloadType == 100 && d.Parse(pkt.Payload) == rtp.DropNone && len(pkt.Payload) >= 3 {
			n := len(pkt.Payload)
			rp.pic, rp.key, rp.w, rp.h = d.PictureID, d.Keyframe, d.Width, d.Height
			rp.enc, rp.frame = pkt.Payload[n-3], binary.BigEndian.Uint16(pkt.Payload[n-2:])
		}
		c.mu.Lock()
		c.got[ssrc] = append(c.got[ssrc], rp)
		c.mu.Unlock()
	}
}

func (c *client) packets(ssrc uint32) []rxPacket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]rxPacket(nil), c.got[ssrc]...)
}

func (c *client) count(ssrc uint32, f func(rxPacket) bool) int {
	n := 0
	for _, p := range c.packets(ssrc) {
		if f(p) {
			n++
		}
	}
	return n
}

func (c *client) has(ssrc uint32, f func(rxPacket) bool) bool { return c.count(ssrc, f) > 0 }

func (c *client) srCount(ssrc uint32) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.srs[ssrc])
}

// checkSR: the newest SR on ssrc counts no more packets than were received on it (nothing
// was lost on this path) and carries a timestamp within a second of the stream's.
func (c *client) checkSR(t *testing.T, ssrc uint32) {
	c.mu.Lock()
	srs := c.srs[ssrc]
	sr := srs[len(srs)-1]
	c.mu.Unlock()
	var media []rxPacket
	for _, p := range c.packets(ssrc) {
		if !p.rtx {
			media = append(media, p)
		}
	}
	last := media[len(media)-1]
	t.Logf("%s: SR %d packets, RTP time %d; received %d, newest ts %d", c.id, sr.PacketCount, sr.RTPTime, len(media), last.ts)
	if sr.PacketCount == 0 || int(sr.PacketCount) > len(media) || len(sr.Reports) != 0 {
		t.Errorf("%s: SR counts %d packets (%d blocks), %d received", c.id, sr.PacketCount, len(sr.Reports), len(media))
	}
	if d := int32(last.ts - sr.RTPTime); d < -90000 || d > 90000 {
		t.Errorf("%s: SR RTP time %d, newest packet %d", c.id, sr.RTPTime, last.ts)
	}
}

func (c *client) sendPLI(media uint32) {
	_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{SenderSSRC: c.audioSSRC, MediaSSRC: media}})
}

func (c *client) close() { _ = c.pc.Close() }

// ---- induced loss ----

// lossPlan drops every every-th packet of one SSRC until n are dropped.
type lossPlan struct {
	mu           sync.Mutex
	ssrc         uint32
	n, every     int
	seen         int
	dropped      []uint16
	droppedFrame map[uint16]bool
}

func (p *lossPlan) take(ssrc uint32, seq uint16, payload []byte) bool {
	if p == nil || ssrc != p.ssrc {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.dropped) == p.n {
		return false
	}
	if p.seen++; p.seen%p.every != 0 {
		return false
	}
	p.dropped = append(p.dropped, seq)
	if n := len(payload); n >= 2 {
		p.droppedFrame[binary.BigEndian.Uint16(payload[n-2:])] = true
	}
	return true
}

func (p *lossPlan) done() []uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.dropped) < p.n {
		return nil
	}
	return append([]uint16(nil), p.dropped...)
}

func (p *lossPlan) contains(seq uint16) bool {
	for _, s := range p.done() {
		if s == seq {
			return true
		}
	}
	return false
}

func (p *lossPlan) frames() map[uint16]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[uint16]bool{}
	for f := range p.droppedFrame {
		out[f] = true
	}
	return out
}

// lossy is an interceptor registered first, so it sits nearest the network: outgoing packets
// it drops were already recorded by the NACK responder, incoming ones are never seen by the
// NACK generator. It also notes the original sequence numbers of the RTX packets sent.
type lossy struct {
	interceptor.NoOp
	in, out atomic.Pointer[lossPlan]
	mu      sync.Mutex
	rtxOSN  map[uint16]bool
}

func newLossy() *lossy { return &lossy{rtxOSN: map[uint16]bool{}} }

func (l *lossy) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

func (l *lossy) planIn(ssrc uint32, n, every int) *lossPlan {
	p := &lossPlan{ssrc: ssrc, n: n, every: every, droppedFrame: map[uint16]bool{}}
	l.in.Store(p)
	return p
}

func (l *lossy) planOut(ssrc uint32, n, every int) *lossPlan {
	p := &lossPlan{ssrc: ssrc, n: n, every: every, droppedFrame: map[uint16]bool{}}
	l.out.Store(p)
	return p
}

func (l *lossy) retransmitted(seqs []uint16) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range seqs {
		if !l.rtxOSN[s] {
			return false
		}
	}
	return true
}

func (l *lossy) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *pionrtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if l.out.Load().take(h.SSRC, h.SequenceNumber, payload) {
			return h.MarshalSize() + len(payload), nil
		}
		if info.SSRCRetransmission != 0 && h.SSRC == info.SSRCRetransmission && len(payload) >= 2 {
			l.mu.Lock()
			l.rtxOSN[binary.BigEndian.Uint16(payload)] = true
			l.mu.Unlock()
		}
		return w.Write(h, payload, a)
	})
}

func (l *lossy) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil || n < 12 {
				return n, attr, err
			}
			if !l.in.Load().take(binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint16(b[2:]), nil) {
				return n, attr, nil
			}
		}
	})
}
