package bwe

import (
	"slices"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/pion/rtcp"
)

const ms = int64(1e6)

// status is one reported packet: At is the reconstructed arrival time in
// µs (reference time plus the deltas so far), 0 when not received.
type status struct {
	Seq      uint16
	Received bool
	At       int64
}

// header is what identifies one feedback packet.
type header struct {
	Sender, Media uint32
	Base, Count   uint16
	FbCount       uint8
}

// decodePion decodes a compound of feedback packets with pion/rtcp.
func decodePion(t testing.TB, b []byte) ([]header, []status) {
	t.Helper()
	if len(b) == 0 {
		return nil, nil
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		t.Fatalf("pion: %v (%x)", err, b)
	}
	var hs []header
	var out []status
	for _, p := range pkts {
		cc, ok := p.(*rtcp.TransportLayerCC)
		if !ok {
			t.Fatalf("pion: %T, want *rtcp.TransportLayerCC", p)
		}
		hs = append(hs, header{cc.SenderSSRC, cc.MediaSSRC, cc.BaseSequenceNumber, cc.PacketStatusCount, cc.FbPktCount})
		var syms []uint16
		for _, c := range cc.PacketChunks {
			switch c := c.(type) {
			case *rtcp.RunLengthChunk:
				for i := 0; i < int(c.RunLength); i++ {
					syms = append(syms, c.PacketStatusSymbol)
				}
			case *rtcp.StatusVectorChunk:
				syms = append(syms, c.SymbolList...)
			}
		}
		if len(syms) < int(cc.PacketStatusCount) {
			t.Fatalf("pion: %d symbols for %d statuses", len(syms), cc.PacketStatusCount)
		}
		at, d := int64(cc.ReferenceTime)*64000, 0
		for i := 0; i < int(cc.PacketStatusCount); i++ {
			s := status{Seq: cc.BaseSequenceNumber + uint16(i)}
			if syms[i] != rtcp.TypeTCCPacketNotReceived {
				at += cc.RecvDeltas[d].Delta
				d++
				s.Received, s.At = true, at
			}
			out = append(out, s)
		}
		if d != len(cc.RecvDeltas) {
			t.Fatalf("pion: %d deltas used of %d", d, len(cc.RecvDeltas))
		}
	}
	return hs, out
}

// decodeRTP decodes the same with bridge/rtp's parser.
func decodeRTP(t testing.TB, b []byte) ([]header, []status) {
	t.Helper()
	var hs []header
	var out []status
	it := rtp.NewRTCPIter(b)
	for _, pkt, ok := it.Next(); ok; _, pkt, ok = it.Next() {
		cc, r := rtp.ParseTransportCC(pkt)
		if r != rtp.DropNone {
			t.Fatalf("rtp: %v", r)
		}
		hs = append(hs, header{cc.SenderSSRC, cc.MediaSSRC, cc.BaseSeq, cc.StatusCount, cc.FbPktCount})
		at := int64(cc.ReferenceTime) * 64000
		pi := cc.Packets()
		for p, ok := pi.Next(); ok; p, ok = pi.Next() {
			s := status{Seq: p.Seq}
			if p.Received {
				at += p.Delta.Microseconds()
				s.Received, s.At = true, at
			}
			out = append(out, s)
		}
		if pi.Reason() != rtp.DropNone {
			t.Fatalf("rtp: statuses: %v", pi.Reason())
		}
	}
	if it.Reason() != rtp.DropNone {
		t.Fatalf("rtp: compound: %v", it.Reason())
	}
	return hs, out
}

// decode decodes with both parsers, checks that they agree and that every
// packet respects the size bound, and returns the result.
func decode(t testing.TB, b []byte) ([]header, []status) {
	t.Helper()
	hp, sp := decodePion(t, b)
	hr, sr := decodeRTP(t, b)
	if !slices.Equal(hp, hr) || !slices.Equal(sp, sr) {
		t.Fatalf("parsers disagree:\npion %v %v\nrtp  %v %v", hp, sp, hr, sr)
	}
	it := rtp.NewRTCPIter(b)
	for h, _, ok := it.Next(); ok; h, _, ok = it.Next() {
		if h.Size() > MaxFeedbackSize {
			t.Fatalf("feedback packet of %d bytes", h.Size())
		}
	}
	return hp, sp
}

// q quantizes an arrival time in ns to the 250 µs grid, in µs.
func q(at int64) int64 { return floorDiv(at, deltaUnit) * 250 }

// sameTime compares reported and recorded times in µs modulo the 24-bit
// reference time's period (2^24 × 64 ms), as a sender does.
func sameTime(a, b int64) bool {
	const period = 1 << 24 * 64000
	return ((a-b)%period+period)%period == 0
}

type rec struct {
	seq    uint16
	at     int64
	marker bool
}

func TestFeedbackPackets(t *testing.T) {
	const t0 = 1000 * ms
	lost := func(s uint16) status { return status{Seq: s} }
	got := func(s uint16, at int64) status { return status{s, true, q(at)} }
	tests := []struct {
		name    string
		rounds  [][]rec // each round is followed by an Append
		headers []header
		want    []status
	}{
		{
			name:    "one loss",
			rounds:  [][]rec{{{10, t0, false}, {11, t0 + 5*ms, false}, {13, t0 + 15*ms, false}, {14, t0 + 20*ms, false}}},
			headers: []header{{1, 2, 10, 5, 0}},
			want:    []status{got(10, t0), got(11, t0+5*ms), lost(12), got(13, t0+15*ms), got(14, t0+20*ms)},
		},
		{
			name:    "sequence numbers wrap",
			rounds:  [][]rec{{{65534, t0, false}, {65535, t0 + ms, false}, {1, t0 + 3*ms, false}}},
			headers: []header{{1, 2, 65534, 4, 0}},
			want:    []status{got(65534, t0), got(65535, t0+ms), lost(0), got(1, t0+3*ms)},
		},
		{
			name: "late arrival is reported again with what follows",
			rounds: [][]rec{
				{{1, t0, false}, {2, t0 + ms, false}, {4, t0 + 3*ms, false}},
				{{3, t0 + 120*ms, false}, {5, t0 + 121*ms, false}},
			},
			headers: []header{{1, 2, 1, 4, 0}, {1, 2, 3, 3, 1}},
			want: []status{got(1, t0), got(2, t0+ms), lost(3), got(4, t0+3*ms),
				got(3, t0+120*ms), got(4, t0+3*ms), got(5, t0+121*ms)},
		},
		{
			name:    "reordered arrival gives a negative delta",
			rounds:  [][]rec{{{1, t0 + 10*ms, false}, {2, t0 + 2*ms, false}, {3, t0 + 80*ms, false}}},
			headers: []header{{1, 2, 1, 3, 0}},
			want:    []status{got(1, t0+10*ms), got(2, t0+2*ms), got(3, t0+80*ms)},
		},
		{
			name:    "a gap beyond a large delta starts a new packet",
			rounds:  [][]rec{{{1, t0, false}, {2, t0 + 9000*ms, false}, {3, t0 + 9001*ms, false}}},
			headers: []header{{1, 2, 1, 1, 0}, {1, 2, 2, 2, 1}},
			want:    []status{got(1, t0), got(2, t0+9000*ms), got(3, t0+9001*ms)},
		},
		{
			name:    "trailing loss waits for the next feedback",
			rounds:  [][]rec{{{1, t0, false}, {3, t0 + ms, false}}, {{2, t0 + 2*ms, false}}},
			headers: []header{{1, 2, 1, 3, 0}, {1, 2, 2, 2, 1}},
			want:    []status{got(1, t0), lost(2), got(3, t0+ms), got(2, t0+2*ms), got(3, t0+ms)},
		},
		{
			name:    "arrival before the epoch",
			rounds:  [][]rec{{{7, -65 * ms, false}, {8, -ms, false}}},
			headers: []header{{1, 2, 7, 2, 0}},
			// Reference time -2 (mod 2^24) is -128 ms; -65 ms is 63 ms after
			// it, and -1 ms 64 ms after that (a large delta).
			want: []status{{7, true, (1<<24-2)*64000 + 63000}, {8, true, (1<<24-2)*64000 + 127000}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g FeedbackGenerator
			var buf []byte
			for _, round := range tt.rounds {
				for _, r := range round {
					g.Record(r.seq, r.at, r.marker)
				}
				buf = g.Append(buf, 1, 2, t0)
			}
			hs, st := decode(t, buf)
			if !slices.Equal(hs, tt.headers) {
				t.Errorf("headers\n got %v\nwant %v", hs, tt.headers)
			}
			if !slices.Equal(st, tt.want) {
				t.Errorf("statuses\n got %v\nwant %v", st, tt.want)
			}
		})
	}
}

// TestFeedbackSplitBySize fills more than one packet: 3000 packets whose
// arrivals alternate forward and back need large deltas.
func TestFeedbackSplitBySize(t *testing.T) {
	var g FeedbackGenerator
	arrivals := map[uint16]int64{}
	for i := 0; i < 3000; i++ {
		at := 1000*ms + int64(i)*ms
		if i%2 == 1 {
			at -= 300 * ms
		}
		if i%10 == 3 {
			continue // some loss
		}
		g.Record(uint16(i), at, false)
		arrivals[uint16(i)] = at
	}
	buf := g.Append(nil, 1, 2, 0)
	hs, st := decode(t, buf)
	if len(hs) < 3 {
		t.Fatalf("%d packets, want at least 3", len(hs))
	}
	seen := 0
	for i, s := range st {
		if s.Seq != uint16(i) {
			t.Fatalf("status %d is seq %d", i, s.Seq)
		}
		at, ok := arrivals[s.Seq]
		if s.Received != ok || (ok && s.At != q(at)) {
			t.Fatalf("seq %d: %+v, recorded %v at %d", s.Seq, s, ok, at)
		}
		if ok {
			seen++
		}
	}
	if seen != len(arrivals) {
		t.Fatalf("%d reported, %d recorded", seen, len(arrivals))
	}
	for i, h := range hs {
		if h.FbCount != uint8(i) {
			t.Errorf("packet %d has fb count %d", i, h.FbCount)
		}
	}
}

func TestFeedbackDue(t *testing.T) {
	type step struct {
		record bool
		r      rec
		now    int64 // for Due, then Append when it says yes
		want   bool
	}
	at := func(now int64, want bool) step { return step{now: now, want: want} }
	pkt := func(seq uint16, t int64, marker bool) step { return step{record: true, r: rec{seq, t, marker}} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing recorded", []step{at(0, false), at(1e9, false)}},
		{"first feedback waits one interval", []step{
			pkt(1, 0, false), at(0, false), pkt(2, 50*ms, false), at(99*ms, false), at(100*ms, true),
			at(150*ms, false), // nothing new
			pkt(3, 160*ms, false), at(199*ms, false), at(200*ms, true),
		}},
		{"marker after 20 ms", []step{
			pkt(1, 0, true), at(19*ms, false), at(20*ms, true),
			pkt(2, 25*ms, true), at(39*ms, false), at(40*ms, true),
			pkt(3, 45*ms, false), at(60*ms, false), pkt(4, 61*ms, true), at(61*ms, true),
		}},
		{"marker only counts on the newest packet", []step{
			pkt(1, 0, true), pkt(2, ms, false), at(30*ms, false), at(100*ms, true),
		}},
		{"half the history pending", func() []step {
			var s []step
			for i := 0; i <= History/2; i++ {
				s = append(s, pkt(uint16(i), 0, false))
			}
			return append(s, at(0, true))
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g FeedbackGenerator
			for i, s := range tt.steps {
				if s.record {
					g.Record(s.r.seq, s.r.at, s.r.marker)
					continue
				}
				if got := g.Due(s.now); got != s.want {
					t.Fatalf("step %d: Due(%d ms) = %v, want %v", i, s.now/ms, got, s.want)
				}
				if s.want {
					g.Append(nil, 1, 2, s.now)
				}
			}
		})
	}
}

func TestFeedbackTooOld(t *testing.T) {
	var g FeedbackGenerator
	g.Record(10, ms, false)
	g.Record(10+History, 2*ms, false)
	g.Record(10, 3*ms, false) // History behind the newest: not kept
	_, st := decode(t, g.Append(nil, 1, 2, 0))
	if len(st) != History || st[0].Seq != 11 || st[0].Received || !st[len(st)-1].Received {
		t.Fatalf("%d statuses from %+v to %+v", len(st), st[0], st[len(st)-1])
	}
}

func TestFeedbackNoAllocs(t *testing.T) {
	var g FeedbackGenerator
	dst := make([]byte, 0, 2*MaxFeedbackSize)
	var seq uint16
	var now int64
	if n := testing.AllocsPerRun(200, func() {
		for i := 0; i < 50; i++ {
			seq++
			now += 2 * ms
			if seq%7 != 0 {
				g.Record(seq, now+int64(seq%3)*ms, seq%5 == 0)
			}
			if g.Due(now) {
				dst = g.Append(dst[:0], 1, 2, now)
			}
		}
	}); n != 0 {
		t.Fatalf("%v allocs per run, want 0", n)
	}
}

// FuzzFeedbackGenerator records random arrivals, appends feedback when Due
// says so and at random points, and checks with both parsers that the feedback reports exactly
// what was recorded: every recorded packet received at its quantized
// arrival time, nothing else received.
func FuzzFeedbackGenerator(f *testing.F) {
	f.Add([]byte{1, 10, 2, 10, 4, 10, 0xff, 3, 200, 5, 1, 0xff})
	f.Add([]byte{0xf0, 0, 0xf1, 0xff, 0x02, 0x80, 0xff, 0x03, 0x01})
	f.Add([]byte{1, 1, 1, 1, 1, 1, 1, 1, 0x81, 0x7f, 0xff})
	f.Fuzz(fuzzFeedback)
}

func fuzzFeedback(t *testing.T, in []byte) {
	var g FeedbackGenerator
	seq, now := uint16(65500), int64(5e9)
	recorded := map[uint16]int64{}
	reported := map[uint16]bool{}
	check := func() {
		buf := g.Append(nil, 1, 2, now)
		_, st := decode(t, buf)
		for _, s := range st {
			at, ok := recorded[s.Seq]
			if s.Received && (!ok || !sameTime(s.At, q(at))) {
				t.Fatalf("seq %d reported at %d µs; recorded %v at %d ns", s.Seq, s.At, ok, at)
			}
			if s.Received {
				reported[s.Seq] = true
			}
		}
	}
	// The model unwraps too, to know what falls out of the history. At
	// most 512 steps of at most 8 keep the numbers within 2^12 of the
	// start, so uint16 keys do not alias (and each run stays fast).
	var u rtp.SeqUnwrapper
	var highest uint64
	for i := 0; i+1 < len(in) && i < 1024; i += 2 {
		op, arg := in[i], in[i+1]
		if op == 0xff {
			check()
			continue
		}
		// Sequence numbers move by -8..+7; arrivals jump by up to
		// ~8.4 s forward or a little back, to exercise large deltas.
		seq += uint16(int16(op&0x0f) - 8)
		switch {
		case op&0x80 != 0:
			now += int64(arg) * 33 * ms
		case op&0x40 != 0:
			now -= int64(arg) * 100000
		default:
			now += int64(arg) * 250000
		}
		if _, dup := recorded[seq]; dup {
			continue // the generator keeps the first arrival
		}
		s64 := u.Unwrap(seq)
		highest = max(highest, s64)
		if s64+History > highest {
			recorded[seq] = now
		} // else too old: the generator must ignore it
		g.Record(seq, now, op&0x20 != 0)
		// The owner asks after every packet; among other things that
		// keeps what is pending within the history.
		if g.Due(now) {
			check()
		}
	}
	check()
	for s := range recorded {
		if !reported[s] {
			t.Fatalf("seq %d recorded but never reported", s)
		}
	}
}

func BenchmarkFeedbackRecord(b *testing.B) {
	var g FeedbackGenerator
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now := int64(i) * 100000
		g.Record(uint16(i), now, i%10 == 0)
		if g.Due(now) {
			g.pending = false // measure Record and Due alone
			g.last = now
		}
	}
}

// BenchmarkFeedbackAppend builds the feedback for 100 ms of a 2.5 Mbps
// sender: 250 packets with 1% loss and some jitter.
func BenchmarkFeedbackAppend(b *testing.B) {
	var g FeedbackGenerator
	dst := make([]byte, 0, 2*MaxFeedbackSize)
	seq, now := uint16(0), int64(0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 250; j++ {
			seq++
			now += 400000
			if seq%100 != 0 {
				g.Record(seq, now+int64(seq%4)*100000, false)
			}
		}
		dst = g.Append(dst[:0], 1, 2, now)
	}
}
