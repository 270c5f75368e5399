package control

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// credentialBridge is a bridge on CredentialTransports with real credentials, the real
// certificate and real harvested candidates (injected interfaces plus a static mapping).
func credentialBridge(t *testing.T) (*testBridge, *CredentialTransports) {
	t.Helper()
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cands, err := ice.HostCandidates(ice.HarvestOptions{
		Port: 10000,
		Interfaces: func() ([]ice.Interface, error) {
			return []ice.Interface{{Name: "eth0", Up: true, Addrs: []netip.Addr{netip.MustParseAddr("172.18.0.4")}}}, nil
		},
		StaticMappings: []ice.StaticMapping{{LocalAddress: netip.MustParseAddr("172.18.0.4"),
			PublicAddress: netip.MustParseAddr("203.0.113.7")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ct := &CredentialTransports{Certificate: cert, Candidates: cands, AdvertisePrivate: true}
	tb := newTestBridge(t, func(o *Options) {
		o.Transports = ct
		o.WebSockets = WebSocketOptions{Enabled: true, ServerID: "jvb1", Domains: []string{"meet.example.com:443"}, TLS: true}
	})
	return tb, ct
}

// wantCreateTransport is the endpoint-create answer expected for ep (signaling.md §4.2).
func wantCreateTransport(t *testing.T, tb *testBridge, ct *CredentialTransports, epID string) *colibri2.Transport {
	t.Helper()
	info, ok := tb.Conference(meeting)
	if !ok {
		t.Fatal("conference missing")
	}
	ep, ok := info.Endpoint(epID)
	if !ok {
		t.Fatalf("endpoint %s missing", epID)
	}
	local := ep.Transport.Local()
	if len(local.Ufrag) != ice.UfragRandomLen || len(local.Pwd) != ice.PwdLen {
		t.Fatalf("credentials not generated: %+v", local)
	}
	pwd, _ := tb.WebSocketPassword(info.ID, epID)
	if len(pwd) != 24 {
		t.Fatalf("websocket password %q", pwd)
	}
	return &colibri2.Transport{
		ICE: &colibri2.ICEUDPTransport{
			Ufrag: local.Ufrag, Pwd: local.Pwd, RTCPMux: true,
			Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "actpass", Fingerprint: ct.Certificate.Fingerprint}},
			Candidates: []colibri2.Candidate{
				{Component: 1, Foundation: "1", Generation: 0, ID: ct.Candidates[0].ID, Network: 0, Priority: 2130706431,
					Protocol: "udp", Type: "host", IP: "172.18.0.4", Port: 10000},
				{Component: 1, Foundation: "2", Generation: 0, ID: ct.Candidates[1].ID, Network: 0, Priority: 1694498815,
					Protocol: "udp", Type: "srflx", IP: "203.0.113.7", Port: 10000, RelAddr: "172.18.0.4", RelPort: 10000},
			},
			WebSockets: []colibri2.WebSocket{{
				URL: "wss://meet.example.com:443/colibri-ws/jvb1/" + info.ID + "/" + epID + "?pwd=" + pwd,
			}},
		},
		SCTP: &colibri2.SCTP{Port: 5000, Role: "server"},
	}
}

func TestJicofoSequence(t *testing.T) {
	tb, ct := credentialBridge(t)
	v := tb.Videobridge
	r := newReplies(t)

	// §4.2: A's and B's allocations, B pipelined before A's answer.
	v.ConferenceModify(allocate(meeting, true, createEP("79f0273e")), r.fn("A"))
	v.ConferenceModify(allocate(meeting, false, createEP("5b9c0e1d")), r.fn("B"))
	repA, repB := r.next(), r.next()
	if repA.tag != "A" || repB.tag != "B" || repA.err != nil || repB.err != nil {
		t.Fatalf("replies out of order or failed: %+v %+v", repA, repB)
	}
	info, _ := tb.Conference(meeting)
	if info.ID == meeting || len(info.ID) != 16 || info.Name != room {
		t.Fatalf("conference info %+v", info)
	}
	feedback := &colibri2.Sources{MediaSources: []colibri2.MediaSource{
		{Type: "audio", ID: "jvb-a0", Sources: []colibri2.Source{{SSRC: info.Feedback.AudioSSRC, Name: "jvb-a0"}}},
		{Type: "video", ID: "jvb-v0", Sources: []colibri2.Source{{SSRC: info.Feedback.VideoSSRC, Name: "jvb-v0"}}},
	}}
	for _, c := range []struct {
		rep reply
		id  string
	}{{repA, "79f0273e"}, {repB, "5b9c0e1d"}} {
		want := &colibri2.ConferenceModified{
			Endpoints: []colibri2.Endpoint{{ID: c.id, Transport: wantCreateTransport(t, tb, ct, c.id)}},
			Sources:   feedback,
		}
		if !reflect.DeepEqual(c.rep.resp, want) {
			t.Fatalf("create %s\n got %+v\nwant %+v", c.id, c.rep.resp, want)
		}
	}
	if info.Feedback.AudioSSRC == 0 || info.Feedback.AudioSSRC == info.Feedback.VideoSSRC {
		t.Fatalf("feedback SSRCs %+v", info.Feedback)
	}

	// §4.3: session-accept → transport + sources update.
	accept := func(id string, base uint32) {
		ep := colibri2.Endpoint{ID: id, StatsID: "stats-" + id, Transport: clientTransport("uf"+id, "BB:50:EE"),
			Sources: cameraSources(id, base), InitialLastN: new(int)}
		*ep.InitialLastN = 20
		got := mustDo(t, v, update(meeting, ep))
		if want := (&colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: id}}}); !reflect.DeepEqual(got, want) {
			t.Fatalf("update %s: got %+v", id, got)
		}
	}
	accept("79f0273e", 1000)
	accept("5b9c0e1d", 2000)

	// §4.4: third participant.
	got := mustDo(t, v, allocate(meeting, false, createEP("c0ffee01")))
	wantC := &colibri2.ConferenceModified{
		Endpoints: []colibri2.Endpoint{{ID: "c0ffee01", Transport: wantCreateTransport(t, tb, ct, "c0ffee01")}},
		Sources:   feedback,
	}
	if !reflect.DeepEqual(got, wantC) {
		t.Fatalf("create C\n got %+v\nwant %+v", got, wantC)
	}
	accept("c0ffee01", 3000)

	epA := endpointInfo(t, tb, "79f0273e")
	remote := epA.Transport.(*credentialTransport).Remote()
	wantRemote := RemoteTransport{Ufrag: "uf79f0273e", Pwd: "uf79f0273e-password-0123456789",
		Fingerprints: map[string][]string{"sha-256": {"BB:50:EE"}}, Role: DTLSRoleServer}
	if !reflect.DeepEqual(remote, wantRemote) || !reflect.DeepEqual(epA.Remote, wantRemote) {
		t.Fatalf("remote transport\n got %+v\nwant %+v", remote, wantRemote)
	}
	if epA.InitialLastN == nil || *epA.InitialLastN != 20 || len(epA.Sources.Video) != 1 || len(epA.Sources.Audio) != 1 {
		t.Fatalf("endpoint A state %+v", epA)
	}

	// Trickle update without fingerprints keeps them; a candidate is added.
	trickle := &colibri2.Transport{ICE: &colibri2.ICEUDPTransport{Candidates: []colibri2.Candidate{
		{Component: 1, Foundation: "1", Priority: 1, Protocol: "udp", Type: "host", IP: "192.0.2.50", Port: 50000},
	}}}
	mustDo(t, v, update(meeting, colibri2.Endpoint{ID: "79f0273e", Transport: trickle}))
	epA = endpointInfo(t, tb, "79f0273e")
	wantRemote.Candidates = []ice.Candidate{{Foundation: "1", Component: 1, Priority: 1, Type: "host",
		Addr: netip.MustParseAddr("192.0.2.50"), Port: 50000}}
	if !reflect.DeepEqual(epA.Remote, wantRemote) {
		t.Fatalf("after trickle\n got %+v\nwant %+v", epA.Remote, wantRemote)
	}

	// §4.5: source change (screen share added) replaces the set.
	src := cameraSources("79f0273e", 1000)
	src.MediaSources = append(src.MediaSources, colibri2.MediaSource{Type: "video", ID: "79f0273e-v1",
		Sources: []colibri2.Source{{SSRC: 1500, Name: "79f0273e-v1", VideoType: "desktop"}}})
	mustDo(t, v, update(meeting, colibri2.Endpoint{ID: "79f0273e", Sources: src}))
	if got := endpointInfo(t, tb, "79f0273e").Sources.Video; len(got) != 2 || got[1].VideoType != VideoTypeDesktop {
		t.Fatalf("video sources after source-add: %+v", got)
	}

	// §4.6: force-mute batch, ICE restart, endpoint expire, conference expire.
	got = mustDo(t, v, update(meeting,
		colibri2.Endpoint{ID: "5b9c0e1d", ForceMute: &colibri2.ForceMute{Audio: true}},
		colibri2.Endpoint{ID: "c0ffee01", ForceMute: &colibri2.ForceMute{Audio: true, Video: true}}))
	if want := (&colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: "5b9c0e1d"}, {ID: "c0ffee01"}}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("force-mute: %+v", got)
	}
	if fm := endpointInfo(t, tb, "c0ffee01").ForceMute; fm != (ForceMute{Audio: true, Video: true}) {
		t.Fatalf("force-mute state %+v", fm)
	}
	got = mustDo(t, v, update(meeting, colibri2.Endpoint{ID: "79f0273e", StatsID: "stats-79f0273e",
		Transport: &colibri2.Transport{ICERestart: true}}))
	if want := (&colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: "79f0273e"}}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("ice restart: %+v", got)
	}
	cTransport := endpointInfo(t, tb, "c0ffee01").Transport.(*credentialTransport)
	got = mustDo(t, v, update(meeting, expireEP("c0ffee01")))
	if want := (&colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: "c0ffee01", Expire: true}}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("endpoint expire: %+v", got)
	}
	cTransport.mu.Lock()
	closed := cTransport.closed
	cTransport.mu.Unlock()
	if !closed || statValue(v.Stats(), "local_endpoints") != int64(2) {
		t.Fatalf("after expire: transport closed=%v local_endpoints=%v", closed, statValue(v.Stats(), "local_endpoints"))
	}
	got = mustDo(t, v, expireConf(meeting))
	if !reflect.DeepEqual(got, &colibri2.ConferenceModified{}) {
		t.Fatalf("conference expire: %+v", got)
	}
	_, err := do(t, v, update(meeting, expireEP("79f0273e")))
	if want := errConferenceNotFound(meeting); !reflect.DeepEqual(err, want) {
		t.Fatalf("after expire: %v", err)
	}
	stats := v.Stats()
	for name, want := range map[string]any{"conferences": int64(0), "local_endpoints": int64(0),
		"total_conferences_created": int64(1), "total_conferences_completed": int64(1), "total_participants": int64(3)} {
		if got := statValue(stats, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func endpointInfo(t *testing.T, tb *testBridge, id string) Endpoint {
	t.Helper()
	info, ok := tb.Conference(meeting)
	if !ok {
		t.Fatal("conference missing")
	}
	ep, ok := info.Endpoint(id)
	if !ok {
		t.Fatalf("endpoint %s missing", id)
	}
	return ep
}

// TestLastEndpointExpiryEndsConference: a non-create request that leaves no endpoints expires
// the conference (§3.9); requests pipelined behind it get conference_not_found.
func TestLastEndpointExpiryEndsConference(t *testing.T) {
	tb := newTestBridge(t, nil)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	r := newReplies(t)
	tb.ConferenceModify(update(meeting, expireEP("a")), r.fn("expire"))
	tb.ConferenceModify(update(meeting, colibri2.Endpoint{ID: "a", ForceMute: &colibri2.ForceMute{}}), r.fn("late"))
	if rep := r.next(); rep.tag != "expire" || rep.err != nil {
		t.Fatalf("expire: %+v", rep)
	}
	if rep := r.next(); rep.tag != "late" || !reflect.DeepEqual(rep.err, errConferenceNotFound(meeting)) {
		t.Fatalf("late request: %+v", rep)
	}
	assertNoConference(t, tb, meeting)
	if !tb.transports.transport("a").isClosed() {
		t.Fatal("transport not closed")
	}
	// A new create for the same meeting-id makes a new conference.
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
}

// TestEmptyConferenceTimeout: a conference created without endpoints expires after
// ConferenceEmptyTimeout; one with endpoints does not.
func TestEmptyConferenceTimeout(t *testing.T) {
	tb := newTestBridge(t, nil)
	resp := mustDo(t, tb.Videobridge, &colibri2.ConferenceModify{MeetingID: "empty", Create: true})
	if resp.Sources == nil || len(resp.Endpoints) != 0 {
		t.Fatalf("create-only response %+v", resp)
	}
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	if n := tb.timers.fire(DefaultConferenceEmptyTimeout); n != 2 {
		t.Fatalf("%d empty timers fired, want 2", n)
	}
	tb.settle(t)
	assertNoConference(t, tb, "empty")
	assertEndpoints(t, tb, meeting, "a")
}

// TestExpireEndpointOutOfBand: the media plane's expiry removes the endpoint and, once the
// conference is older than the empty timeout, the conference.
func TestExpireEndpointOutOfBand(t *testing.T) {
	tb := newTestBridge(t, nil)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	mustDo(t, tb.Videobridge, allocate(meeting, false, createEP("b")))
	info, _ := tb.Conference(meeting)
	tb.ExpireEndpoint(info.ID, "a", "inactivity")
	assertEndpoints(t, tb, meeting, "b")
	tb.clock.Advance(DefaultConferenceEmptyTimeout)
	tb.ExpireEndpoint(info.ID, "b", "ice failed")
	tb.settle(t)
	assertNoConference(t, tb, meeting)
	if _, err := do(t, tb.Videobridge, update(meeting, expireEP("b"))); !reflect.DeepEqual(err, errConferenceNotFound(meeting)) {
		t.Fatalf("err = %v", err)
	}
}

// TestEndpointCreateState checks what an endpoint create stores.
func TestEndpointCreateState(t *testing.T) {
	tb := newTestBridge(t, nil)
	ep := createEP("a")
	ep.Capabilities = append(ep.Capabilities, colibri2.CapRTPMidDemux, colibri2.CapPrivateAddressConnectivity)
	ep.ForceMute = &colibri2.ForceMute{Audio: true}
	ep.Sources = cameraSources("a", 10)
	ep.Diarize = true
	mustDo(t, tb.Videobridge, allocate(meeting, true, ep))
	got := endpointInfo(t, tb, "a")
	tr := tb.transports.transport("a")
	if tr.opts != (EndpointTransportOptions{ICEControlling: true, PrivateAddressConnectivity: true, SCTP: true}) {
		t.Fatalf("transport options %+v", tr.opts)
	}
	got.Transport, got.webSocketPassword = nil, ""
	want := Endpoint{
		ID: "a", StatsID: "stats-a", Diarize: true, Created: tb.clock.Now(), SCTP: true,
		Capabilities: Capabilities{SourceNames: true, SSRCRewriting: true, RTPMidDemux: true, PrivateAddressConnectivity: true},
		Media: Media{
			PayloadTypes: []PayloadType{{MediaType: "audio", PayloadType: ep.Media[0].PayloadTypes[0]},
				{MediaType: "video", PayloadType: ep.Media[1].PayloadTypes[0]}},
			HeaderExtensions: []HeaderExtension{{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
				{ID: 3, URI: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"}},
			ExtmapAllowMixed: true,
		},
		Sources:   parseSources(cameraSources("a", 10)),
		ForceMute: ForceMute{Audio: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("endpoint\n got %+v\nwant %+v", got, want)
	}
	if !got.Media.AcceptsAudio() || !got.Media.AcceptsVideo() {
		t.Fatal("accepts audio/video")
	}
}
