package receiver

import "github.com/cityjitsi/videobridge/bridge/rtp"

// AudioLevel reads the client-to-mixer audio level (RFC 6464 §3) from the
// header extension with the given id (Jicofo assigns 1): a V bit, set when
// the sender's VAD detected voice, and a 7-bit level in -dBov, 0 loudest and
// 127 silence. It returns level -1 when the packet has no such element.
//
//	 0 1 2 3 4 5 6 7
//	+-+-+-+-+-+-+-+-+
//	|V| level       |
//	+-+-+-+-+-+-+-+-+
//
// Extra bytes after the first are ignored: RFC 6464 defines one, and a
// sender padding the element (the one-byte form's len field allows up to 16)
// still means the first.
func AudioLevel(p *rtp.Packet, id uint8) (level int8, voice bool) {
	data := p.Extension(id)
	if len(data) == 0 {
		return -1, false
	}
	return int8(data[0] & 0x7f), data[0]&0x80 != 0
}
