package rtp

import "encoding/binary"

// RTP fixed header layout (RFC 3550 §5.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P|X|  CC   |M|     PT      |       sequence number         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           timestamp                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           synchronization source (SSRC) identifier            |
//	+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//	|            contributing source (CSRC) identifiers             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| extension profile             | extension length (words)      |
//	|                  extension elements ...                       |
const (
	rtpFixedLen  = 12
	bitPadding   = 0x20
	bitExtension = 0x10
	bitMarker    = 0x80
	maskCC       = 0x0f
	maskPT       = 0x7f
)

// Extension block forms (RFC 8285 §4.2, §4.3).
const (
	extNone    uint8 = iota // X bit clear
	extOneByte              // profile 0xBEDE
	extTwoByte              // profile 0x100X (the low 4 bits are "appbits")
	extOther                // RFC 3550 profile-specific block: kept opaque
)

// Extension profiles defined by RFC 8285.
const (
	ProfileOneByte uint16 = 0xBEDE
	ProfileTwoByte uint16 = 0x1000
)

// Packet is a zero-copy view of one RTP packet. Parse fills it from a buffer
// it keeps referring to; the getters read that buffer and the setters write
// it in place. The zero Packet is empty: getters return zero values and
// setters do nothing.
type Packet struct {
	b          []byte // the whole packet, as given to Parse
	hdrLen     int    // fixed header + CSRCs + extension block = payload offset
	payloadEnd int    // len(b) minus RTP padding
	extOff     int    // first byte of extension elements; 0 when there is no block
	extEnd     int    // end of the extension block
	extForm    uint8
}

// Parse validates b as an RTP packet and makes p a view of it. Validation is
// strict, because a packet that fails here would fail in the browser too:
// version 2, CSRC list, extension block and every RFC 8285 element inside
// the packet, and a padding count between 1 and the bytes after the header.
// On failure p is reset to the zero Packet.
func (p *Packet) Parse(b []byte) DropReason {
	v, r := parseRTP(b, true)
	*p = v
	return r
}

// ParseHeader is Parse for a packet whose payload is still encrypted (SRTP, RFC 3711 §3.1:
// the header and its extensions are in the clear, the padding count is not): the padding
// bit is ignored and the payload runs to the end of b.
func (p *Packet) ParseHeader(b []byte) DropReason {
	v, r := parseRTP(b, false)
	*p = v
	return r
}

// parseRTP returns the view of b, or the zero Packet and why b is invalid; with padding, it
// reads and checks the padding count.
func parseRTP(b []byte, padding bool) (Packet, DropReason) {
	if len(b) < rtpFixedLen {
		return Packet{}, DropTooShort
	}
	if b[0]>>6 != 2 {
		return Packet{}, DropBadVersion
	}
	n := rtpFixedLen + 4*int(b[0]&maskCC)
	if len(b) < n {
		return Packet{}, DropCSRCOverflow
	}
	var extOff, extEnd int
	form := extNone
	if b[0]&bitExtension != 0 {
		if len(b) < n+4 {
			return Packet{}, DropExtensionOverflow
		}
		extOff = n + 4
		extEnd = extOff + 4*int(binary.BigEndian.Uint16(b[n+2:]))
		if extEnd > len(b) {
			return Packet{}, DropExtensionOverflow
		}
		form = extFormOf(binary.BigEndian.Uint16(b[n:]))
		if r := validateExtensions(b[extOff:extEnd], form); r != DropNone {
			return Packet{}, r
		}
		n = extEnd
	}
	end := len(b)
	if padding && b[0]&bitPadding != 0 {
		// RFC 3550 §5.1: the last octet counts the padding, itself included.
		pad := int(b[end-1])
		if pad == 0 || pad > end-n {
			return Packet{}, DropBadPadding
		}
		end -= pad
	}
	return Packet{b: b, hdrLen: n, payloadEnd: end, extOff: extOff, extEnd: extEnd, extForm: form}, DropNone
}

// Bytes returns the whole packet (header, payload and padding).
func (p *Packet) Bytes() []byte { return p.b }

// Len is the length of the whole packet.
func (p *Packet) Len() int { return len(p.b) }

// Version is the RTP version; always 2 for a parsed packet.
func (p *Packet) Version() uint8 {
	if len(p.b) == 0 {
		return 0
	}
	return p.b[0] >> 6
}

// Padding reports the P bit.
func (p *Packet) Padding() bool { return len(p.b) > 0 && p.b[0]&bitPadding != 0 }

// HasExtension reports the X bit.
func (p *Packet) HasExtension() bool { return len(p.b) > 0 && p.b[0]&bitExtension != 0 }

// CSRCCount is the CC field.
func (p *Packet) CSRCCount() int {
	if len(p.b) == 0 {
		return 0
	}
	return int(p.b[0] & maskCC)
}

// CSRC returns the i-th contributing source, or 0 when i is out of range.
func (p *Packet) CSRC(i int) uint32 {
	if i < 0 || i >= p.CSRCCount() {
		return 0
	}
	return binary.BigEndian.Uint32(p.b[rtpFixedLen+4*i:])
}

// Marker reports the M bit.
func (p *Packet) Marker() bool { return len(p.b) > 1 && p.b[1]&bitMarker != 0 }

// PayloadType is the 7-bit PT field.
func (p *Packet) PayloadType() uint8 {
	if len(p.b) < 2 {
		return 0
	}
	return p.b[1] & maskPT
}

// Seq is the 16-bit sequence number.
func (p *Packet) Seq() uint16 {
	if len(p.b) < rtpFixedLen {
		return 0
	}
	return binary.BigEndian.Uint16(p.b[2:])
}

// Timestamp is the 32-bit RTP timestamp.
func (p *Packet) Timestamp() uint32 {
	if len(p.b) < rtpFixedLen {
		return 0
	}
	return binary.BigEndian.Uint32(p.b[4:])
}

// SSRC is the synchronization source.
func (p *Packet) SSRC() uint32 {
	if len(p.b) < rtpFixedLen {
		return 0
	}
	return binary.BigEndian.Uint32(p.b[8:])
}

// HeaderLen is the length of the fixed header, CSRCs and extension block,
// which is also the payload offset.
func (p *Packet) HeaderLen() int { return p.hdrLen }

// PayloadOffset is the offset of the payload in Bytes.
func (p *Packet) PayloadOffset() int { return p.hdrLen }

// PayloadLen is the payload length without padding.
func (p *Packet) PayloadLen() int { return p.payloadEnd - p.hdrLen }

// PaddingLen is the number of padding bytes at the end, count byte included.
func (p *Packet) PaddingLen() int { return len(p.b) - p.payloadEnd }

// Payload returns the payload without padding, aliasing the packet buffer.
func (p *Packet) Payload() []byte { return p.b[p.hdrLen:p.payloadEnd] }

// ExtensionProfile is the 16-bit profile of the extension block, or 0 when
// the X bit is clear.
func (p *Packet) ExtensionProfile() uint16 {
	if p.extOff == 0 {
		return 0
	}
	return binary.BigEndian.Uint16(p.b[p.extOff-4:])
}

// SetSeq writes the sequence number in place.
func (p *Packet) SetSeq(seq uint16) {
	if len(p.b) >= rtpFixedLen {
		binary.BigEndian.PutUint16(p.b[2:], seq)
	}
}

// SetTimestamp writes the RTP timestamp in place.
func (p *Packet) SetTimestamp(ts uint32) {
	if len(p.b) >= rtpFixedLen {
		binary.BigEndian.PutUint32(p.b[4:], ts)
	}
}

// SetSSRC writes the SSRC in place.
func (p *Packet) SetSSRC(ssrc uint32) {
	if len(p.b) >= rtpFixedLen {
		binary.BigEndian.PutUint32(p.b[8:], ssrc)
	}
}

// SetPayloadType writes the 7-bit PT in place, keeping the marker bit.
func (p *Packet) SetPayloadType(pt uint8) {
	if len(p.b) >= rtpFixedLen {
		p.b[1] = p.b[1]&bitMarker | pt&maskPT
	}
}

// SetMarker writes the M bit in place.
func (p *Packet) SetMarker(m bool) {
	if len(p.b) < rtpFixedLen {
		return
	}
	if m {
		p.b[1] |= bitMarker
	} else {
		p.b[1] &^= bitMarker
	}
}
