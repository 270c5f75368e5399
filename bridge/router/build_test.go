package router

import (
	"reflect"
	"testing"
)

// jicofoMedia is the payload types and extensions Jicofo offers (media.md §2.1), trimmed.
func jicofoMedia(ec EndpointConfig) EndpointConfig {
	ec.PayloadTypes = []PayloadType{
		{PT: 111, Kind: KindAudio, Name: "opus", ClockRate: 48000, APT: -1, TransportCC: true},
		{PT: 100, Kind: KindVideo, Name: "VP8", ClockRate: 90000, APT: -1, NACK: true, PLI: true, FIR: true},
		{PT: 96, Kind: KindVideo, Name: "rtx", ClockRate: 90000, APT: 100},
		{PT: 41, Kind: KindVideo, Name: "AV1", ClockRate: 90000, APT: -1},
		{PT: 42, Kind: KindVideo, Name: "rtx", ClockRate: 90000, APT: 41},
	}
	ec.HeaderExtensions = []HeaderExtension{{1, URIAudioLevel}, {3, URIAbsSendTime}, {5, URITransportCC}, {10, URIMID}}
	return ec
}

func simulcast(name string, base uint32) VideoSource {
	return VideoSource{Name: name, Encodings: []Encoding{{base + 1, base + 11}, {base + 2, base + 12}, {base + 3, 0}}}
}

func TestBuildSnapshot(t *testing.T) {
	cfg := Config{Endpoints: []EndpointConfig{
		jicofoMedia(EndpointConfig{ID: "a", Audio: []AudioSource{{"a-a0", 1000}}, Video: []VideoSource{simulcast("a-v0", 1000)}}),
		jicofoMedia(EndpointConfig{ID: "b", ForceMuteVideo: true, Audio: []AudioSource{{"b-a0", 2000}}}),
		// c negotiated audio only; v is a visitor whose (forbidden) source goes nowhere.
		{ID: "c", PayloadTypes: []PayloadType{{PT: 111, Kind: KindAudio, Name: "opus", APT: -1}}},
		jicofoMedia(EndpointConfig{ID: "v", Visitor: true, Audio: []AudioSource{{"v-a0", 4000}, {"dup", 1000}}}),
	}}
	s := Build(cfg)

	wantSources := []Source{
		{Name: "a-a0", Owner: 0, Kind: KindAudio, SSRCs: []uint32{1000}, RTX: []uint32{0}, Subscribers: []int{1, 2, 3}},
		{Name: "a-v0", Owner: 0, Kind: KindVideo, SSRCs: []uint32{1001, 1002, 1003}, RTX: []uint32{1011, 1012, 0},
			Subscribers: []int{1, 3}},
		{Name: "b-a0", Owner: 1, Kind: KindAudio, SSRCs: []uint32{2000}, RTX: []uint32{0}, Subscribers: []int{0, 2, 3}},
		{Name: "v-a0", Owner: 3, Kind: KindAudio, SSRCs: []uint32{4000}, RTX: []uint32{0}},
	}
	if !reflect.DeepEqual(s.Sources, wantSources) {
		t.Errorf("sources:\n got %+v\nwant %+v", s.Sources, wantSources)
	}
	if s.Conflicts != 1 {
		t.Errorf("conflicts = %d, want 1 (v's duplicate 1000)", s.Conflicts)
	}

	routes := map[uint32]Route{
		1000: {Source: 0}, 1001: {Source: 1, Encoding: 0}, 1011: {Source: 1, Encoding: 0, RTX: true},
		1002: {Source: 1, Encoding: 1}, 1012: {Source: 1, Encoding: 1, RTX: true}, 1003: {Source: 1, Encoding: 2},
		2000: {Source: 2}, 4000: {Source: 3},
	}
	for ssrc, want := range routes {
		if got, ok := s.Lookup(ssrc); !ok || got != want {
			t.Errorf("Lookup(%d) = %+v %v, want %+v", ssrc, got, ok, want)
		}
	}
	if s.Routes() != len(routes) {
		t.Errorf("%d routes, want %d", s.Routes(), len(routes))
	}
	if _, ok := s.Lookup(1013); ok {
		t.Error("an unsignaled SSRC resolved")
	}

	a := s.Endpoints[0]
	if a.Ext != (Extensions{AudioLevel: 1, AbsSendTime: 3, TransportCC: 5, MID: 10}) ||
		!a.AcceptsAudio || !a.AcceptsVideo || !a.PLI || a.Codecs[100] != CodecVP8 || a.Codecs[41] != CodecAV1 ||
		a.Codecs[96] != CodecRTX || a.RTXFor[100] != 96 || a.RTXFor[41] != 42 || a.RTXFor[111] != 0 {
		t.Errorf("endpoint a = %+v", a)
	}
	if apt, ok := a.RTX.APT(96); !ok || apt != 100 {
		t.Errorf("RTX.APT(96) = %d %v", apt, ok)
	}
	if c := s.Endpoints[2]; c.AcceptsVideo || !c.AcceptsAudio || c.PLI {
		t.Errorf("endpoint c = %+v", c)
	}
	if !s.Endpoints[1].ForceMuteVideo || s.EndpointIndex("v") != 3 || s.EndpointIndex("zz") != -1 {
		t.Error("force-mute or endpoint index lost")
	}
}

func TestBuildIsPure(t *testing.T) {
	cfg := Config{Endpoints: []EndpointConfig{
		jicofoMedia(EndpointConfig{ID: "a", Video: []VideoSource{simulcast("a-v0", 10)}}),
		jicofoMedia(EndpointConfig{ID: "b", Video: []VideoSource{simulcast("b-v0", 20)}}),
	}}
	s1, s2 := Build(cfg), Build(cfg)
	if !reflect.DeepEqual(s1, s2) {
		t.Fatal("two builds of one config differ")
	}
	cfg.Endpoints[0].Video[0].Encodings[0].SSRC = 99
	if got, _ := s1.Lookup(11); got.Source != 0 {
		t.Error("the snapshot aliases the config")
	}
}

func TestBuildEmpty(t *testing.T) {
	s := Build(Config{})
	if len(s.Endpoints) != 0 || len(s.Sources) != 0 || s.Routes() != 0 {
		t.Errorf("empty config gave %+v", s)
	}
	// A source without usable SSRCs is left out.
	s = Build(Config{Endpoints: []EndpointConfig{{ID: "a", Video: []VideoSource{{Name: "x", Encodings: []Encoding{{}}}}}}})
	if len(s.Sources) != 0 {
		t.Errorf("zero-SSRC source kept: %+v", s.Sources)
	}
}

func TestCodecAndKind(t *testing.T) {
	for name, want := range map[string]Codec{"opus": CodecOpus, "VP8": CodecVP8, "vp9": CodecVP9, "AV1": CodecAV1,
		"H264": CodecH264, "rtx": CodecRTX, "red": CodecRED, "AV1X": CodecAV1, "Opus": CodecOpus, "vp10": CodecOther, "": CodecOther, "telephone-event": CodecOther} {
		if got := CodecOf(name); got != want {
			t.Errorf("CodecOf(%q) = %d, want %d", name, got, want)
		}
	}
	if KindOf("Video") != KindVideo || KindOf("audio") != KindAudio || KindOf("data") != 0 {
		t.Error("KindOf")
	}
	if KindAudio.String() != "audio" || Kind(9).String() != "unknown" {
		t.Error("Kind.String")
	}
}
