package receiver

import (
	"encoding/binary"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

const ms = int64(1e6)

// pkt describes a hand-built RTP packet.
type pkt struct {
	pt       uint8
	seq      uint16
	ts, ssrc uint32
	marker   bool
	exts     []byte // one-byte extension elements, padded to 4
	payload  []byte
	padding  uint8 // padding bytes including the count; 0 = none
}

func build(p pkt) []byte {
	b := []byte{0x80, p.pt & 0x7f}
	if p.marker {
		b[1] |= 0x80
	}
	b = binary.BigEndian.AppendUint16(b, p.seq)
	b = binary.BigEndian.AppendUint32(b, p.ts)
	b = binary.BigEndian.AppendUint32(b, p.ssrc)
	if len(p.exts) > 0 {
		b[0] |= 0x10
		blk := append([]byte(nil), p.exts...)
		for len(blk)%4 != 0 {
			blk = append(blk, 0)
		}
		b = binary.BigEndian.AppendUint16(b, rtp.ProfileOneByte)
		b = binary.BigEndian.AppendUint16(b, uint16(len(blk)/4))
		b = append(b, blk...)
	}
	b = append(b, p.payload...)
	if p.padding > 0 {
		b[0] |= 0x20
		for i := 1; i < int(p.padding); i++ {
			b = append(b, 0)
		}
		b = append(b, p.padding)
	}
	return b
}

func parse(t testing.TB, b []byte) rtp.Packet {
	t.Helper()
	var p rtp.Packet
	if r := p.Parse(b); r != rtp.DropNone {
		t.Fatalf("Parse: %v", r)
	}
	return p
}

func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(200, f); n != 0 {
		t.Errorf("%s: %v allocs per run, want 0", name, n)
	}
}
