package sender

import (
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/selector"
)

const ms = int64(1e6)

func TestRoundTrip(t *testing.T) {
	const unit = 1 << 16 // 1/65536 s per unit: 65536 units = 1 s
	for _, c := range []struct {
		name                string
		sent, arrival, dlsr uint32
		want                int64
		ok                  bool
	}{
		{"100 ms, no delay", 1000, 1000 + unit/10, 0, 99_990_844, true},
		{"250 ms after a 1 s delay", 5 * unit, 5*unit + unit + unit/4, unit, 250e6, true},
		{"across the 2^32 wrap", 0xffff_0000, 0x0000_4000, 0x4000, 1e9, true},
		{"rounding makes it slightly negative", 1000, 1000, 10, 0, true},
		{"delay longer than the elapsed time", 1000, 1000, unit, 0, false},
		{"longer than MaxRTT", 0, 11 * unit, 0, 0, false},
	} {
		got, ok := roundTrip(c.sent, c.arrival, c.dlsr)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: roundTrip = %d %v, want %d %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestShortTime(t *testing.T) {
	for _, c := range []struct {
		ns   int64
		want uint32
	}{
		{0, 0}, {1e9, 1 << 16}, {1_500_000_000, 3 << 15}, {65536 * 1e9, 0}, {65537*1e9 + 250e6, 1<<16 | 1<<14},
	} {
		if got := shortTime(c.ns); got != c.want {
			t.Errorf("shortTime(%d) = %#x, want %#x", c.ns, got, c.want)
		}
	}
}

// report is the block a receiver returns for an SR with NTP time ntp, delay after receiving it.
func report(ntp uint64, delay int64) rtp.ReportBlock {
	return rtp.ReportBlock{SSRC: 1001, LSR: rtp.LSR(ntp), DLSR: uint32(delay << 16 / 1e9)}
}

func TestReportLog(t *testing.T) {
	var l ReportLog
	srA, srB, srC := uint64(0x1111_2222_3333_4444), uint64(0x5555_6666_7777_8888), uint64(0x9999_aaaa_bbbb_cccc)
	l.Sent(srA, 1000*ms)
	l.Sent(srB, 1010*ms) // within reportLogGap of A: not noted
	l.Sent(srC, 1030*ms)

	// A receiver got A 20 ms after it left, held it 500 ms, and its report took 30 ms back.
	b := report(srA, 500*ms)
	rtt, ok := l.RoundTrip(&b, 1550*ms)
	if !ok || rtt < 49*ms || rtt > 51*ms {
		t.Errorf("RTT from A = %v %v, want about 50 ms", rtt, ok)
	}
	b = report(srC, 100*ms)
	if rtt, ok := l.RoundTrip(&b, 1140*ms); !ok || rtt < 9*ms || rtt > 11*ms {
		t.Errorf("RTT from C = %v %v, want about 10 ms", rtt, ok)
	}
	for name, b := range map[string]rtp.ReportBlock{
		"an SR skipped by the gap": report(srB, 0),
		"no SR yet (LSR 0)":        {SSRC: 1001},
		"an SR never sent":         report(0x0123_4567_89ab_cdef, 0),
	} {
		if rtt, ok := l.RoundTrip(&b, 2000*ms); ok {
			t.Errorf("%s: RTT %d", name, rtt)
		}
	}

	// The log keeps the last reportLogSize SRs: the oldest are forgotten.
	for i := range reportLogSize {
		l.Sent(uint64(i+1)<<32, (2000+int64(i)*reportLogGap/ms)*ms)
	}
	b = report(srC, 0)
	if _, ok := l.RoundTrip(&b, 5000*ms); ok {
		t.Error("an SR older than the log's slots still matched")
	}
	b = report(uint64(reportLogSize)<<32, 0)
	if _, ok := l.RoundTrip(&b, 5000*ms); !ok {
		t.Error("the newest SR did not match")
	}
}

func TestRetransmitDue(t *testing.T) {
	for _, c := range []struct {
		since, rtt int64
		want       bool
	}{
		{0, 0, true},               // RTT unknown: always
		{10 * ms, 100 * ms, false}, // within min(90, 95) ms
		{89 * ms, 100 * ms, false},
		{90 * ms, 100 * ms, true},
		{14 * ms, 20 * ms, false}, // min(18, 15) ms
		{15 * ms, 20 * ms, true},
		{0, 3 * ms, true}, // RTT − 5 ms < 0: nothing to wait for
	} {
		if got := RetransmitDue(c.since, c.rtt); got != c.want {
			t.Errorf("RetransmitDue(%d ms, RTT %d ms) = %v, want %v", c.since/ms, c.rtt/ms, got, c.want)
		}
	}
}

// TestRetransmitWithinRTT: a packet is not retransmitted again within the receiver's RTT of
// its last (re)transmission; the first send counts.
func TestRetransmitWithinRTT(t *testing.T) {
	s := New(true, 1001, 1011)
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	rx := newReceiver(jicofoExt)
	rx.RTT = 100 * ms
	in := &Input{Codec: router.CodecVP8, SrcExt: jicofoExt}
	st := simulcastStream{key: true, frame: 1}
	out, r, _ := s.Forward(st.next(0).build(), in, rx, 1000*ms)
	if r != DropNone {
		t.Fatal(r)
	}
	seq := parseSent(out).seq
	var got []DropReason
	for _, at := range []int64{1050, 1090, 1100, 1150, 1190, 1190} {
		_, r := s.Retransmit(seq, in, rx, at*ms)
		got = append(got, r)
	}
	want := []DropReason{DropRetransmittedRecently, DropNone, DropRetransmittedRecently,
		DropRetransmittedRecently, DropNone, DropRetransmittedRecently}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retransmissions %v, want %v", got, want)
	}
	s.Close()
}

func TestExpireHistory(t *testing.T) {
	s := New(true, 1001, 1011)
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	rx := newReceiver(jicofoExt)
	in := &Input{Codec: router.CodecVP8}
	st := simulcastStream{key: true, frame: 1}
	b := st.next(0).build()
	b.Ref() // the test's own, to watch the history's
	out, r, _ := s.Forward(b, in, rx, 1000*ms)
	if r != DropNone {
		t.Fatal(r)
	}
	seq := parseSent(out).seq
	if s.ExpireHistory(1000*ms + HistoryIdle - ms) {
		t.Error("history expired before HistoryIdle")
	}
	if !s.ExpireHistory(1000*ms + HistoryIdle) {
		t.Fatal("history not expired after HistoryIdle")
	}
	if b.Refs() != 1 {
		t.Errorf("expired history still holds the packet: %d references", b.Refs())
	}
	b.Release()
	if _, r := s.Retransmit(seq, in, rx, 1000*ms+HistoryIdle); r != DropNotInHistory {
		t.Errorf("retransmission from an expired history: %v", r)
	}
	if s.ExpireHistory(1000*ms + 2*HistoryIdle) {
		t.Error("an empty history expired again")
	}
	// The sender goes on: the next packet continues the sequence and is kept again.
	st.frame++
	st.key = false
	out, r, _ = s.Forward(st.next(0).build(), in, rx, 1000*ms+2*HistoryIdle)
	if r != DropNone || parseSent(out).seq != seq+1 {
		t.Fatalf("after expiry: %v, seq %d want %d", r, parseSent(out).seq, seq+1)
	}
	if _, r := s.Retransmit(seq+1, in, rx, 1000*ms+2*HistoryIdle); r != DropNone {
		t.Errorf("retransmission after refill: %v", r)
	}
	s.Close()
}

func TestSince(t *testing.T) {
	for _, c := range []struct {
		sent uint32
		now  int64
		want int64
	}{
		{msTime(1000 * ms), 1250 * ms, 250 * ms},
		{0xffff_fff0, 0x1_0000_0010 * ms, 0x20 * ms}, // across the 2^32 ms wrap
		{msTime(1000 * ms), 990 * ms, 0},             // a clock reading older than the send
	} {
		if got := since(c.sent, c.now); got != c.want {
			t.Errorf("since(%d, %d) = %d, want %d", c.sent, c.now, got, c.want)
		}
	}
}

// TestReportLogFromZero: an SR noted at clock 0 holds the next one back like any other.
func TestReportLogFromZero(t *testing.T) {
	var l ReportLog
	l.Sent(1<<32, 0)
	l.Sent(2<<32, 10*ms)
	b := report(2<<32, 0)
	if _, ok := l.RoundTrip(&b, 20*ms); ok {
		t.Error("an SR 10 ms after one noted at clock 0 was noted")
	}
}
