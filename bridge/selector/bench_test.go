package selector

import (
	"math/rand/v2"
	"testing"
)

// benchStream is a pre-built 3 × L1T3 simulcast stream (encoding e sends
// e+1 packets per frame) that is replayed lap after lap, shifted so that it
// continues: packet i of the endless stream is built on the stack.
type benchStream struct {
	pkts    []PacketInfo
	seqSpan [3]uint64
	ticks   uint64
}

const benchTicks = 400 // a multiple of 4, the L1T3 pattern length

func newBenchStream() *benchStream {
	s := newSim()
	b := &benchStream{ticks: benchTicks}
	for i := range benchTicks {
		b.pkts = append(b.pkts, s.tick([3]bool{i == 0, i == 0, i == 0}, allActive)...)
	}
	for e := range b.seqSpan {
		b.seqSpan[e] = benchTicks * uint64(e+1)
	}
	return b
}

func (b *benchStream) at(i int) PacketInfo {
	lap := uint64(i / len(b.pkts))
	p := b.pkts[i%len(b.pkts)]
	p.ExtSeq += lap * b.seqSpan[p.Encoding]
	p.ExtTS += lap * b.ticks * 3000
	p.Arrival += int64(lap*b.ticks) * frameNs
	p.VP8.PictureID = uint16((uint64(p.VP8.PictureID) + lap*b.ticks) & 0x7fff)
	if !p.VP8.LongPictureID {
		p.VP8.PictureID &= 0x7f
	}
	p.VP8.TL0PICIDX += uint8(lap * b.ticks / 4)
	return p
}

func BenchmarkDecideVP8(b *testing.B) {
	for _, bc := range []struct {
		name   string
		target Layer
	}{
		{"top_all_layers", Layer{2, MaxTemporal}},
		{"middle_TL1", Layer{1, 1}},
		{"low_TL0", Layer{0, 0}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bs := newBenchStream()
			var s VP8State
			s.SetTarget(bc.target)
			fw := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				p := bs.at(i)
				if DecideVP8(&s, &p).Forward {
					fw++
				}
			}
			b.ReportMetric(float64(fw)/float64(b.N), "forwarded/op")
		})
	}
}

// BenchmarkDecideVP8Switching changes the target every 10 frames, so that
// keyframe groups, anchoring and pending-switch filtering are measured too.
func BenchmarkDecideVP8Switching(b *testing.B) {
	bs := newBenchStream()
	var s VP8State
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%60 == 0 {
			s.SetTarget(Layer{int8(i / 60 % 3), MaxTemporal})
		}
		p := bs.at(i)
		p.Keyframe = p.StartOfFrame && i%120 < 6
		DecideVP8(&s, &p)
	}
}

func BenchmarkDecideGeneric(b *testing.B) {
	bs := newBenchStream()
	var s GenericState
	s.SetTarget(Layer{2, 0})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := bs.at(i)
		DecideGeneric(&s, &p)
	}
}

func BenchmarkDecideAudio(b *testing.B) {
	var s AudioState
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := PacketInfo{ExtSeq: 1<<16 + uint64(i), ExtTS: 1<<32 + uint64(i)*960, PayloadLen: 60,
			HasAudioLevel: true, AudioLevel: uint8(120 + i%8)}
		DecideAudio(&s, &p)
	}
}

// TestDecideAllocs: no Decide function allocates, on any path (random
// streams with loss, reordering, duplicates, switches and restarts).
func TestDecideAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 3*20000)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	var (
		g   fuzzGen
		vs  VP8State
		gs  GenericState
		as  AudioState
		off int
	)
	vs.SetTarget(Layer{2, 3})
	gs.SetTarget(Layer{0, 0})
	allocs := testing.AllocsPerRun(10000, func() {
		p, target, ok := g.next(buf[off%len(buf):])
		off += 3
		if !ok {
			vs.SetTarget(target)
			gs.SetTarget(target)
			as.SetForceMuted(target.Encoding < 0)
			return
		}
		DecideVP8(&vs, &p)
		DecideGeneric(&gs, &p)
		DecideAudio(&as, &p)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
	bs := newBenchStream()
	var s VP8State
	s.SetTarget(Layer{2, MaxTemporal})
	i := 0
	if allocs := testing.AllocsPerRun(5000, func() {
		p := bs.at(i)
		i++
		DecideVP8(&s, &p)
	}); allocs != 0 {
		t.Fatalf("%v allocations per packet in steady state", allocs)
	}
}
