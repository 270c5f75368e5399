package rtp

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// twccSample is a hand-built feedback: base seq 65534, 10 statuses, reference
// time 0x123456, fb count 7.
//
//	chunk 1: run length, symbol 1 (small delta), run 3  -> 65534, 65535, 0 received
//	chunk 2: two-bit vector 0 2 1 0 0 0 1               -> 1 lost, 2 large, 3 small, 4-6 lost, 7 small
//	deltas:  4, 8, 12 (small), -4 (large), 255, 1 (small)
var twccSample = func() []byte {
	b := []byte{0x8f, 205, 0, 0}
	b = binary.BigEndian.AppendUint32(b, 0x5555) // sender
	b = binary.BigEndian.AppendUint32(b, 0x6666) // media
	b = binary.BigEndian.AppendUint16(b, 65534)
	b = binary.BigEndian.AppendUint16(b, 10)
	b = binary.BigEndian.AppendUint32(b, 0x123456<<8|7)
	b = binary.BigEndian.AppendUint16(b, 0x2000|3)                                 // run length, symbol 1, run 3
	b = binary.BigEndian.AppendUint16(b, 0xc000|0<<12|2<<10|1<<8|0<<6|0<<4|0<<2|1) // two-bit vector
	b = append(b, 4, 8, 12, 0xff, 0xfc, 255, 1)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)/4-1))
	return b
}()

func TestTransportCCSample(t *testing.T) {
	c, r := ParseTransportCC(twccSample)
	if r != DropNone {
		t.Fatal(r)
	}
	type header struct {
		Sender, Media uint32
		Base, Count   uint16
		RefTime       uint32
		FbCount       uint8
	}
	hdr := header{c.SenderSSRC, c.MediaSSRC, c.BaseSeq, c.StatusCount, c.ReferenceTime, c.FbPktCount}
	want := header{0x5555, 0x6666, 65534, 10, 0x123456, 7}
	if hdr != want {
		t.Errorf("header %+v, want %+v", hdr, want)
	}
	q := TWCCDeltaUnit
	wantPkts := []TWCCPacket{
		{65534, true, 4 * q}, {65535, true, 8 * q}, {0, true, 12 * q}, {1, false, 0}, {2, true, -4 * q},
		{3, true, 255 * q}, {4, false, 0}, {5, false, 0}, {6, false, 0}, {7, true, 1 * q},
	}
	got, reason := twccPackets(c)
	if reason != DropNone || len(got) != len(wantPkts) {
		t.Fatalf("%v: %+v", reason, got)
	}
	for i := range wantPkts {
		if got[i] != wantPkts[i] {
			t.Errorf("packet %d: %+v, want %+v", i, got[i], wantPkts[i])
		}
	}
}

func twccPackets(c TransportCC) ([]TWCCPacket, DropReason) {
	var out []TWCCPacket
	it := c.Packets()
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		out = append(out, p)
	}
	return out, it.Reason()
}

func TestTransportCCDrops(t *testing.T) {
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), twccSample...)) }
	tests := []struct {
		name    string
		b       []byte
		packets int
		want    DropReason
	}{
		{"reserved symbol", mod(func(b []byte) []byte { b[22] |= 0x30; return b }), 3, DropBadChunk}, // symbol 0 of vector -> 3
		{"run length reserved symbol", mod(func(b []byte) []byte { b[20] = 0x60; return b }), 0, DropBadChunk},
		{"deltas cut", mod(func(b []byte) []byte {
			b = b[:len(b)-4] // drops padding, 1, 255 and half of the large delta of seq 2
			binary.BigEndian.PutUint16(b[2:], uint16(len(b)/4-1))
			return b
		}), 4, DropTruncated},
		{"zero statuses", mod(func(b []byte) []byte { b[14], b[15] = 0, 0; return b }), 0, DropNone},
	}
	for _, tc := range tests {
		c, r := ParseTransportCC(tc.b)
		if r != DropNone {
			t.Errorf("%s: Parse %v", tc.name, r)
			continue
		}
		got, reason := twccPackets(c)
		if len(got) != tc.packets || reason != tc.want {
			t.Errorf("%s: %d packets, %v; want %d, %v", tc.name, len(got), reason, tc.packets, tc.want)
		}
	}
}

// TestTransportCCPionOracle builds feedback with pion/rtcp and compares our
// decoding with the statuses and deltas pion decodes from the same bytes.
func TestTransportCCPionOracle(t *testing.T) {
	src := rtcp.TransportLayerCC{
		SenderSSRC: 1, MediaSSRC: 2, BaseSequenceNumber: 65500, PacketStatusCount: 40, ReferenceTime: 0xffffff, FbPktCount: 255,
		PacketChunks: []rtcp.PacketStatusChunk{
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 5},
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeOneBit,
				SymbolList: []uint16{1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0}},
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 10},
			&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{2, 1, 0, 2, 1, 1, 0}},
			&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedLargeDelta, RunLength: 4},
		},
	}
	var symbols []uint16
	for _, ch := range src.PacketChunks {
		switch c := ch.(type) {
		case *rtcp.RunLengthChunk:
			for i := 0; i < int(c.RunLength); i++ {
				symbols = append(symbols, c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			symbols = append(symbols, c.SymbolList...)
		}
	}
	for i, s := range symbols {
		switch s {
		case rtcp.TypeTCCPacketReceivedSmallDelta:
			src.RecvDeltas = append(src.RecvDeltas, &rtcp.RecvDelta{Type: s, Delta: int64(250 * (i + 1))})
		case rtcp.TypeTCCPacketReceivedLargeDelta:
			src.RecvDeltas = append(src.RecvDeltas, &rtcp.RecvDelta{Type: s, Delta: int64(-250 * (i + 100))})
		}
	}
	for _, padding := range []bool{false, true} {
		src.Header = rtcp.Header{Padding: padding, Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback,
			Length: uint16(src.MarshalSize()/4 - 1)}
		b, err := src.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var back rtcp.TransportLayerCC
		if err := back.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		c, r := ParseTransportCC(b)
		if r != DropNone || c.BaseSeq != 65500 || c.StatusCount != 40 || c.ReferenceTime != 0xffffff || c.FbPktCount != 255 {
			t.Fatalf("padding %v: %v %+v", padding, r, c)
		}
		got, reason := twccPackets(c)
		if reason != DropNone || len(got) != 40 {
			t.Fatalf("padding %v: %v, %d packets", padding, reason, len(got))
		}
		d := 0
		for i, p := range got {
			wantRecv := symbols[i] != rtcp.TypeTCCPacketNotReceived
			var wantDelta time.Duration
			if wantRecv {
				wantDelta = time.Duration(back.RecvDeltas[d].Delta) * time.Microsecond
				d++
			}
			if p.Seq != uint16(65500+i) || p.Received != wantRecv || p.Delta != wantDelta {
				t.Errorf("padding %v, packet %d: %+v, want recv %v delta %v", padding, i, p, wantRecv, wantDelta)
			}
		}
	}
}
