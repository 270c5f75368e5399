package rtp

import (
	"math"
	"testing"

	"github.com/pion/rtcp"
)

func pionMarshal(t testing.TB, pkts ...rtcp.Packet) []byte {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testBlocks = []rtcp.ReceptionReport{
	{SSRC: 0x1111, FractionLost: 12, TotalLost: 345, LastSequenceNumber: 0x0001_ffff, Jitter: 77, LastSenderReport: 0xabcd, Delay: 0x1234},
	{SSRC: 0x2222, FractionLost: 255, TotalLost: 0x7fffff, LastSequenceNumber: 9, Jitter: 1, LastSenderReport: 2, Delay: 3},
}

func toBlock(r rtcp.ReceptionReport) ReportBlock {
	return ReportBlock{SSRC: r.SSRC, FractionLost: r.FractionLost, TotalLost: int32(r.TotalLost), HighestSeq: r.LastSequenceNumber,
		Jitter: r.Jitter, LSR: r.LastSenderReport, DLSR: r.Delay}
}

func blocksOf(rb ReportBlocks) []ReportBlock {
	out := make([]ReportBlock, rb.Len())
	for i := range out {
		out[i] = rb.At(i)
	}
	return out
}

func equalBlocks(a []ReportBlock, b []rtcp.ReceptionReport) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != toBlock(b[i]) {
			return false
		}
	}
	return true
}

// TestRTCPCompoundFromPion walks a compound packet marshalled by pion/rtcp and
// checks every parser against the values pion was given.
func TestRTCPCompoundFromPion(t *testing.T) {
	sr := &rtcp.SenderReport{SSRC: 0xaaaa, NTPTime: 0xe1234567_89abcdef, RTPTime: 0xfeedface, PacketCount: 1000,
		OctetCount: 1_200_000, Reports: testBlocks}
	rr := &rtcp.ReceiverReport{SSRC: 0xbbbb, Reports: testBlocks[:1]}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 0xaaaa,
		Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "cname"}}}}}
	pli := &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}
	fir := &rtcp.FullIntraRequest{SenderSSRC: 3, MediaSSRC: 0, FIR: []rtcp.FIREntry{{SSRC: 4, SequenceNumber: 5}, {SSRC: 6, SequenceNumber: 255}}}
	nack := &rtcp.TransportLayerNack{SenderSSRC: 7, MediaSSRC: 8, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{65534, 65535, 0, 3, 40})}
	remb := &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 9, Bitrate: 2_500_000, SSRCs: []uint32{10, 11}}
	bye := &rtcp.Goodbye{Sources: []uint32{12}}
	b := pionMarshal(t, sr, rr, sdes, pli, fir, nack, remb, bye)

	type seen struct{ typ, count uint8 }
	var got []seen
	it := NewRTCPIter(b)
	for h, pkt, ok := it.Next(); ok; h, pkt, ok = it.Next() {
		got = append(got, seen{h.Type, h.Count})
		if h.Size() != len(pkt) {
			t.Errorf("type %d: Size %d, packet %d", h.Type, h.Size(), len(pkt))
		}
		switch {
		case h.Type == TypeSR:
			s, r := ParseSR(pkt)
			want := SenderInfo{SSRC: sr.SSRC, NTPTime: sr.NTPTime, RTPTime: sr.RTPTime, PacketCount: sr.PacketCount, OctetCount: sr.OctetCount}
			if r != DropNone || s.SenderInfo != want || !equalBlocks(blocksOf(s.Reports), sr.Reports) {
				t.Errorf("SR: %v %+v %+v", r, s.SenderInfo, blocksOf(s.Reports))
			}
		case h.Type == TypeRR:
			s, r := ParseRR(pkt)
			if r != DropNone || s.SSRC != rr.SSRC || !equalBlocks(blocksOf(s.Reports), rr.Reports) {
				t.Errorf("RR: %v %+v", r, blocksOf(s.Reports))
			}
		case h.Type == TypePSFB && h.Count == FmtPLI:
			p, r := ParsePLI(pkt)
			if r != DropNone || p != (PLI{1, 2}) {
				t.Errorf("PLI: %v %+v", r, p)
			}
		case h.Type == TypePSFB && h.Count == FmtFIR:
			f, r := ParseFIR(pkt)
			if r != DropNone || f.SenderSSRC != 3 || f.Len() != 2 || f.Entry(0) != (FIREntry{4, 5}) || f.Entry(1) != (FIREntry{6, 255}) {
				t.Errorf("FIR: %v %+v", r, f)
			}
		case h.Type == TypeRTPFB && h.Count == FmtNACK:
			n, r := ParseNACK(pkt)
			if r != DropNone || n.SenderSSRC != 7 || n.MediaSSRC != 8 {
				t.Errorf("NACK: %v %+v", r, n)
			}
			if lost := lostOf(n); !equalU16(lost, []uint16{65534, 65535, 0, 3, 40}) {
				t.Errorf("NACK lost = %v", lost)
			}
		case h.Type == TypePSFB && h.Count == FmtAFB:
			m, r := ParseREMB(pkt)
			if r != DropNone || m.SenderSSRC != 9 || m.Len() != 2 || m.SSRC(0) != 10 || m.SSRC(1) != 11 ||
				math.Abs(float64(m.Bitrate)-2_500_000) > 2_500_000/(1<<17) {
				t.Errorf("REMB: %v %+v", r, m)
			}
		}
	}
	if it.Reason() != DropNone {
		t.Errorf("Reason = %v", it.Reason())
	}
	want := []seen{{200, 2}, {201, 1}, {202, 1}, {206, 1}, {206, 4}, {205, 1}, {206, 15}, {203, 1}}
	if len(got) != len(want) {
		t.Fatalf("walked %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("packet %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func lostOf(n NACK) []uint16 {
	var out []uint16
	it := n.Lost()
	for s, ok := it.Next(); ok; s, ok = it.Next() {
		out = append(out, s)
	}
	return out
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRTCPIterDrop(t *testing.T) {
	pli := AppendPLI(nil, 1, 2)
	tests := []struct {
		name    string
		b       []byte
		packets int
		want    DropReason
	}{
		{"clean", append(append([]byte(nil), pli...), pli...), 2, DropNone},
		{"empty", nil, 0, DropNone},
		{"trailing 3 bytes", append(append([]byte(nil), pli...), 0x80, 201, 0), 1, DropTooShort},
		{"length beyond buffer", append(append([]byte(nil), pli...), 0x80, 201, 0, 9, 0, 0, 0, 0), 1, DropLengthOverflow},
		{"version 0 second packet", append(append([]byte(nil), pli...), 0x00, 201, 0, 1, 0, 0, 0, 0), 1, DropBadVersion},
	}
	for _, tc := range tests {
		it := NewRTCPIter(tc.b)
		n := 0
		for _, _, ok := it.Next(); ok; _, _, ok = it.Next() {
			n++
		}
		if n != tc.packets || it.Reason() != tc.want {
			t.Errorf("%s: %d packets, %v; want %d, %v", tc.name, n, it.Reason(), tc.packets, tc.want)
		}
		if _, _, ok := it.Next(); ok {
			t.Errorf("%s: Next after the end returned a packet", tc.name)
		}
	}
}

func TestRTCPParserDrops(t *testing.T) {
	withPadding := func(b []byte, pad byte) []byte {
		out := append([]byte(nil), b...)
		out[0] |= 0x20
		out[len(out)-1] = pad
		return out
	}
	rr := AppendRR(nil, 1, ReportBlock{SSRC: 2})
	tests := []struct {
		name  string
		parse func([]byte) DropReason
		b     []byte
		want  DropReason
	}{
		{"SR given RR", func(b []byte) DropReason { _, r := ParseSR(b); return r }, rr, DropWrongType},
		{"SR count beyond body", func(b []byte) DropReason { _, r := ParseSR(b); return r },
			[]byte{0x81, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, DropTruncated},
		{"RR cut short", func(b []byte) DropReason { _, r := ParseRR(b); return r }, rr[:8:8], DropLengthOverflow},
		{"RR count beyond body", func(b []byte) DropReason { _, r := ParseRR(b); return r },
			append([]byte{0x82}, rr[1:]...), DropTruncated},
		{"RR padding zero", func(b []byte) DropReason { _, r := ParseRR(b); return r }, withPadding(rr, 0), DropBadPadding},
		{"RR padding too big", func(b []byte) DropReason { _, r := ParseRR(b); return r }, withPadding(rr, 200), DropBadPadding},
		{"RR padding eats blocks", func(b []byte) DropReason { _, r := ParseRR(b); return r }, withPadding(rr, 4), DropTruncated},
		{"PLI given FIR", func(b []byte) DropReason { _, r := ParsePLI(b); return r }, AppendFIR(nil, 1, 2, 3), DropWrongType},
		{"PLI without media SSRC", func(b []byte) DropReason { _, r := ParsePLI(b); return r }, []byte{0x81, 206, 0, 1, 0, 0, 0, 1}, DropTruncated},
		{"FIR without entries", func(b []byte) DropReason { _, r := ParseFIR(b); return r }, []byte{0x84, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0}, DropTruncated},
		{"NACK without pairs", func(b []byte) DropReason { _, r := ParseNACK(b); return r }, []byte{0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0}, DropTruncated},
		{"REMB with other AFB id", func(b []byte) DropReason { _, r := ParseREMB(b); return r },
			[]byte{0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 'G', 'O', 'O', 'G', 0, 0, 0, 0}, DropWrongType},
		{"REMB SSRC count beyond body", func(b []byte) DropReason { _, r := ParseREMB(b); return r },
			[]byte{0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 1, 0, 0, 0}, DropTruncated},
		{"TCC given NACK", func(b []byte) DropReason { _, r := ParseTransportCC(b); return r }, AppendNACK(nil, 1, 2, []uint16{1}), DropWrongType},
		{"TCC chunks missing", func(b []byte) DropReason { _, r := ParseTransportCC(b); return r },
			[]byte{0x8f, 205, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 3, 0, 0, 0, 0}, DropTruncated},
		{"header only", func(b []byte) DropReason { _, r := ParsePLI(b); return r }, []byte{0x81, 206}, DropTooShort},
	}
	for _, tc := range tests {
		if got := tc.parse(tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestREMBBitrate(t *testing.T) {
	for _, tc := range []struct {
		in, want uint64
	}{
		{0, 0}, {1, 1}, {1<<18 - 1, 1<<18 - 1}, {1 << 18, 1 << 18}, {1<<18 + 1, 1 << 18},
		{2_500_001, 2_500_000}, {math.MaxUint64, (1<<18 - 1) << 46},
	} {
		b := AppendREMB(nil, 1, tc.in, 5)
		m, r := ParseREMB(b)
		if r != DropNone || m.Bitrate != tc.want {
			t.Errorf("bitrate %d: got %d (%v), want %d", tc.in, m.Bitrate, r, tc.want)
		}
		if m.Bitrate > tc.in {
			t.Errorf("bitrate %d overstated as %d", tc.in, m.Bitrate)
		}
	}
	// Exponent 63 overflows 64 bits and saturates.
	b := []byte{0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 0, 0xff, 0xff, 0xff}
	if m, _ := ParseREMB(b); m.Bitrate != math.MaxUint64 {
		t.Errorf("saturation: %d", m.Bitrate)
	}
}

func TestLSR(t *testing.T) {
	if got := LSR(0x1111_2222_3333_4444); got != 0x2222_3333 {
		t.Errorf("LSR = %#x, want 0x22223333 (the middle 32 bits)", got)
	}
}
