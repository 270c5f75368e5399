package client

import "encoding/binary"

// clearHeader is what a receiver reads from an SRTP packet without decrypting it: SRTP
// (RFC 3711 §3.1) leaves the RTP header and its extensions in the clear, so every packet is
// counted and its loss, frames and transport-wide number tracked, and only a sample pays for
// decryption.
type clearHeader struct {
	marker  bool
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	twcc    uint16
	hasTWCC bool
}

// parseClearHeader reads the fixed header, skips the CSRCs and finds extension id (one-byte
// or two-byte form, RFC 8285). It does not look at padding: the padding count sits in the
// encrypted payload.
func parseClearHeader(b []byte, twccID uint8) (clearHeader, bool) {
	var h clearHeader
	if len(b) < 12 || b[0]>>6 != 2 {
		return h, false
	}
	h.marker = b[1]&0x80 != 0
	h.pt = b[1] & 0x7f
	h.seq = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.ssrc = binary.BigEndian.Uint32(b[8:])
	off := 12 + 4*int(b[0]&0x0f)
	if len(b) < off {
		return h, false
	}
	if b[0]&0x10 == 0 {
		return h, true
	}
	if len(b) < off+4 {
		return h, false
	}
	profile := binary.BigEndian.Uint16(b[off:])
	end := off + 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	if len(b) < end {
		return h, false
	}
	ext := b[off+4 : end]
	switch {
	case profile == 0xBEDE:
		h.twcc, h.hasTWCC = findOneByte(ext, twccID)
	case profile&0xfff0 == 0x1000:
		h.twcc, h.hasTWCC = findTwoByte(ext, twccID)
	}
	return h, true
}

func findOneByte(ext []byte, id uint8) (uint16, bool) {
	for i := 0; i < len(ext); {
		if ext[i] == 0 { // padding
			i++
			continue
		}
		eid, l := ext[i]>>4, int(ext[i]&0x0f)+1
		if eid == 15 { // reserved: stop (RFC 8285 §4.2)
			return 0, false
		}
		i++
		if i+l > len(ext) {
			return 0, false
		}
		if eid == id && l == 2 {
			return binary.BigEndian.Uint16(ext[i:]), true
		}
		i += l
	}
	return 0, false
}

func findTwoByte(ext []byte, id uint8) (uint16, bool) {
	for i := 0; i < len(ext); {
		if ext[i] == 0 {
			i++
			continue
		}
		if i+2 > len(ext) {
			return 0, false
		}
		eid, l := ext[i], int(ext[i+1])
		i += 2
		if i+l > len(ext) {
			return 0, false
		}
		if eid == id && l == 2 {
			return binary.BigEndian.Uint16(ext[i:]), true
		}
		i += l
	}
	return 0, false
}
