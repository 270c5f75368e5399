package rtp

import (
	"testing"

	"github.com/pion/rtcp"
)

func pionUnmarshal(t *testing.T, b []byte) []rtcp.Packet {
	t.Helper()
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		t.Fatalf("pion Unmarshal %x: %v", b, err)
	}
	return pkts
}

func TestAppendFeedbackPionOracle(t *testing.T) {
	prefix := []byte("keep") // Append must keep what dst already holds
	b := AppendPLI(append([]byte(nil), prefix...), 0x01020304, 0x05060708)
	if string(b[:4]) != "keep" {
		t.Fatal("prefix lost")
	}
	b = AppendFIR(b[4:], 11, 12, 13)
	b = AppendNACK(b, 21, 22, []uint16{100, 101, 116, 117, 200})
	b = AppendREMB(b, 31, 1_000_000, 32, 33)
	pkts := pionUnmarshal(t, b)
	if len(pkts) != 4 {
		t.Fatalf("%d packets", len(pkts))
	}
	if p, ok := pkts[0].(*rtcp.PictureLossIndication); !ok || p.SenderSSRC != 0x01020304 || p.MediaSSRC != 0x05060708 {
		t.Errorf("PLI: %#v", pkts[0])
	}
	if p, ok := pkts[1].(*rtcp.FullIntraRequest); !ok || p.SenderSSRC != 11 || p.MediaSSRC != 0 ||
		len(p.FIR) != 1 || p.FIR[0] != (rtcp.FIREntry{SSRC: 12, SequenceNumber: 13}) {
		t.Errorf("FIR: %#v", pkts[1])
	}
	p, ok := pkts[2].(*rtcp.TransportLayerNack)
	if !ok || p.SenderSSRC != 21 || p.MediaSSRC != 22 {
		t.Fatalf("NACK: %#v", pkts[2])
	}
	var lost []uint16
	for _, pair := range p.Nacks {
		lost = append(lost, pair.PacketList()...)
	}
	if !equalU16(lost, []uint16{100, 101, 116, 117, 200}) || len(p.Nacks) != 3 {
		t.Errorf("NACK pairs %+v lost %v", p.Nacks, lost)
	}
	if p, ok := pkts[3].(*rtcp.ReceiverEstimatedMaximumBitrate); !ok || p.SenderSSRC != 31 || p.Bitrate != 1_000_000 ||
		len(p.SSRCs) != 2 || p.SSRCs[1] != 33 {
		t.Errorf("REMB: %#v", pkts[3])
	}
}

func TestAppendNACKPacking(t *testing.T) {
	tests := []struct {
		name  string
		lost  []uint16
		pairs [][2]uint16
	}{
		{"single", []uint16{5}, [][2]uint16{{5, 0}}},
		{"bitmask full", []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, [][2]uint16{{0, 0xffff}}},
		{"17 apart starts a pair", []uint16{0, 17}, [][2]uint16{{0, 0}, {17, 0}}},
		{"across wrap", []uint16{65535, 0, 15}, [][2]uint16{{65535, 1<<0 | 1<<15}}},
		{"duplicates", []uint16{3, 3, 4}, [][2]uint16{{3, 1}}},
		{"descending still covered", []uint16{10, 9}, [][2]uint16{{10, 0}, {9, 0}}},
	}
	for _, tc := range tests {
		n, r := ParseNACK(AppendNACK(nil, 1, 2, tc.lost))
		if r != DropNone || n.Len() != len(tc.pairs) {
			t.Errorf("%s: %v, %d pairs, want %d", tc.name, r, n.Len(), len(tc.pairs))
			continue
		}
		for i, want := range tc.pairs {
			if pid, blp := n.Pair(i); pid != want[0] || blp != want[1] {
				t.Errorf("%s: pair %d = %d/%#x, want %d/%#x", tc.name, i, pid, blp, want[0], want[1])
			}
		}
	}
	if b := AppendNACK([]byte{1}, 1, 2, nil); len(b) != 1 {
		t.Error("empty NACK was appended")
	}
}

func TestAppendReportsPionOracle(t *testing.T) {
	blocks := make([]ReportBlock, 33)
	for i := range blocks {
		blocks[i] = ReportBlock{SSRC: uint32(i + 1), FractionLost: uint8(i), TotalLost: int32(i) - 5, HighestSeq: uint32(1000 + i),
			Jitter: 3, LSR: 4, DLSR: 5}
	}
	blocks[0].TotalLost = 1 << 30 // clamps to the 24-bit maximum
	blocks[1].TotalLost = -1 << 30
	si := SenderInfo{SSRC: 0xcafe, NTPTime: 0x0102030405060708, RTPTime: 9, PacketCount: 10, OctetCount: 11}
	b := AppendSR(nil, si, blocks...)
	b = AppendRR(b, 0xbeef)
	pkts := pionUnmarshal(t, b)
	if len(pkts) != 3 {
		t.Fatalf("%d packets", len(pkts))
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok || sr.SSRC != si.SSRC || sr.NTPTime != si.NTPTime || sr.RTPTime != 9 || sr.PacketCount != 10 || sr.OctetCount != 11 || len(sr.Reports) != 31 {
		t.Fatalf("SR: %+v", pkts[0])
	}
	rr, ok := pkts[1].(*rtcp.ReceiverReport)
	if !ok || rr.SSRC != si.SSRC || len(rr.Reports) != 2 {
		t.Fatalf("overflow RR: %+v", pkts[1])
	}
	if rr, ok := pkts[2].(*rtcp.ReceiverReport); !ok || rr.SSRC != 0xbeef || len(rr.Reports) != 0 {
		t.Fatalf("empty RR: %+v", pkts[2])
	}
	// Our parser reads back every block; the clamped ones at the 24-bit limits.
	var got []ReportBlock
	it := NewRTCPIter(b)
	for h, pkt, ok := it.Next(); ok; h, pkt, ok = it.Next() {
		if h.Type == TypeSR {
			s, _ := ParseSR(pkt)
			got = append(got, blocksOf(s.Reports)...)
		} else {
			s, _ := ParseRR(pkt)
			got = append(got, blocksOf(s.Reports)...)
		}
	}
	want := append([]ReportBlock(nil), blocks...)
	want[0].TotalLost, want[1].TotalLost = 0x7fffff, -0x800000
	if len(got) != len(want) {
		t.Fatalf("%d blocks", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := uint32(sr.Reports[2].TotalLost); got != uint32(want[2].TotalLost)&0xffffff {
		t.Errorf("pion sees total lost %#x", got)
	}
}

func TestRTCPNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 1500)
	lost := []uint16{1, 2, 3, 40}
	blocks := []ReportBlock{{SSRC: 1}, {SSRC: 2}}
	var compound []byte
	compound = AppendSR(compound, SenderInfo{SSRC: 1}, blocks...)
	compound = AppendPLI(compound, 1, 2)
	compound = AppendNACK(compound, 1, 2, lost)
	compound = AppendREMB(compound, 1, 1e6, 2, 3)
	compound = append(compound, twccSample...)
	assertNoAllocs(t, "writers", func() {
		b := AppendRR(buf[:0], 1, blocks...)
		b = AppendSR(b, SenderInfo{SSRC: 1}, blocks...)
		b = AppendPLI(b, 1, 2)
		b = AppendFIR(b, 1, 2, 3)
		b = AppendNACK(b, 1, 2, lost)
		_ = AppendREMB(b, 1, 1e6, 2, 3)
	})
	assertNoAllocs(t, "walk and parse", func() { walkAll(compound) })
}

// walkAll runs every parser over every packet of a compound, as the
// receive path does. It returns a checksum so nothing is optimised away.
func walkAll(b []byte) uint64 {
	var sum uint64
	it := NewRTCPIter(b)
	for h, pkt, ok := it.Next(); ok; h, pkt, ok = it.Next() {
		sum += uint64(h.Type)
		if s, r := ParseSR(pkt); r == DropNone {
			sum += s.NTPTime
			for i := 0; i < s.Reports.Len(); i++ {
				sum += uint64(s.Reports.At(i).HighestSeq)
			}
		}
		if s, r := ParseRR(pkt); r == DropNone {
			for i := 0; i < s.Reports.Len(); i++ {
				sum += uint64(s.Reports.At(i).Jitter)
			}
		}
		if p, r := ParsePLI(pkt); r == DropNone {
			sum += uint64(p.MediaSSRC)
		}
		if f, r := ParseFIR(pkt); r == DropNone {
			for i := 0; i < f.Len(); i++ {
				sum += uint64(f.Entry(i).Seq)
			}
		}
		if n, r := ParseNACK(pkt); r == DropNone {
			for l := n.Lost(); ; {
				s, ok := l.Next()
				if !ok {
					break
				}
				sum += uint64(s)
			}
		}
		if m, r := ParseREMB(pkt); r == DropNone {
			sum += m.Bitrate
			for i := 0; i < m.Len(); i++ {
				sum += uint64(m.SSRC(i))
			}
		}
		if c, r := ParseTransportCC(pkt); r == DropNone {
			for p := c.Packets(); ; {
				s, ok := p.Next()
				if !ok {
					break
				}
				sum += uint64(s.Seq) + uint64(s.Delta)
			}
		}
	}
	return sum
}
