package bwe

import (
	"encoding/binary"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// TransportSeq reads the transport-wide sequence number (the 2-byte
// big-endian element of draft-holmer-rmcat-transport-wide-cc-extensions-01
// §2; Jicofo assigns id 5) from p, and reports false when p has no such
// element or it is shorter than 2 bytes.
func TransportSeq(p *rtp.Packet, id uint8) (uint16, bool) {
	data := p.Extension(id)
	if len(data) < 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(data), true
}
