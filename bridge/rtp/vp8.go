package rtp

import "encoding/binary"

// VP8 payload descriptor (RFC 7741 §4.2). Every field after the first byte is
// optional, so offsets follow from the flags and are never fixed:
//
//	     0 1 2 3 4 5 6 7
//	    +-+-+-+-+-+-+-+-+
//	    |X|R|N|S|R| PID | (required)
//	    +-+-+-+-+-+-+-+-+
//	X:  |I|L|T|K| RSV   | (present if X)
//	    +-+-+-+-+-+-+-+-+
//	I:  |M| PictureID   | (present if I; M=1 means 15 bits, one more byte)
//	    +-+-+-+-+-+-+-+-+
//	    |   PictureID   |
//	    +-+-+-+-+-+-+-+-+
//	L:  |   TL0PICIDX   | (present if L)
//	    +-+-+-+-+-+-+-+-+
//	T/K:|TID|Y| KEYIDX  | (present if T or K)
//	    +-+-+-+-+-+-+-+-+
const (
	vp8BitX = 0x80
	vp8BitN = 0x20
	vp8BitS = 0x10
	vp8BitI = 0x80
	vp8BitL = 0x40
	vp8BitT = 0x20
	vp8BitK = 0x10
	vp8BitM = 0x80

	// vp8KeyHeaderLen is the 3-byte frame tag, the 3-byte start code and
	// 2+2 bytes of size (RFC 6386 §9.1).
	vp8KeyHeaderLen = 10
)

// VP8Descriptor is a parsed VP8 payload descriptor plus what the bridge needs
// from the VP8 payload header: keyframe flag and keyframe size.
type VP8Descriptor struct {
	X, N, S bool
	PartID  uint8 // PID, the partition index
	I, L    bool
	T, K    bool

	PictureID    uint16 // 7 or 15 bits, see PictureIDLen
	PictureIDLen uint8  // 0 (absent), 1 (7-bit) or 2 (15-bit, M=1)
	TL0PICIDX    uint8  // valid when L
	TID          uint8  // valid when T
	Y            bool   // valid when T
	KEYIDX       uint8  // valid when K

	// Offsets into the payload of the optional fields, 0 when absent
	// (offset 0 always holds the required byte).
	PictureIDOff, TL0Off, TIDOff int
	Len                          int // descriptor length = offset of the VP8 payload

	// Keyframe is set on the first packet of a keyframe: S=1, PartID=0 and
	// the P bit of the VP8 payload header is 0 (RFC 7741 §4.3).
	Keyframe bool
	// Width and Height come from a keyframe header with a valid start code
	// (9d 01 2a); 0 otherwise. The 2-bit scaling fields are dropped.
	Width, Height uint16
}

// Parse validates payload (an RTP payload without padding) as a VP8 payload
// descriptor followed by at least one byte of VP8 data. On failure d is reset
// to the zero VP8Descriptor.
func (d *VP8Descriptor) Parse(payload []byte) DropReason {
	*d = VP8Descriptor{}
	var v VP8Descriptor
	r := v.parse(payload)
	if r == DropNone {
		*d = v
	}
	return r
}

func (d *VP8Descriptor) parse(payload []byte) DropReason {
	if len(payload) < 1 {
		return DropTooShort
	}
	b0 := payload[0]
	d.X, d.N, d.S = b0&vp8BitX != 0, b0&vp8BitN != 0, b0&vp8BitS != 0
	d.PartID = b0 & 0x07
	off := 1
	if d.X {
		if len(payload) <= off {
			return DropTruncated
		}
		b1 := payload[off]
		d.I, d.L, d.T, d.K = b1&vp8BitI != 0, b1&vp8BitL != 0, b1&vp8BitT != 0, b1&vp8BitK != 0
		off++
	}
	if d.I {
		if len(payload) <= off {
			return DropTruncated
		}
		d.PictureIDOff, d.PictureIDLen = off, 1
		if payload[off]&vp8BitM != 0 {
			d.PictureIDLen = 2
		}
		off += int(d.PictureIDLen)
	}
	if d.L {
		d.TL0Off = off
		off++
	}
	if d.T || d.K {
		d.TIDOff = off
		off++
	}
	// One check covers the optional fields and at least one byte of VP8 data.
	if len(payload) <= off {
		return DropTruncated
	}
	d.Len = off
	switch d.PictureIDLen {
	case 1:
		d.PictureID = uint16(payload[d.PictureIDOff])
	case 2:
		d.PictureID = binary.BigEndian.Uint16(payload[d.PictureIDOff:]) & 0x7fff
	}
	if d.L {
		d.TL0PICIDX = payload[d.TL0Off]
	}
	if d.T {
		b := payload[d.TIDOff]
		d.TID, d.Y = b>>6, b&0x20 != 0
	}
	if d.K {
		d.KEYIDX = payload[d.TIDOff] & 0x1f
	}
	d.parseKeyframe(payload[off:])
	return DropNone
}

func (d *VP8Descriptor) parseKeyframe(vp8 []byte) {
	// RFC 6386 §9.1: bit 0 of the frame tag is the inverse key frame flag.
	if !d.S || d.PartID != 0 || vp8[0]&0x01 != 0 {
		return
	}
	d.Keyframe = true
	if len(vp8) < vp8KeyHeaderLen || vp8[3] != 0x9d || vp8[4] != 0x01 || vp8[5] != 0x2a {
		return
	}
	d.Width = binary.LittleEndian.Uint16(vp8[6:]) & 0x3fff
	d.Height = binary.LittleEndian.Uint16(vp8[8:]) & 0x3fff
}

// RewrittenLen is the length of the descriptor that RewriteInto writes: the
// bridge always writes a 15-bit picture ID (JVB does, so the receiver sees
// one continuous picture ID space across simulcast switches). The growth over
// the source is RewrittenLen() - Len: 0 when the source already carries a
// 15-bit picture ID, 1 for a 7-bit one, 2 or 3 when it carries none.
func (d *VP8Descriptor) RewrittenLen() int {
	n := 4 // required byte, X byte, 2 picture ID bytes
	if d.L {
		n++
	}
	if d.T || d.K {
		n++
	}
	return n
}

// VP8RewriteInto parses src (a VP8 RTP payload) and writes it to dst with a
// 15-bit picture ID; see VP8Descriptor.RewriteInto.
func VP8RewriteInto(dst, src []byte, pictureID uint16, tl0 uint8) int {
	var d VP8Descriptor
	if d.Parse(src) != DropNone {
		return 0
	}
	return d.RewriteInto(dst, src, pictureID, tl0)
}

// RewriteInto writes to dst a descriptor with X=1, I=1, M=1 and the 15-bit
// pictureID, followed by the VP8 data of src, the payload d was parsed from.
// N, S and PID are kept; L, T and K keep their presence in src, because
// RFC 7741 ties TL0PICIDX to the T bit. tl0 is written when L is set and
// ignored otherwise; TID/Y/KEYIDX are copied. dst must not overlap src and its
// length is the space available. It returns the bytes written, or 0 when dst
// is too short or d does not describe src.
func (d *VP8Descriptor) RewriteInto(dst, src []byte, pictureID uint16, tl0 uint8) int {
	if d.Len == 0 || d.Len >= len(src) {
		return 0
	}
	hdr := d.RewrittenLen()
	n := hdr + len(src) - d.Len
	if len(dst) < n {
		return 0
	}
	dst[0] = vp8BitX | src[0]&(vp8BitN|vp8BitS|0x07)
	b1 := byte(vp8BitI)
	if d.L {
		b1 |= vp8BitL
	}
	if d.T {
		b1 |= vp8BitT
	}
	if d.K {
		b1 |= vp8BitK
	}
	dst[1] = b1
	binary.BigEndian.PutUint16(dst[2:], vp8BitM<<8|pictureID&0x7fff)
	off := 4
	if d.L {
		dst[off] = tl0
		off++
	}
	if d.T || d.K {
		dst[off] = src[d.TIDOff]
		off++
	}
	copy(dst[off:], src[d.Len:])
	return n
}

// RewriteInPlace is the cheap path when the source already has a 15-bit
// picture ID: it overwrites the picture ID (and TL0PICIDX when L is set) in
// payload, the buffer d was parsed from. It returns false, writing nothing,
// when the descriptor would have to grow; use RewriteInto then.
func (d *VP8Descriptor) RewriteInPlace(payload []byte, pictureID uint16, tl0 uint8) bool {
	if d.PictureIDLen != 2 || d.Len > len(payload) || d.Len == 0 {
		return false
	}
	binary.BigEndian.PutUint16(payload[d.PictureIDOff:], vp8BitM<<8|pictureID&0x7fff)
	d.PictureID = pictureID & 0x7fff
	if d.L {
		payload[d.TL0Off], d.TL0PICIDX = tl0, tl0
	}
	return true
}
