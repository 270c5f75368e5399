package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/media"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// mediaFake is a media.Transport that records what the endpoint sends and keeps the handler
// so the test can deliver what the client would send.
type mediaFake struct {
	h endpoint.Handler

	mu     sync.Mutex
	rtp    int
	remote endpoint.Remote
	closed bool
}

func (m *mediaFake) WriteRTP([]byte) bool  { m.mu.Lock(); m.rtp++; m.mu.Unlock(); return true }
func (m *mediaFake) WriteRTCP([]byte) bool { return true }
func (m *mediaFake) LastActivity() int64   { return 0 }
func (m *mediaFake) SetRemote(r endpoint.Remote) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remote = r
	return nil
}
func (m *mediaFake) Close() { m.mu.Lock(); m.closed = true; m.mu.Unlock() }
func (m *mediaFake) sent() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rtp
}

// mediaBridge is a Videobridge whose transports are the real media plane over fakes.
type mediaBridge struct {
	*testBridge
	plane *media.Plane

	mu    sync.Mutex
	fakes map[string]*mediaFake // by local ufrag
}

func newMediaBridge(t testing.TB) *mediaBridge {
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	mb := &mediaBridge{fakes: map[string]*mediaFake{}}
	mb.plane = media.NewPlane(nil, nil, nil, media.Options{
		Transports: func(creds ice.Credentials, h endpoint.Handler) (media.Transport, error) {
			f := &mediaFake{h: h}
			mb.mu.Lock()
			mb.fakes[creds.Ufrag] = f
			mb.mu.Unlock()
			return f, nil
		},
	})
	t.Cleanup(mb.plane.Close)
	mb.testBridge = newTestBridge(t, func(o *Options) {
		o.Transports = &MediaTransports{Plane: mb.plane, Certificate: cert, Candidates: testCandidates}
	})
	return mb
}

func (mb *mediaBridge) fake(t *testing.T, res *colibri2.ConferenceModified) *mediaFake {
	t.Helper()
	mb.mu.Lock()
	defer mb.mu.Unlock()
	f := mb.fakes[res.Endpoints[0].Transport.ICE.Ufrag]
	if f == nil {
		t.Fatal("no media transport for the answered ufrag")
	}
	return f
}

func opusPacket(ssrc uint32, seq uint16) []byte {
	b := make([]byte, 12, 40)
	b[0], b[1] = 0x80, 111
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*960)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, "opus"...)
}

func TestMediaTransportsForward(t *testing.T) {
	mb := newMediaBridge(t)
	resA := mustDo(t, mb.Videobridge, allocate(meeting, true, createEP("a")))
	resB := mustDo(t, mb.Videobridge, allocate(meeting, false, createEP("b")))
	fa, fb := mb.fake(t, resA), mb.fake(t, resB)
	if resA.Endpoints[0].Transport.ICE.Fingerprints[0].Fingerprint == "" || len(resA.Endpoints[0].Transport.ICE.Candidates) != 1 {
		t.Errorf("answer transport %+v", resA.Endpoints[0].Transport.ICE)
	}
	a := createEP("a")
	a.Create, a.Media, a.Capabilities = false, nil, nil
	a.Transport, a.Sources = clientTransport("abcd", "AA:BB"), cameraSources("a", 1000)
	mustDo(t, mb.Videobridge, update(meeting, a))
	fa.mu.Lock()
	remote := fa.remote
	fa.mu.Unlock()
	want := endpoint.Remote{Ufrag: "abcd", Pwd: "abcd-password-0123456789", Role: dtls.RoleServer,
		Fingerprints: map[string][]string{"sha-256": {"AA:BB"}}}
	if !reflect.DeepEqual(remote, want) {
		t.Errorf("remote %+v, want %+v", remote, want)
	}
	info, _ := mb.Conference(meeting)
	// Audio needs no constraints: a's packets reach b.
	for i := range 5 {
		fa.h.OnRTP(opusPacket(1000, uint16(i)))
	}
	deadline := time.Now().Add(waitLimit)
	for fb.sent() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("b was sent %d of 5 packets", fb.sent())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := mb.SetReceiverConstraints(info.ID, "b", 180, map[string]int{"a-v0": 720}); err != nil {
		t.Errorf("constraints: %v", err)
	}
	if got := statValue(mb.Stats(), "total_packets_received"); got != int64(5) {
		t.Errorf("total_packets_received = %v", got)
	}
	for _, tc := range []struct {
		conf, ep string
		want     error
	}{{"nope", "b", ErrNoSuchConference}, {info.ID, "zz", ErrNoSuchEndpoint}} {
		if err := mb.SetReceiverConstraints(tc.conf, tc.ep, 180, nil); !errors.Is(err, tc.want) {
			t.Errorf("SetReceiverConstraints(%q, %q) = %v, want %v", tc.conf, tc.ep, err, tc.want)
		}
	}
	// colibri2 expire closes the media endpoint; expiring the conference removes its state.
	mustDo(t, mb.Videobridge, update(meeting, expireEP("b")))
	fb.mu.Lock()
	closed := fb.closed
	fb.mu.Unlock()
	if !closed {
		t.Error("expired endpoint's transport not closed")
	}
	mustDo(t, mb.Videobridge, expireConf(meeting))
	if n := mb.plane.Conferences(); n != 0 {
		t.Errorf("%d media conferences after expiry", n)
	}
}

func TestSetReceiverConstraintsWithoutMedia(t *testing.T) {
	tb := newTestBridge(t, nil)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	info, _ := tb.Conference(meeting)
	if err := tb.SetReceiverConstraints(info.ID, "a", 180, nil); !errors.Is(err, ErrNoConstraints) {
		t.Errorf("got %v, want ErrNoConstraints", err)
	}
}

func TestRouterConfig(t *testing.T) {
	info := &ConferenceInfo{ID: "c1", Endpoints: []Endpoint{{
		ID: "a", Visitor: false, ForceMute: ForceMute{Video: true},
		Media: Media{
			PayloadTypes: []PayloadType{
				{MediaType: "audio", PayloadType: colibri2.PayloadType{ID: 111, Name: "opus", ClockRate: 48000,
					RTCPFbs: []colibri2.RTCPFb{{Type: "transport-cc"}}}},
				{MediaType: "video", PayloadType: colibri2.PayloadType{ID: 100, Name: "VP8", ClockRate: 90000,
					RTCPFbs: []colibri2.RTCPFb{{Type: "ccm", Subtype: "fir"}, {Type: "nack"}, {Type: "nack", Subtype: "pli"}}}},
				{MediaType: "video", PayloadType: colibri2.PayloadType{ID: 96, Name: "rtx", ClockRate: 90000,
					Parameters: []colibri2.Parameter{{Name: "apt", Value: "100"}}}},
			},
			HeaderExtensions: []HeaderExtension{{ID: 1, URI: router.URIAudioLevel}, {ID: 300, URI: "bogus"}},
		},
		Sources: Sources{
			Audio: []AudioSource{{Name: "a-a0", SSRC: 10}},
			Video: []VideoSource{{Name: "a-v0", Encodings: []Encoding{{SSRC: 11, RTX: 21}, {SSRC: 12}}}},
		},
	}}}
	want := router.Config{Endpoints: []router.EndpointConfig{{
		ID: "a", ForceMuteVideo: true,
		PayloadTypes: []router.PayloadType{
			{PT: 111, Kind: router.KindAudio, Name: "opus", ClockRate: 48000, APT: -1, TransportCC: true},
			{PT: 100, Kind: router.KindVideo, Name: "VP8", ClockRate: 90000, APT: -1, NACK: true, PLI: true, FIR: true},
			{PT: 96, Kind: router.KindVideo, Name: "rtx", ClockRate: 90000, APT: 100},
		},
		HeaderExtensions: []router.HeaderExtension{{ID: 1, URI: router.URIAudioLevel}},
		Audio:            []router.AudioSource{{Name: "a-a0", SSRC: 10}},
		Video:            []router.VideoSource{{Name: "a-v0", Encodings: []router.Encoding{{SSRC: 11, RTX: 21}, {SSRC: 12}}}},
	}}}
	if got := RouterConfig(info); !reflect.DeepEqual(got, want) {
		t.Errorf("RouterConfig:\n got %+v\nwant %+v", got, want)
	}
}

// TestRouterConfigMemo: the memo converts an endpoint again only when what the conversion
// reads was replaced, gives what RouterConfig gives, and forgets endpoints that left.
func TestRouterConfigMemo(t *testing.T) {
	pts := []PayloadType{{MediaType: "audio", PayloadType: colibri2.PayloadType{ID: 111, Name: "opus", ClockRate: 48000}}}
	a := Endpoint{ID: "a", Media: Media{PayloadTypes: pts}, Sources: Sources{Audio: []AudioSource{{Name: "a-a0", SSRC: 10}}}}
	b := Endpoint{ID: "b", Media: Media{PayloadTypes: pts}}
	var m routerMemo
	check := func(info *ConferenceInfo) router.Config {
		t.Helper()
		got := m.config(info)
		if want := RouterConfig(info); !reflect.DeepEqual(got, want) {
			t.Fatalf("memo gives %+v, RouterConfig %+v", got, want)
		}
		return got
	}
	first := check(&ConferenceInfo{Endpoints: []Endpoint{a, b}})
	// b's sources replaced (as the conference worker does): only b is converted again.
	b.Sources = Sources{Audio: []AudioSource{{Name: "b-a0", SSRC: 20}}}
	second := check(&ConferenceInfo{Endpoints: []Endpoint{a, b}})
	if &second.Endpoints[0].Audio[0] != &first.Endpoints[0].Audio[0] {
		t.Error("unchanged a was converted again")
	}
	if len(second.Endpoints[1].Audio) != 1 {
		t.Error("b's new source is missing")
	}
	// A value change of a compared field converts again too.
	a.ForceMute.Audio = true
	if third := check(&ConferenceInfo{Endpoints: []Endpoint{a, b}}); !third.Endpoints[0].ForceMuteAudio {
		t.Error("a's force-mute not applied")
	}
	check(&ConferenceInfo{Endpoints: []Endpoint{b}})
	if _, ok := m.byID["a"]; ok || len(m.byID) != 1 {
		t.Errorf("memo keeps %d endpoints after a left", len(m.byID))
	}
}

// BenchmarkJoin measures what one endpoint joining and leaving costs the conference worker,
// the bridge channel and the media plane in a lecture of n endpoints (one sender): the work
// that grows with the conference and makes a join storm quadratic. Real media plane, fake
// transports.
func BenchmarkJoin(b *testing.B) {
	for _, n := range []int{10, 300} {
		b.Run(fmt.Sprintf("%d-endpoints", n), func(b *testing.B) {
			mb := newMediaBridge(b)
			mustDo(b, mb.Videobridge, allocate(meeting, true, createEP("s")))
			s := createEP("s")
			s.Create, s.Media, s.Capabilities, s.Transport = false, nil, nil, nil
			s.Sources = cameraSources("s", 1000)
			mustDo(b, mb.Videobridge, update(meeting, s))
			for i := range n - 1 {
				mustDo(b, mb.Videobridge, allocate(meeting, false, createEP(fmt.Sprintf("r%d", i))))
			}
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("j%d", i)
				mustDo(b, mb.Videobridge, allocate(meeting, false, createEP(id)))
				mustDo(b, mb.Videobridge, update(meeting, expireEP(id)))
			}
		})
	}
}
