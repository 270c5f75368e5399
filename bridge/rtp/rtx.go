package rtp

import "encoding/binary"

// RTX (RFC 4588 §4): a retransmission goes on its own SSRC and payload type
// with its own sequence numbers; the payload starts with the original
// sequence number (OSN), followed by the original payload.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     RTP header (RTX SSRC, RTX PT, RTX seq; same timestamp)    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            OSN                |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//	|                  original RTP payload                         |

const osnLen = 2

// RTXOriginalSeq returns the original sequence number carried by an RTX
// packet, and false when the payload is shorter than the OSN. Chrome sends
// padding-only RTX packets as bandwidth probes; JVB drops those (media.md
// §2.5), and so does UnwrapRTX.
func (p *Packet) RTXOriginalSeq() (uint16, bool) {
	if p.PayloadLen() < osnLen {
		return 0, false
	}
	return binary.BigEndian.Uint16(p.b[p.hdrLen:]), true
}

// WrapRTX parses src and writes its RTX form to dst; see Packet.WrapRTX.
func WrapRTX(dst, src []byte, ssrc uint32, pt uint8, seq uint16) int {
	var p Packet
	if p.Parse(src) != DropNone {
		return 0
	}
	return p.WrapRTX(dst, ssrc, pt, seq)
}

// WrapRTX writes to dst the RTX form of p: the header (CSRCs and extension
// block included) with ssrc, pt and seq replaced, then the OSN, then the
// payload without padding (the P bit is cleared). The marker and timestamp
// are kept. dst must not overlap p's buffer; its length is the space
// available. It returns the bytes written, or 0 when dst is too short or p is
// not parsed.
func (p *Packet) WrapRTX(dst []byte, ssrc uint32, pt uint8, seq uint16) int {
	if p.hdrLen == 0 {
		return 0
	}
	n := p.payloadEnd + osnLen
	if len(dst) < n {
		return 0
	}
	copy(dst, p.b[:p.hdrLen])
	binary.BigEndian.PutUint16(dst[p.hdrLen:], p.Seq())
	copy(dst[p.hdrLen+osnLen:], p.b[p.hdrLen:p.payloadEnd])
	writeIDs(dst, ssrc, pt, seq)
	return n
}

// UnwrapRTX parses the RTX packet src and writes the original packet to dst;
// see Packet.UnwrapRTX.
func UnwrapRTX(dst, src []byte, ssrc uint32, pt uint8) int {
	var p Packet
	if p.Parse(src) != DropNone {
		return 0
	}
	osn, ok := p.RTXOriginalSeq()
	n := p.payloadEnd - osnLen
	if !ok || len(dst) < n {
		return 0
	}
	copy(dst, p.b[:p.hdrLen])
	copy(dst[p.hdrLen:], p.b[p.hdrLen+osnLen:p.payloadEnd])
	writeIDs(dst, ssrc, pt, osn)
	return n
}

// UnwrapRTX turns the RTX packet p back into the original packet in place:
// the OSN becomes the sequence number, ssrc and pt (the primary SSRC and the
// apt payload type) replace the RTX ones, the payload moves up two bytes and
// RTX padding is removed. p stays a valid view of the shorter packet. It
// returns false, changing nothing, when the payload is shorter than the OSN.
func (p *Packet) UnwrapRTX(ssrc uint32, pt uint8) bool {
	osn, ok := p.RTXOriginalSeq()
	if !ok {
		return false
	}
	copy(p.b[p.hdrLen:], p.b[p.hdrLen+osnLen:p.payloadEnd])
	p.payloadEnd -= osnLen
	p.b = p.b[:p.payloadEnd]
	writeIDs(p.b, ssrc, pt, osn)
	return true
}

// writeIDs sets SSRC, PT (keeping the marker) and seq, and clears the P bit
// because the packet written has no padding.
func writeIDs(b []byte, ssrc uint32, pt uint8, seq uint16) {
	b[0] &^= bitPadding
	b[1] = b[1]&bitMarker | pt&maskPT
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}
