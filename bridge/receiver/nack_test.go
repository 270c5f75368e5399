package receiver

import (
	"slices"
	"testing"
)

// nackOp is one step of a NackGenerator script: observe seq at t, or (when
// due is set) call Due at t with room for room numbers.
type nackOp struct {
	due  bool
	seq  uint64
	t    int64
	room int
}

func obs(seq uint64, t int64) nackOp { return nackOp{seq: seq, t: t} }
func dueAt(t int64) nackOp           { return nackOp{due: true, t: t, room: 512} }

func TestNackGenerator(t *testing.T) {
	tests := []struct {
		name    string
		ops     []nackOp
		want    [][]uint16 // the result of each Due, in order
		missing int
		stats   NackStats
	}{
		{
			name:  "no loss",
			ops:   []nackOp{obs(1, 0), obs(2, 1), dueAt(1), obs(3, 2), dueAt(200 * ms)},
			want:  [][]uint16{nil, nil},
			stats: NackStats{},
		},
		{
			name: "gap is requested at once, then every 150 ms",
			ops: []nackOp{obs(10, 0), obs(13, 5*ms), dueAt(5 * ms), dueAt(154 * ms),
				dueAt(155 * ms), dueAt(200 * ms), dueAt(305 * ms)},
			want:    [][]uint16{{11, 12}, nil, {11, 12}, nil, {11, 12}},
			missing: 2,
			stats:   NackStats{Requested: 6},
		},
		{
			name: "late arrival stops the requests for it",
			ops: []nackOp{obs(10, 0), obs(14, 0), dueAt(0), obs(12, 10*ms), obs(12, 11*ms),
				dueAt(150 * ms), obs(11, 160*ms), obs(13, 160*ms), dueAt(300 * ms)},
			want:  [][]uint16{{11, 12, 13}, {11, 13}, nil},
			stats: NackStats{Requested: 5, Recovered: 3},
		},
		{
			name: "a jump of 100 resets without a request",
			ops:  []nackOp{obs(10, 0), obs(12, 0), obs(112, 1), dueAt(1), obs(114, 2), dueAt(2)},
			want: [][]uint16{nil, {113}}, missing: 1,
			stats: NackStats{Requested: 1},
		},
		{
			name: "a jump of 99 is requested",
			ops:  []nackOp{obs(1, 0), obs(100, 0), nackOp{due: true, t: 0, room: 3}},
			want: [][]uint16{{2, 3, 4}}, missing: 98,
			stats: NackStats{Requested: 3},
		},
		{
			name: "no room: the rest stays due",
			ops: []nackOp{obs(1, 0), obs(6, 0), nackOp{due: true, t: 0, room: 2},
				nackOp{due: true, t: 1, room: 2}, dueAt(2), dueAt(3)},
			want:    [][]uint16{{2, 3}, {4, 5}, nil, nil},
			missing: 4,
			stats:   NackStats{Requested: 4},
		},
		{
			name: "wire numbers wrap",
			ops:  []nackOp{obs(1<<16+65534, 0), obs(2<<16+1, 0), dueAt(0)},
			want: [][]uint16{{65535, 0}}, missing: 2,
			stats: NackStats{Requested: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g NackGenerator
			var got [][]uint16
			for _, op := range tt.ops {
				if op.due {
					got = append(got, g.Due(op.t, make([]uint16, 0, op.room)))
				} else {
					g.Observe(op.seq, op.t)
				}
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("Due results %v, want %v", got, tt.want)
			}
			if g.Missing() != tt.missing || g.Stats() != tt.stats {
				t.Errorf("missing %d stats %+v, want %d %+v", g.Missing(), g.Stats(), tt.missing, tt.stats)
			}
		})
	}
}

func TestNackGiveUp(t *testing.T) {
	var g NackGenerator
	g.Observe(1, 0)
	g.Observe(3, 0)
	var times []int64
	for now := int64(0); now < 3e9; now += 10 * ms {
		if len(g.Due(now, make([]uint16, 0, 4))) > 0 {
			times = append(times, now)
		}
	}
	want := []int64{0, 150 * ms, 300 * ms, 450 * ms, 600 * ms, 750 * ms, 900 * ms, 1050 * ms, 1200 * ms, 1350 * ms}
	if !slices.Equal(times, want) {
		t.Errorf("requests at %v, want %v", times, want)
	}
	if _, ok := g.NextDue(); ok || g.Missing() != 0 || g.Stats() != (NackStats{Requested: 10, GaveUp: 1}) {
		t.Errorf("after giving up: missing %d, stats %+v", g.Missing(), g.Stats())
	}
}

func TestNackCapacity(t *testing.T) {
	var g NackGenerator
	g.Observe(1<<16, 0)
	// Lose every other packet until more than NackCapacity are missing.
	seq := uint64(1 << 16)
	for i := 0; i < NackCapacity+10; i++ {
		seq += 2
		g.Observe(seq, 0)
	}
	if g.Missing() != NackCapacity || g.Stats().GaveUp != 10 {
		t.Fatalf("missing %d, gave up %d; want %d, 10", g.Missing(), g.Stats().GaveUp, NackCapacity)
	}
	out := g.Due(0, make([]uint16, 0, 2*NackCapacity))
	if len(out) != NackCapacity || out[0] != 21 || out[len(out)-1] != uint16(seq-1) {
		t.Fatalf("Due gave %d numbers from %d to %d", len(out), out[0], out[len(out)-1])
	}
}

func TestNackNextDue(t *testing.T) {
	var g NackGenerator
	if _, ok := g.NextDue(); ok {
		t.Fatal("NextDue on an empty generator")
	}
	g.Observe(1, 0)
	g.Observe(3, 7*ms)
	if at, ok := g.NextDue(); !ok || at != 7*ms {
		t.Fatalf("NextDue = %d, %v; want 7 ms", at, ok)
	}
	g.Due(8*ms, make([]uint16, 0, 4))
	if at, ok := g.NextDue(); !ok || at != 158*ms {
		t.Fatalf("NextDue = %d, %v; want 158 ms", at, ok)
	}
}

func TestNackNoAllocs(t *testing.T) {
	var g NackGenerator
	out := make([]uint16, 0, NackCapacity)
	seq, now := uint64(1<<16), int64(0)
	assertNoAllocs(t, "Observe+Due", func() {
		seq += 1 + seq%3 // some loss
		now += ms
		g.Observe(seq, now)
		out = g.Due(now, out[:0])
	})
}

// FuzzNackGenerator drives the generator with random arrivals and Due calls
// and checks that it never requests a packet that arrived, never more than
// NackMaxTries times, never twice within NackInterval, and only numbers
// between two arrivals.
func FuzzNackGenerator(f *testing.F) {
	f.Add([]byte{1, 0, 3, 0, 0x80, 0x40, 2, 0, 0x80, 0xff, 0x80, 0xff})
	f.Add([]byte{0x7f, 0, 0x70, 0, 0x81, 1, 0xf0, 0, 0x80, 0x10})
	f.Add([]byte{5, 1, 0x90, 0x10, 0x85, 2, 0xc0, 3, 0x80, 0x96, 0x80, 0x96, 0x80, 0x96})
	f.Fuzz(func(t *testing.T, in []byte) {
		var g NackGenerator
		seq, now := uint64(1<<20), int64(0)
		received := map[uint64]bool{}
		tries := map[uint64]int{}
		last := map[uint64]int64{}
		highest := seq
		out := make([]uint64, 0, 64)
		for i := 0; i+1 < len(in); i += 2 {
			op, arg := in[i], in[i+1]
			if op&0x80 != 0 {
				// Due after arg ms (arg up to 255 ms).
				now += int64(arg) * ms
				out = due(&g, now, out[:0])
				for _, s := range out {
					if received[s] {
						t.Fatalf("requested %d, which arrived", s)
					}
					if s >= highest {
						t.Fatalf("requested %d, not below the highest %d", s, highest)
					}
					if tries[s] > 0 && now-last[s] < NackInterval {
						t.Fatalf("requested %d again after %d ns", s, now-last[s])
					}
					if tries[s]++; tries[s] > NackMaxTries {
						t.Fatalf("requested %d %d times", s, tries[s])
					}
					last[s] = now
				}
				continue
			}
			// Arrival: op's low bits move forward (gaps up to 127, so
			// resets too) or, with 0x40, back by arg.
			if op&0x40 != 0 {
				seq -= min(uint64(arg), seq-1)
			} else {
				seq += uint64(op&0x3f)*2 + uint64(arg&1)
			}
			now += int64(arg&0x0f) * 100000
			received[seq] = true
			highest = max(highest, seq)
			g.Observe(seq, now)
		}
	})
}

func BenchmarkNackInOrder(b *testing.B) {
	var g NackGenerator
	out := make([]uint16, 0, NackCapacity)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now := int64(i) * 100000
		g.Observe(uint64(i), now)
		out = g.Due(now, out[:0])
	}
}

// BenchmarkNackLossy loses one packet in 20, with a retransmission arriving
// 30 packets later.
func BenchmarkNackLossy(b *testing.B) {
	var g NackGenerator
	out := make([]uint16, 0, NackCapacity)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now := int64(i) * 100000
		s := uint64(i) + 1<<16
		if i%20 != 0 {
			g.Observe(s, now)
		}
		if i%20 == 10 && i > 30 {
			g.Observe(s-30, now)
		}
		out = g.Due(now, out[:0])
	}
}
