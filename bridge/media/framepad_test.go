package media

import (
	"slices"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/router"
)

// TestFramePads: the packets of one frame are padded to its longest payload when the sizes
// are the packetizer's rounding; other frames, layers, sources and audio are left alone.
func TestFramePads(t *testing.T) {
	video := &srcView{rs: &router.Source{Kind: router.KindVideo, Name: "v"}}
	video2 := &srcView{rs: &router.Source{Kind: router.KindVideo, Name: "v2"}}
	audio := &srcView{rs: &router.Source{Kind: router.KindAudio, Name: "a"}}
	type p struct {
		src     *srcView
		ssrc    uint32
		ts      uint64
		plen    int
		padding int // bytes of padding the source sent
	}
	tests := []struct {
		name string
		in   []p
		want []int32
	}{
		{"libwebrtc split, larger last", []p{{video, 1, 90, 1100, 0}, {video, 1, 90, 1100, 0}, {video, 1, 90, 1101, 0}, {video, 1, 90, 1101, 0}},
			[]int32{1101, 1101, 0, 0}},
		{"two frames, two layers", []p{{video, 1, 90, 1100, 0}, {video, 2, 90, 300, 0}, {video, 1, 90, 1101, 0}, {video, 2, 90, 301, 0},
			{video, 1, 180, 900, 0}, {video, 1, 180, 904, 0}},
			[]int32{1101, 301, 0, 0, 904, 0}},
		{"spread beyond the bound", []p{{video, 1, 90, 1000, 0}, {video, 1, 90, 1000 + maxFramePad + 1, 0}}, []int32{0, 0}},
		{"a padded packet in the frame", []p{{video, 1, 90, 1100, 0}, {video, 1, 90, 1101, 3}}, []int32{0, 0}},
		{"equal sizes", []p{{video, 1, 90, 1100, 0}, {video, 1, 90, 1100, 0}}, []int32{0, 0}},
		{"one packet per run", []p{{video, 1, 90, 1100, 0}, {video2, 5, 90, 1101, 0}}, []int32{0, 0}},
		{"audio", []p{{audio, 9, 90, 60, 0}, {audio, 9, 90, 61, 0}}, []int32{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := make([]fanItem, len(tt.in))
			bufs := make([]packet.Buf, len(tt.in))
			for i, x := range tt.in {
				b := &bufs[i]
				b.SSRC, b.TS64, b.PayloadOffset, b.PayloadLen = x.ssrc, x.ts, 12, x.plen
				b.N = 12 + x.plen + x.padding
				items[i] = fanItem{buf: b, src: x.src, padTo: 77} // stale values are overwritten
			}
			framePads(items)
			got := make([]int32, len(items))
			for i := range items {
				got[i] = items[i].padTo
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("padTo %v, want %v", got, tt.want)
			}
		})
	}
}
