package receiver

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

type layerView struct {
	Active        [3]bool
	Width, Height [3]uint16
	MinSide       [3]int
	FPS           [3]int
}

func viewLayers(l *Layers, now int64) layerView {
	var v layerView
	for i := 0; i < 3; i++ {
		v.Active[i] = l.Active(i, now)
		v.Width[i], v.Height[i] = l.Size(i)
		v.MinSide[i] = l.Height(i)
		v.FPS[i] = l.FrameRate(i)
	}
	return v
}

type layerPkt struct {
	enc  int
	at   int64
	ts   uint64
	w, h uint16
}

func TestLayers(t *testing.T) {
	// frames emits n frames of encoding enc at fps from t0, two packets each.
	frames := func(enc int, t0 int64, n, fps int) []layerPkt {
		var out []layerPkt
		for i := 0; i < n; i++ {
			at := t0 + int64(i)*1e9/int64(fps)
			ts := uint64(i * 90000 / fps)
			out = append(out, layerPkt{enc: enc, at: at, ts: ts}, layerPkt{enc: enc, at: at + ms, ts: ts})
		}
		return out
	}
	cat := func(ps ...[]layerPkt) []layerPkt {
		var out []layerPkt
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		in   []layerPkt
		now  int64
		want layerView
	}{
		{
			name: "nothing yet",
			now:  5e9,
			want: layerView{},
		},
		{
			name: "keyframe sizes, portrait uses the width",
			in: []layerPkt{{0, 1e9, 0, 320, 180}, {1, 1e9, 0, 360, 640}, {2, 1e9, 0, 1280, 720},
				{0, 1e9 + ms, 3000, 0, 0}},
			now: 1e9 + 10*ms,
			want: layerView{Active: [3]bool{true, true, true}, Width: [3]uint16{320, 360, 1280},
				Height: [3]uint16{180, 640, 720}, MinSide: [3]int{180, 360, 720}},
		},
		{
			name: "inactive after a second of silence",
			in:   []layerPkt{{0, 1e9, 0, 320, 180}, {1, 1e9, 0, 640, 360}, {1, 1.5e9, 9000, 0, 0}},
			now:  2e9,
			want: layerView{Active: [3]bool{false, true, false}, Width: [3]uint16{320, 640, 0},
				Height: [3]uint16{180, 360, 0}, MinSide: [3]int{180, 360, 0}},
		},
		{
			name: "frame rate of the last whole second",
			in:   cat(frames(0, 1e9, 40, 15), frames(1, 1e9, 70, 30)),
			now:  3e9,
			want: layerView{Active: [3]bool{true, true, false}, FPS: [3]int{15, 30, 0}},
		},
		{
			name: "first window",
			in:   frames(2, 1e9, 20, 15),
			now:  2.3e9,
			want: layerView{Active: [3]bool{false, false, true}, FPS: [3]int{0, 0, 15}},
		},
		{
			name: "rounded rate",
			in:   frames(0, 1e9, 50, 24),
			now:  3e9,
			want: layerView{Active: [3]bool{true, false, false}, FPS: [3]int{24, 0, 0}},
		},
		{
			name: "out of range encodings are ignored",
			in:   []layerPkt{{-1, 1e9, 0, 320, 180}, {MaxEncodings, 1e9, 0, 320, 180}},
			now:  1e9,
			want: layerView{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Layers
			for _, p := range tt.in {
				l.Observe(p.enc, p.at, p.ts, p.w, p.h)
			}
			if got := viewLayers(&l, tt.now); got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLayersFill(t *testing.T) {
	var l Layers
	l.Observe(0, 1e9, 0, 320, 180)
	l.Observe(2, 1e9, 0, 1280, 720)
	heights := []int{180, 360, 720} // signaled defaults
	l.Observe(1, 1e9, 0, 0, 0)      // active but no keyframe yet
	l.Observe(2, 1e9, 0, 960, 540)  // the top layer was scaled down
	active := make([]bool, 3)
	l.Fill(1e9, heights, active)
	if want := []int{180, 360, 540}; [3]int(heights) != [3]int(want) || active[0] != true || !active[1] || !active[2] {
		t.Errorf("Fill: heights %v active %v", heights, active)
	}
}

func TestLayersVP8(t *testing.T) {
	// A VP8 keyframe: descriptor S=1 PID=0, frame tag with P=0, start code,
	// then 640x360 (little endian, 14 bits).
	payload := []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a}
	payload = binary.LittleEndian.AppendUint16(payload, 640)
	payload = binary.LittleEndian.AppendUint16(payload, 360)
	var d rtp.VP8Descriptor
	if r := d.Parse(payload); r != rtp.DropNone || !d.Keyframe {
		t.Fatalf("Parse: %v, keyframe %v", r, d.Keyframe)
	}
	var l Layers
	l.ObserveVP8(1, 1e9, 0, &d)
	if w, h := l.Size(1); w != 640 || h != 360 || l.Height(1) != 360 {
		t.Errorf("Size(1) = %d x %d", w, h)
	}
}

// TestLayersConcurrentRead runs Observe on one goroutine and the readers on
// others, for the race detector.
func TestLayersConcurrentRead(t *testing.T) {
	var l Layers
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			heights, active := make([]int, 3), make([]bool, 3)
			for {
				select {
				case <-stop:
					return
				default:
					l.Fill(2e9, heights, active)
					_ = l.FrameRate(1)
				}
			}
		}()
	}
	for i := 0; i < 20000; i++ {
		l.Observe(i%3, int64(i)*ms, uint64(i/3)*3000, uint16(i%2)*640, uint16(i%2)*360)
	}
	close(stop)
	wg.Wait()
}

func TestLayersNoAllocs(t *testing.T) {
	var l Layers
	now := int64(0)
	heights, active := make([]int, 3), make([]bool, 3)
	assertNoAllocs(t, "Observe", func() {
		now += ms
		l.Observe(1, now, uint64(now/1e4), 0, 0)
	})
	assertNoAllocs(t, "Fill", func() { l.Fill(now, heights, active) })
}

func BenchmarkLayersObserve(b *testing.B) {
	var l Layers
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Observe(i%3, int64(i)*100000, uint64(i/12)*3000, 0, 0)
	}
}

func BenchmarkLayersFill(b *testing.B) {
	var l Layers
	for i := 0; i < 3; i++ {
		l.Observe(i, 1, 0, 640, 360)
	}
	heights, active := make([]int, 3), make([]bool, 3)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Fill(2, heights, active)
	}
}
