package rtp

import (
	"encoding/binary"
	"testing"

	pionrtp "github.com/pion/rtp"
)

// benchVideo is a 1200-byte Chrome-like VP8 packet: audio-level-free video
// with abs-send-time (3), transport-cc (5) and mid (10) one-byte extensions.
var benchVideo = buildRTP(rtpSpec{marker: true, pt: 100, seq: 1000, ts: 90000, ssrc: 0x1234,
	ext: true, profile: 0xBEDE, extBlock: []byte{0x32, 1, 2, 3, 0x51, 0, 7, 0xa0, '1'},
	payload: append(cat([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, vp8Key), make([]byte, 1150)...)})

func BenchmarkClassify(b *testing.B) {
	b.ReportAllocs()
	var k Kind
	for i := 0; i < b.N; i++ {
		k += Classify(benchVideo)
	}
	_ = k
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchVideo)))
	var p Packet
	for i := 0; i < b.N; i++ {
		if p.Parse(benchVideo) != DropNone {
			b.Fatal("parse")
		}
	}
}

// BenchmarkPionUnmarshal is the reference point: pion/rtp on the same packet.
func BenchmarkPionUnmarshal(b *testing.B) {
	b.ReportAllocs()
	var p pionrtp.Packet
	for i := 0; i < b.N; i++ {
		if p.Unmarshal(benchVideo) != nil {
			b.Fatal("parse")
		}
	}
}

func BenchmarkExtension(b *testing.B) {
	b.ReportAllocs()
	var p Packet
	p.Parse(benchVideo)
	n := 0
	for i := 0; i < b.N; i++ {
		n += len(p.Extension(10))
	}
	_ = n
}

func BenchmarkSetters(b *testing.B) {
	b.ReportAllocs()
	buf := append([]byte(nil), benchVideo...)
	var p Packet
	p.Parse(buf)
	for i := 0; i < b.N; i++ {
		p.SetSeq(uint16(i))
		p.SetTimestamp(uint32(i))
		p.SetSSRC(0x5678)
		p.SetPayloadType(100)
		p.SetMarker(i&1 == 0)
	}
}

// BenchmarkRewriteExtensions is the sender step: strip everything, add the
// bridge's transport-wide sequence number, copy the packet out.
func BenchmarkRewriteExtensions(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchVideo)))
	dst := make([]byte, 1500)
	var p Packet
	p.Parse(benchVideo)
	var tcc [2]byte
	keep := NewExtSet(1)
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint16(tcc[:], uint16(i))
		if p.RewriteExtensions(dst, keep, Ext{5, tcc[:]}) == 0 {
			b.Fatal("rewrite")
		}
	}
}

func BenchmarkSeqUnwrap(b *testing.B) {
	b.ReportAllocs()
	var u SeqUnwrapper
	var s uint64
	for i := 0; i < b.N; i++ {
		s += u.Unwrap(uint16(i))
	}
	_ = s
}

func BenchmarkTSUnwrap(b *testing.B) {
	b.ReportAllocs()
	var u TSUnwrapper
	var s uint64
	for i := 0; i < b.N; i++ {
		s += u.Unwrap(uint32(i) * 3000)
	}
	_ = s
}

func BenchmarkVP8Parse(b *testing.B) {
	b.ReportAllocs()
	var p Packet
	p.Parse(benchVideo)
	payload := p.Payload()
	var d VP8Descriptor
	for i := 0; i < b.N; i++ {
		if d.Parse(payload) != DropNone {
			b.Fatal("vp8")
		}
	}
}

func BenchmarkVP8RewriteInto(b *testing.B) {
	b.ReportAllocs()
	src := cat([]byte{0x90, 0xe0, 0x45, 0x09, 0xa0}, vp8Delta, make([]byte, 1150)) // 7-bit: must grow
	dst := make([]byte, 1500)
	for i := 0; i < b.N; i++ {
		if VP8RewriteInto(dst, src, uint16(i), uint8(i)) == 0 {
			b.Fatal("rewrite")
		}
	}
}

func BenchmarkVP8RewriteInPlace(b *testing.B) {
	b.ReportAllocs()
	src := cat([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, vp8Delta, make([]byte, 1150))
	var d VP8Descriptor
	d.Parse(src)
	for i := 0; i < b.N; i++ {
		if !d.RewriteInPlace(src, uint16(i), uint8(i)) {
			b.Fatal("rewrite")
		}
	}
}

// BenchmarkRTCPWalk runs every parser over a compound SR+RR+PLI+NACK+REMB+TCC.
func BenchmarkRTCPWalk(b *testing.B) {
	b.ReportAllocs()
	var c []byte
	c = AppendSR(c, SenderInfo{SSRC: 1}, ReportBlock{SSRC: 2})
	c = AppendRR(c, 1, ReportBlock{SSRC: 3}, ReportBlock{SSRC: 4})
	c = AppendPLI(c, 1, 2)
	c = AppendNACK(c, 1, 2, []uint16{1, 2, 5, 40})
	c = AppendREMB(c, 1, 2e6, 2)
	c = append(c, twccSample...)
	var s uint64
	for i := 0; i < b.N; i++ {
		s += walkAll(c)
	}
	_ = s
}

// BenchmarkRTCPDispatch is what a receive path does: one parser per packet,
// chosen by type and format.
func BenchmarkRTCPDispatch(b *testing.B) {
	b.ReportAllocs()
	var c []byte
	c = AppendSR(c, SenderInfo{SSRC: 1}, ReportBlock{SSRC: 2})
	c = AppendRR(c, 1, ReportBlock{SSRC: 3}, ReportBlock{SSRC: 4})
	c = AppendPLI(c, 1, 2)
	c = AppendNACK(c, 1, 2, []uint16{1, 2, 5, 40})
	c = AppendREMB(c, 1, 2e6, 2)
	var s uint64
	for i := 0; i < b.N; i++ {
		it := NewRTCPIter(c)
		for h, pkt, ok := it.Next(); ok; h, pkt, ok = it.Next() {
			switch {
			case h.Type == TypeSR:
				sr, _ := ParseSR(pkt)
				s += sr.NTPTime
			case h.Type == TypeRR:
				rr, _ := ParseRR(pkt)
				for j := 0; j < rr.Reports.Len(); j++ {
					s += uint64(rr.Reports.At(j).HighestSeq)
				}
			case h.Type == TypePSFB && h.Count == FmtPLI:
				p, _ := ParsePLI(pkt)
				s += uint64(p.MediaSSRC)
			case h.Type == TypeRTPFB && h.Count == FmtNACK:
				n, _ := ParseNACK(pkt)
				for l := n.Lost(); ; {
					seq, ok := l.Next()
					if !ok {
						break
					}
					s += uint64(seq)
				}
			case h.Type == TypePSFB && h.Count == FmtAFB:
				m, _ := ParseREMB(pkt)
				s += m.Bitrate
			}
		}
	}
	_ = s
}

// BenchmarkTWCCIter decodes a 200-packet feedback (vectors and runs mixed).
func BenchmarkTWCCIter(b *testing.B) {
	b.ReportAllocs()
	fb := []byte{0x8f, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 200, 0, 0, 1, 0}
	for i := 0; i < 10; i++ {
		fb = binary.BigEndian.AppendUint16(fb, 0xc000|1<<12|1<<10|2<<8|1<<6|1<<4|0<<2|1) // 7 two-bit
		fb = binary.BigEndian.AppendUint16(fb, 0x2000|13)                                // run of 13 small
	}
	for i := 0; i < 10; i++ {
		fb = append(fb, 1, 2, 0, 8, 3, 4, 5) // deltas for 1,1,large,1,1,lost,1: 5 small + 1 large
		fb = append(fb, make([]byte, 13)...)
	}
	for len(fb)%4 != 0 {
		fb = append(fb, 0)
	}
	binary.BigEndian.PutUint16(fb[2:], uint16(len(fb)/4-1))
	c, r := ParseTransportCC(fb)
	if r != DropNone {
		b.Fatal(r)
	}
	if got, reason := twccPackets(c); len(got) != 200 || reason != DropNone {
		b.Fatalf("%d packets, %v", len(got), reason)
	}
	b.ResetTimer()
	var s int64
	for i := 0; i < b.N; i++ {
		c, _ := ParseTransportCC(fb)
		it := c.Packets()
		for p, ok := it.Next(); ok; p, ok = it.Next() {
			s += int64(p.Delta)
		}
	}
	_ = s
}

func BenchmarkAppendNACK(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 1500)
	lost := []uint16{100, 101, 103, 120, 121, 400}
	for i := 0; i < b.N; i++ {
		buf = AppendNACK(buf[:0], 1, 2, lost)
	}
}

func BenchmarkAppendRR(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 1500)
	blocks := make([]ReportBlock, 8)
	for i := 0; i < b.N; i++ {
		buf = AppendRR(buf[:0], 1, blocks...)
		buf = AppendREMB(buf, 1, 2e6, 2, 3)
	}
}

func BenchmarkWrapRTX(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchVideo)))
	dst := make([]byte, 1500)
	var p Packet
	p.Parse(benchVideo)
	for i := 0; i < b.N; i++ {
		if p.WrapRTX(dst, 0x9999, 96, uint16(i)) == 0 {
			b.Fatal("wrap")
		}
	}
}

func BenchmarkUnwrapRTXInPlace(b *testing.B) {
	b.ReportAllocs()
	rtx := make([]byte, 1500)
	n := WrapRTX(rtx, benchVideo, 0x9999, 96, 1)
	buf := make([]byte, 1500)
	var p Packet
	for i := 0; i < b.N; i++ {
		copy(buf, rtx[:n]) // restore the RTX form; part of the measured cost
		p.Parse(buf[:n])
		if !p.UnwrapRTX(0x1234, 100) {
			b.Fatal("unwrap")
		}
	}
}
