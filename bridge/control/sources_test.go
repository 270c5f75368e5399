package control

import (
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

func TestParseSources(t *testing.T) {
	src := func(ssrc uint32, vt string) colibri2.Source { return colibri2.Source{SSRC: ssrc, VideoType: vt} }
	group := func(sem string, ssrcs ...uint32) colibri2.SSRCGroup {
		return colibri2.SSRCGroup{Semantics: sem, SSRCs: ssrcs}
	}
	tests := []struct {
		name string
		in   *colibri2.Sources
		want Sources
	}{
		{
			name: "JVB serializer example: simulcast camera with RTX (signaling.md §3.6)",
			in: &colibri2.Sources{MediaSources: []colibri2.MediaSource{
				{Type: "audio", ID: "79f0273e-a0", Sources: []colibri2.Source{src(3166599606, "")}},
				{Type: "video", ID: "79f0273e-v0",
					Sources: []colibri2.Source{src(437485591, "camera"), src(2958490935, ""), src(1565856603, ""),
						src(1153580044, ""), src(23279666, ""), src(382686375, "")},
					SSRCGroups: []colibri2.SSRCGroup{group("FID", 437485591, 2958490935),
						group("SIM", 437485591, 1565856603, 1153580044), group("FID", 1565856603, 23279666),
						group("FID", 1153580044, 382686375)}},
			}},
			want: Sources{
				Audio: []AudioSource{{Name: "79f0273e-a0", SSRC: 3166599606}},
				Video: []VideoSource{{Name: "79f0273e-v0", VideoType: VideoTypeCamera, Encodings: []Encoding{
					{SSRC: 437485591, RTX: 2958490935}, {SSRC: 1565856603, RTX: 23279666}, {SSRC: 1153580044, RTX: 382686375},
				}}},
			},
		},
		{
			name: "screen share without simulcast, RTX, lower-case semantics, desktop",
			in: &colibri2.Sources{MediaSources: []colibri2.MediaSource{{Type: "video", ID: "e-v1",
				Sources:    []colibri2.Source{src(20, ""), src(10, "desktop")},
				SSRCGroups: []colibri2.SSRCGroup{group("fid", 10, 20)}}}},
			want: Sources{Video: []VideoSource{{Name: "e-v1", VideoType: VideoTypeDesktop,
				Encodings: []Encoding{{SSRC: 10, RTX: 20}}}}},
		},
		{
			name: "single ssrc, rid kept, unknown video type falls back to camera, synthetic",
			in: &colibri2.Sources{MediaSources: []colibri2.MediaSource{{Type: "video", ID: "e-v0", Synthetic: true,
				Sources: []colibri2.Source{{SSRC: 7, RID: "h", VideoType: "hologram"}}}}},
			want: Sources{Video: []VideoSource{{Name: "e-v0", VideoType: VideoTypeCamera, Synthetic: true,
				Encodings: []Encoding{{SSRC: 7, RID: "h"}}}}},
		},
		{
			name: "FEC-FR is not an encoding secondary; empty and unknown media-sources dropped",
			in: &colibri2.Sources{MediaSources: []colibri2.MediaSource{
				{Type: "video", ID: "e-v0", Sources: []colibri2.Source{src(1, "DESKTOP_HIGH_FPS"), src(2, "")},
					SSRCGroups: []colibri2.SSRCGroup{group("FEC-FR", 1, 2), group("FID", 1), group("SIM")}},
				{Type: "video", ID: "empty"},
				{Type: "data", ID: "d", Sources: []colibri2.Source{src(9, "")}},
				{Type: "audio", ID: "e-a0", Synthetic: true, Sources: []colibri2.Source{src(5, ""), src(6, "")}},
			}},
			want: Sources{
				Audio: []AudioSource{{Name: "e-a0", SSRC: 5, Synthetic: true}, {Name: "e-a0", SSRC: 6, Synthetic: true}},
				Video: []VideoSource{{Name: "e-v0", VideoType: VideoTypeDesktopHighFPS, Encodings: []Encoding{{SSRC: 1}}}},
			},
		},
		{
			name: "simulcast group without <source> elements",
			in: &colibri2.Sources{MediaSources: []colibri2.MediaSource{{Type: "video", ID: "e-v0",
				SSRCGroups: []colibri2.SSRCGroup{group("SIM", 1, 2, 3)}}}},
			want: Sources{Video: []VideoSource{{Name: "e-v0", VideoType: VideoTypeCamera,
				Encodings: []Encoding{{SSRC: 1}, {SSRC: 2}, {SSRC: 3}}}}},
		},
		{name: "empty <sources/> clears", in: &colibri2.Sources{}, want: Sources{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseSources(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestSourcesReplaced: <sources/> is a full replacement and <sources/> empty clears (pitfall 9),
// and a published snapshot is not changed by later updates.
func TestSourcesReplaced(t *testing.T) {
	tb := newTestBridge(t, nil)
	ep := createEP("a")
	ep.Sources = cameraSources("a", 100)
	mustDo(t, tb.Videobridge, allocate(meeting, true, ep))
	mustDo(t, tb.Videobridge, allocate(meeting, false, createEP("b")))
	before := endpointInfo(t, tb, "a")
	mustDo(t, tb.Videobridge, update(meeting, colibri2.Endpoint{ID: "a", Sources: &colibri2.Sources{}}))
	if got := endpointInfo(t, tb, "a").Sources; !got.Empty() {
		t.Fatalf("sources not cleared: %+v", got)
	}
	if !reflect.DeepEqual(before.Sources, parseSources(cameraSources("a", 100))) {
		t.Fatal("old snapshot modified")
	}
	// Media merges by payload type number / extension id, never removing.
	mustDo(t, tb.Videobridge, update(meeting, colibri2.Endpoint{ID: "a", Media: []colibri2.Media{{Type: "video",
		PayloadTypes:     []colibri2.PayloadType{{ID: 100, Name: "VP8", ClockRate: 90000, Channels: 1}, {ID: 101, Name: "VP9", ClockRate: 90000}},
		HeaderExtensions: []colibri2.HeaderExtension{{ID: 3, URI: "urn:x"}}}}}))
	got := endpointInfo(t, tb, "a").Media
	var pts []string
	for _, pt := range got.PayloadTypes {
		pts = append(pts, pt.MediaType+"/"+pt.Name)
	}
	if !reflect.DeepEqual(pts, []string{"audio/opus", "video/VP8", "video/VP9"}) || got.PayloadTypes[1].Channels != 1 ||
		got.HeaderExtensions[1] != (HeaderExtension{ID: 3, URI: "urn:x"}) || got.ExtmapAllowMixed {
		t.Fatalf("media after merge: %+v", got)
	}
	if before.Media.PayloadTypes[1].Channels != 0 || len(before.Media.PayloadTypes) != 2 {
		t.Fatal("old snapshot's media modified")
	}
}
