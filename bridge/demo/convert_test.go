package demo

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
	jicofo "github.com/cityjitsi/videobridge/integration/focus"
)

func TestBridgeOffer(t *testing.T) {
	in := &colibri2.Transport{
		ICE: &colibri2.ICEUDPTransport{Ufrag: "26ant1ioqu7qnr", Pwd: "9q8uj7tg6j4rc4i6ulc1pmsq9", RTCPMux: true,
			Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "actpass", Fingerprint: chromeFingerprint}},
			Candidates: []colibri2.Candidate{
				{Component: 1, Foundation: "1", ID: "x", Priority: 2130706431, Protocol: "udp", Type: "host", IP: "127.0.0.1", Port: 10000},
				{Component: 1, Foundation: "2", Priority: 1694498815, Protocol: "udp", Type: "srflx", IP: "203.0.113.7", Port: 10000,
					RelAddr: "127.0.0.1", RelPort: 10000},
			},
			WebSockets: []colibri2.WebSocket{{URL: "ws://127.0.0.1:9090/colibri-ws/jvb1/c0ffee/ab12cd34?pwd=x"}}},
		SCTP: &colibri2.SCTP{Port: 5000, Role: "server"},
	}
	got, port, err := bridgeOffer(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &wireTransport{Ufrag: "26ant1ioqu7qnr", Pwd: "9q8uj7tg6j4rc4i6ulc1pmsq9",
		Fingerprints: []wireFingerprint{{Hash: "sha-256", Setup: "actpass", Value: chromeFingerprint}},
		Candidates: []wireCandidate{
			{Foundation: "1", Component: 1, Protocol: "udp", Priority: 2130706431, IP: "127.0.0.1", Port: 10000, Type: "host"},
			{Foundation: "2", Component: 1, Protocol: "udp", Priority: 1694498815, IP: "203.0.113.7", Port: 10000, Type: "srflx",
				RelAddr: "127.0.0.1", RelPort: 10000},
		},
		WebSockets: []string{"ws://127.0.0.1:9090/colibri-ws/jvb1/c0ffee/ab12cd34?pwd=x"}}
	if !reflect.DeepEqual(got, want) || port != 5000 {
		t.Errorf("bridgeOffer = %+v, %d\nwant %+v, 5000", got, port, want)
	}
	in.SCTP = nil
	if _, port, _ := bridgeOffer(in); port != 0 {
		t.Errorf("without <sctp/> the port is %d, want 0", port)
	}
	for _, bad := range []*colibri2.Transport{nil, {}} {
		if _, _, err := bridgeOffer(bad); !errors.Is(err, errNoTransport) {
			t.Errorf("bridgeOffer(%+v) err = %v", bad, err)
		}
	}
}

func TestOfferMedia(t *testing.T) {
	got := offerMedia([]colibri2.Media{jicofo.JicofoAudio()})
	want := []wireMedia{{Type: "audio", ExtmapAllowMixed: true,
		PayloadTypes: []wirePayloadType{
			{ID: 111, Name: "opus", ClockRate: 48000, Channels: 2,
				Parameters: []wireParameter{{Name: "minptime", Value: "10"}, {Name: "useinbandfec", Value: "1"}},
				RTCPFbs:    []wireRTCPFb{{Type: "transport-cc"}}},
			{ID: 126, Name: "telephone-event", ClockRate: 8000},
		},
		HeaderExtensions: []wireExtension{{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
			{ID: 10, URI: "urn:ietf:params:rtp-hdrext:sdes:mid"},
			{ID: 5, URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offerMedia =\n%+v\nwant\n%+v", got, want)
	}
	video := offerMedia([]colibri2.Media{jicofo.JicofoVideo()})[0]
	var names []string
	for _, pt := range video.PayloadTypes {
		names = append(names, pt.Name)
	}
	if want := []string{"AV1", "VP8", "H264", "VP9", "rtx", "rtx", "rtx", "rtx"}; !reflect.DeepEqual(names, want) {
		t.Errorf("video payload types %v, want Jicofo's order %v", names, want)
	}
}

func TestReceiverSources(t *testing.T) {
	sim, _ := answeredSources("ab12cd34", simulcastAnswer())
	tests := []struct {
		name string
		in   *colibri2.Sources
		want []wireSource
	}{
		{"nil", nil, nil},
		{"simulcast with RTX: first SIM SSRC and its RTX", sim, []wireSource{
			{Type: "audio", Name: "ab12cd34-a0", SSRCs: []uint32{1000}},
			{Type: "video", Name: "ab12cd34-v0", SSRCs: []uint32{11, 21}, Groups: []wireGroup{{Semantics: "FID", SSRCs: []uint32{11, 21}}}},
		}},
		{"SIM listed after FIDs, order of SIM wins", &colibri2.Sources{MediaSources: []colibri2.MediaSource{
			{Type: "video", ID: "e-v0", Sources: []colibri2.Source{{SSRC: 7}, {SSRC: 8}, {SSRC: 5}, {SSRC: 6}},
				SSRCGroups: []colibri2.SSRCGroup{{Semantics: "FID", SSRCs: []uint32{7, 8}}, {Semantics: "FID", SSRCs: []uint32{5, 6}},
					{Semantics: "SIM", SSRCs: []uint32{5, 7}}}}}},
			[]wireSource{{Type: "video", Name: "e-v0", SSRCs: []uint32{5, 6}, Groups: []wireGroup{{Semantics: "FID", SSRCs: []uint32{5, 6}}}}}},
		{"no simulcast, no RTX", &colibri2.Sources{MediaSources: []colibri2.MediaSource{
			{Type: "video", ID: "e-v0", Sources: []colibri2.Source{{SSRC: 9}}}}},
			[]wireSource{{Type: "video", Name: "e-v0", SSRCs: []uint32{9}}}},
		{"FID only", &colibri2.Sources{MediaSources: []colibri2.MediaSource{
			{Type: "video", ID: "e-v0", Sources: []colibri2.Source{{SSRC: 9}, {SSRC: 10}},
				SSRCGroups: []colibri2.SSRCGroup{{Semantics: "FID", SSRCs: []uint32{9, 10}}}}}},
			[]wireSource{{Type: "video", Name: "e-v0", SSRCs: []uint32{9, 10}, Groups: []wireGroup{{Semantics: "FID", SSRCs: []uint32{9, 10}}}}}},
		{"empty media source skipped", &colibri2.Sources{MediaSources: []colibri2.MediaSource{{Type: "audio", ID: "e-a0"}}}, []wireSource{}},
	}
	for _, tt := range tests {
		if got := receiverSources(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: receiverSources =\n%+v\nwant\n%+v", tt.name, got, tt.want)
		}
	}
}
