package bwe

import (
	"encoding/binary"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// rtpWithExt builds an RTP packet with the given one-byte extension block.
func rtpWithExt(block []byte) []byte {
	b := []byte{0x90, 100, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}
	for len(block)%4 != 0 {
		block = append(block, 0)
	}
	b = binary.BigEndian.AppendUint16(b, rtp.ProfileOneByte)
	b = binary.BigEndian.AppendUint16(b, uint16(len(block)/4))
	return append(append(b, block...), 0xaa)
}

func TestTransportSeq(t *testing.T) {
	tests := []struct {
		name  string
		block []byte
		id    uint8
		seq   uint16
		ok    bool
	}{
		{"present", []byte{0x51, 0x12, 0x34}, 5, 0x1234, true},
		{"after abs-send-time", []byte{0x32, 1, 2, 3, 0x51, 0xff, 0xfe}, 5, 0xfffe, true},
		{"too short", []byte{0x50, 0x12}, 5, 0, false},
		{"absent", []byte{0x10, 0x85}, 5, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p rtp.Packet
			if r := p.Parse(rtpWithExt(tt.block)); r != rtp.DropNone {
				t.Fatal(r)
			}
			seq, ok := TransportSeq(&p, tt.id)
			if seq != tt.seq || ok != tt.ok {
				t.Errorf("TransportSeq = %#x, %v; want %#x, %v", seq, ok, tt.seq, tt.ok)
			}
		})
	}
}
