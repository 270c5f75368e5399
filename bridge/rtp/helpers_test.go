package rtp

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// rtpSpec describes a hand-built RTP packet.
type rtpSpec struct {
	padding  uint8 // padding bytes including the count byte; 0 = none
	marker   bool
	pt       uint8
	seq      uint16
	ts, ssrc uint32
	csrc     []uint32
	ext      bool
	profile  uint16
	extBlock []byte // element bytes; padded with zeros to a multiple of 4
	payload  []byte
}

func buildRTP(s rtpSpec) []byte {
	b := []byte{0x80 | byte(len(s.csrc)), s.pt & 0x7f, 0, 0}
	if s.marker {
		b[1] |= 0x80
	}
	if s.padding > 0 {
		b[0] |= 0x20
	}
	b = binary.BigEndian.AppendUint16(b[:2], s.seq)
	b = binary.BigEndian.AppendUint32(b, s.ts)
	b = binary.BigEndian.AppendUint32(b, s.ssrc)
	for _, c := range s.csrc {
		b = binary.BigEndian.AppendUint32(b, c)
	}
	if s.ext {
		b[0] |= 0x10
		blk := append([]byte(nil), s.extBlock...)
		for len(blk)%4 != 0 {
			blk = append(blk, 0)
		}
		b = binary.BigEndian.AppendUint16(b, s.profile)
		b = binary.BigEndian.AppendUint16(b, uint16(len(blk)/4))
		b = append(b, blk...)
	}
	b = append(b, s.payload...)
	if s.padding > 0 {
		for i := 0; i < int(s.padding)-1; i++ {
			b = append(b, 0)
		}
		b = append(b, s.padding)
	}
	return b
}

// rtpView is everything a Packet exposes, as one comparable value.
type rtpView struct {
	Version, PT                uint8
	Padding, Ext, Marker       bool
	CC                         int
	Seq                        uint16
	TS, SSRC                   uint32
	HdrLen, PayloadLen, PadLen int
	Profile                    uint16
	Payload                    string
	Exts                       string // "id:hex,id:hex"
}

func viewOf(p *Packet) rtpView {
	v := rtpView{
		Version: p.Version(), PT: p.PayloadType(), Padding: p.Padding(), Ext: p.HasExtension(),
		Marker: p.Marker(), CC: p.CSRCCount(), Seq: p.Seq(), TS: p.Timestamp(), SSRC: p.SSRC(),
		HdrLen: p.HeaderLen(), PayloadLen: p.PayloadLen(), PadLen: p.PaddingLen(),
		Profile: p.ExtensionProfile(), Payload: string(p.Payload()),
	}
	v.Exts = extString(p)
	return v
}

func extString(p *Packet) string {
	s := ""
	it := p.Extensions()
	for id, data, ok := it.Next(); ok; id, data, ok = it.Next() {
		if s != "" {
			s += ","
		}
		s += fmt.Sprintf("%d:%x", id, data)
	}
	return s
}

func mustParse(t testing.TB, b []byte) *Packet {
	t.Helper()
	var p Packet
	if r := p.Parse(b); r != DropNone {
		t.Fatalf("Parse: %v", r)
	}
	return &p
}

// assertNoAllocs fails when f allocates.
func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Errorf("%s: %v allocs per run, want 0", name, n)
	}
}
