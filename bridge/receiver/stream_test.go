package receiver

import (
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/pion/rtcp"
)

type arrival struct {
	seq uint16
	ts  uint32
	at  int64
	rtx bool
}

type accepted struct {
	Seq64 uint64
	R     DropReason
}

// seqs builds arrivals 1 ms apart whose 90 kHz timestamps advance by 1 ms
// too, so that the jitter stays 0.
func seqs(s ...uint16) []arrival {
	a := make([]arrival, len(s))
	for i, v := range s {
		a[i] = arrival{seq: v, ts: uint32(i+1) * 90, at: int64(i+1) * ms}
	}
	return a
}

func TestStreamReceive(t *testing.T) {
	const c = 1 << 16 // the first number sits in cycle 1
	tests := []struct {
		name  string
		in    []arrival
		want  []accepted
		stats Stats
	}{
		{
			name: "in order",
			in:   seqs(10, 11, 12),
			want: []accepted{{c + 10, DropNone}, {c + 11, DropNone}, {c + 12, DropNone}},
			stats: Stats{SSRC: 1, Packets: 3, Bytes: 300, HighestSeq: c + 12, Expected: 3,
				LastActivity: 3 * ms},
		},
		{
			name: "loss, reorder and duplicate",
			in:   seqs(10, 13, 12, 12, 15),
			want: []accepted{{c + 10, DropNone}, {c + 13, DropNone}, {c + 12, DropNone},
				{c + 12, DropDuplicate}, {c + 15, DropNone}},
			stats: Stats{SSRC: 1, Packets: 4, Bytes: 400, Duplicates: 1, HighestSeq: c + 15,
				Expected: 6, Lost: 2, LastActivity: 5 * ms},
		},
		{
			name: "wrap",
			in:   seqs(65534, 65535, 0, 1),
			want: []accepted{{c + 65534, DropNone}, {c + 65535, DropNone}, {2 * c, DropNone}, {2*c + 1, DropNone}},
			stats: Stats{SSRC: 1, Packets: 4, Bytes: 400, HighestSeq: 2*c + 1, Expected: 4,
				LastActivity: 4 * ms},
		},
		{
			name: "reordered before the first packet",
			in:   seqs(100, 98, 101),
			want: []accepted{{c + 100, DropNone}, {c + 98, DropNone}, {c + 101, DropNone}},
			stats: Stats{SSRC: 1, Packets: 3, Bytes: 300, HighestSeq: c + 101, Expected: 4,
				Lost: 1, LastActivity: 3 * ms},
		},
		{
			name: "too old, then a single stray is not a restart",
			in:   seqs(5000, 3000, 5001, 3001),
			want: []accepted{{c + 5000, DropNone}, {c + 3000, DropTooOld}, {c + 5001, DropNone},
				{c + 3001, DropTooOld}},
			stats: Stats{SSRC: 1, Packets: 2, Bytes: 200, TooOld: 2, HighestSeq: c + 5001,
				Expected: 2, LastActivity: 3 * ms},
		},
		{
			name: "restart: two in a row far behind",
			in:   seqs(30000, 30001, 100, 101, 102, 101),
			want: []accepted{{c + 30000, DropNone}, {c + 30001, DropNone}, {c + 100, DropTooOld},
				{3*c + 101, DropNone}, {3*c + 102, DropNone}, {3*c + 101, DropDuplicate}},
			stats: Stats{SSRC: 1, Packets: 4, Bytes: 400, Duplicates: 1, TooOld: 1, Restarts: 1,
				HighestSeq: 3*c + 102, Expected: 4, LastActivity: 5 * ms},
		},
		{
			name: "old RTX copies never restart",
			in: append(seqs(30000, 30001), arrival{seq: 100, at: 3 * ms, rtx: true},
				arrival{seq: 101, at: 4 * ms, rtx: true}, arrival{seq: 30002, ts: 450, at: 5 * ms}),
			want: []accepted{{c + 30000, DropNone}, {c + 30001, DropNone}, {c + 100, DropTooOld},
				{c + 101, DropTooOld}, {c + 30002, DropNone}},
			stats: Stats{SSRC: 1, Packets: 3, Bytes: 300, TooOld: 2, HighestSeq: c + 30002, Expected: 3,
				LastActivity: 5 * ms},
		},
		{
			name: "jump beyond max dropout is not loss",
			in:   seqs(10, 11, 20000, 20002),
			want: []accepted{{c + 10, DropNone}, {c + 11, DropNone}, {c + 20000, DropNone}, {c + 20002, DropNone}},
			stats: Stats{SSRC: 1, Packets: 4, Bytes: 400, HighestSeq: c + 20002, Expected: 5,
				Lost: 1, LastActivity: 4 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(1, 90000)
			var got []accepted
			for _, a := range tt.in {
				seq64, _, r := s.Receive(a.seq, a.ts, 100, a.at, a.rtx)
				got = append(got, accepted{seq64, r})
				if r == DropNone && uint16(seq64) != a.seq {
					t.Errorf("seq %d unwrapped to %d, which truncates to %d", a.seq, seq64, uint16(seq64))
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("packet %d (seq %d): got %+v, want %+v", i, tt.in[i].seq, got[i], tt.want[i])
				}
			}
			if st := s.Stats(); st != tt.stats {
				t.Errorf("stats\n got %+v\nwant %+v", st, tt.stats)
			}
		})
	}
}

func TestStreamJitter(t *testing.T) {
	// 30 fps at 90 kHz: 3000 ticks per frame, one packet per frame.
	tests := []struct {
		name string
		in   []arrival
		want uint32
	}{
		{"steady", []arrival{{1, 0, 0, false}, {2, 3000, 33333333, false}, {3, 6000, 66666666, false}}, 0},
		// The third packet arrives 10 ms late: D = 900 ticks, J = 900/16.
		{"one late", []arrival{{1, 0, 0, false}, {2, 3000, 33333333, false}, {3, 6000, 76666666, false}}, 56},
		// Then back on time: D = -901 (the arrival gap floors to 2099
		// ticks); J*16 = 900 + 901 - (908>>4) = 1745, J = 109.
		{"late then on time", []arrival{{1, 0, 0, false}, {2, 3000, 33333333, false}, {3, 6000, 76666666, false}, {4, 9000, 99999999, false}}, 109},
		// A reordered packet gives no sample.
		{"reordered ignored", []arrival{{1, 0, 0, false}, {3, 6000, 66666666, false}, {2, 3000, 90000000, false}}, 0},
		// Neither does a retransmission, however late.
		{"retransmission ignored", []arrival{{1, 0, 0, false}, {2, 3000, 33333333, false}, {3, 6000, 76666666, true}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(1, 90000)
			for _, a := range tt.in {
				s.Receive(a.seq, a.ts, 100, a.at, a.rtx)
			}
			if got := s.Stats().Jitter; got != tt.want {
				t.Errorf("jitter %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStreamReportBlock(t *testing.T) {
	const c = 1 << 16
	s := NewStream(0xabc, 0) // clock rate 0: no jitter, tested above
	// Interval 1: 1..10 with 3, 4 and 7 lost.
	for _, q := range []uint16{1, 2, 5, 6, 8, 9, 10} {
		s.Receive(q, 0, 100, int64(q)*ms, false)
	}
	s.ReceiveSR(0x1122334455667788, 100*ms)
	got := s.ReportBlock(100*ms + 1e9/4) // 0.25 s after the SR
	want := rtp.ReportBlock{SSRC: 0xabc, FractionLost: 3 * 256 / 10, TotalLost: 3, HighestSeq: 10,
		LSR: 0x33445566, DLSR: 0x4000}
	if got != want {
		t.Errorf("interval 1\n got %+v\nwant %+v", got, want)
	}
	// Interval 2: 3 and 4 arrive late (retransmitted), 11 and 12 arrive.
	for _, q := range []uint16{3, 4, 11, 12} {
		s.Receive(q, 0, 100, 200*ms, false)
	}
	got = s.ReportBlock(600 * ms)
	want = rtp.ReportBlock{SSRC: 0xabc, FractionLost: 0, TotalLost: 1, HighestSeq: 12,
		LSR: 0x33445566, DLSR: uint32(500 * ms * 65536 / 1e9)}
	if got != want {
		t.Errorf("interval 2\n got %+v\nwant %+v", got, want)
	}
	if st := s.Stats(); st.HighestSeq != c+12 {
		t.Errorf("HighestSeq %d", st.HighestSeq)
	}
}

func TestAppendRR(t *testing.T) {
	const now = 10e9
	streams := make([]*Stream, 40)
	for i := range streams {
		s := NewStream(uint32(1000+i), 90000)
		s.Receive(7, 0, 100, now-1e9, false)
		streams[i] = &s
	}
	silent := NewStream(5, 90000) // never received: not reported
	stale := NewStream(6, 90000)  // last packet 8 s ago: not reported
	stale.Receive(1, 0, 100, now-ReportTimeout, false)
	all := append(append([]*Stream{}, streams[:20]...), &silent, &stale)
	all = append(all, streams[20:]...)

	b := AppendRR([]byte{0xee}, 0xb1d6e, now, all...)
	if b[0] != 0xee {
		t.Fatal("AppendRR overwrote dst")
	}
	pkts, err := rtcp.Unmarshal(b[1:])
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for i, p := range pkts {
		rr, ok := p.(*rtcp.ReceiverReport)
		if !ok || rr.SSRC != 0xb1d6e {
			t.Fatalf("packet %d: %#v", i, p)
		}
		if want := []int{31, 9}[i]; len(rr.Reports) != want {
			t.Errorf("RR %d has %d blocks, want %d", i, len(rr.Reports), want)
		}
		for _, r := range rr.Reports {
			got = append(got, r.SSRC)
			if r.LastSequenceNumber != 7 {
				t.Errorf("block %d: highest %d", r.SSRC, r.LastSequenceNumber)
			}
		}
	}
	if len(got) != 40 {
		t.Fatalf("%d blocks, want 40", len(got))
	}
	for i, ssrc := range got {
		if ssrc != uint32(1000+i) {
			t.Fatalf("block %d is SSRC %d, want %d", i, ssrc, 1000+i)
		}
	}
	if out := AppendRR(nil, 1, now, &silent, &stale); len(out) != 0 {
		t.Errorf("AppendRR with no reportable stream appended %x", out)
	}
}

func TestStreamNoAllocs(t *testing.T) {
	s := NewStream(1, 90000)
	streams := []*Stream{&s}
	dst := make([]byte, 0, 1500)
	var seq uint16
	var now int64
	assertNoAllocs(t, "Receive", func() {
		seq++
		now += ms
		s.Receive(seq, uint32(seq)*3000, 1200, now, false)
	})
	assertNoAllocs(t, "AppendRR", func() { AppendRR(dst[:0], 1, now, streams...) })
}

// FuzzStream feeds random sequence numbers and checks the duplicate window
// against a model: a number accepted twice within the window is a bug, an
// accepted number always truncates to the wire value, and no number goes
// below an earlier one's cycle after a restart.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 2, 0xff, 0xff, 0, 0})
	f.Add([]byte{0x80, 0, 0x80, 1, 0, 5, 0, 6, 0, 5})
	f.Add([]byte{0x12, 0x34, 0x12, 0x34, 0x12, 0x30, 0x50, 0, 0x50, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewStream(1, 48000)
		seen := map[uint64]bool{}
		for i := 0; i+1 < len(in); i += 2 {
			seq := uint16(in[i])<<8 | uint16(in[i+1])
			seq64, _, r := s.Receive(seq, uint32(i)*960, 100, int64(i)*ms, false)
			if uint16(seq64) != seq && r != DropTooOld {
				t.Fatalf("seq %d unwrapped to %d", seq, seq64)
			}
			switch r {
			case DropNone:
				if seen[seq64] {
					t.Fatalf("seq64 %d accepted twice", seq64)
				}
				seen[seq64] = true
			case DropDuplicate:
				if !seen[seq64] {
					t.Fatalf("seq64 %d called a duplicate but never accepted", seq64)
				}
			}
		}
		st := s.Stats()
		if st.Packets != uint64(len(seen)) {
			t.Fatalf("Packets %d, accepted %d", st.Packets, len(seen))
		}
	})
}

func BenchmarkStreamReceive(b *testing.B) {
	s := NewStream(1, 90000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Receive(uint16(i), uint32(i/4)*3000, 1200, int64(i)*100000, false)
	}
}

// BenchmarkStreamReceiveReordered swaps every other pair of packets.
func BenchmarkStreamReceiveReordered(b *testing.B) {
	s := NewStream(1, 90000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q := uint16(i ^ 1)
		s.Receive(q, uint32(q/4)*3000, 1200, int64(i)*100000, false)
	}
}

func BenchmarkAppendRR(b *testing.B) {
	streams := make([]*Stream, 3)
	for i := range streams {
		s := NewStream(uint32(i), 90000)
		s.Receive(1, 0, 100, 1, false)
		streams[i] = &s
	}
	dst := make([]byte, 0, 1500)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		AppendRR(dst[:0], 1, 2, streams...)
	}
}
