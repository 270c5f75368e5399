package rtp

import "encoding/binary"

// RFC 8285 header extensions.
//
// One-byte form (profile 0xBEDE), ids 1..14, 1..16 data bytes:
//
//	 0 1 2 3 4 5 6 7
//	+-+-+-+-+-+-+-+-+
//	|  ID   |  len  |  len = data bytes - 1
//	+-+-+-+-+-+-+-+-+
//
// Two-byte form (profile 0x100X), ids 1..255, 0..255 data bytes:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|       ID      |     length    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// In both forms a zero byte between elements is padding.

const (
	oneByteMaxID  = 14 // id 15 is reserved: "stop processing" (RFC 8285 §4.2)
	oneByteMaxLen = 16
	twoByteMaxLen = 255
)

// Results of nextElement.
const (
	elemOK uint8 = iota
	elemDone
	elemBad
)

func extFormOf(profile uint16) uint8 {
	switch {
	case profile == ProfileOneByte:
		return extOneByte
	case profile&0xfff0 == ProfileTwoByte:
		return extTwoByte
	default:
		return extOther
	}
}

// nextElement decodes the element at or after off in the extension block b.
// It reports elemDone at the end of the block and where RFC 8285 §4.2 says to
// stop processing (one-byte id 15; id 0 with a nonzero length, as libwebrtc
// and pion also treat it), and elemBad when an element overruns the block.
func nextElement(b []byte, off int, form uint8) (id uint8, start, end int, st uint8) {
	if form != extOneByte && form != extTwoByte {
		return 0, 0, 0, elemDone
	}
	for off < len(b) && b[off] == 0 {
		off++ // padding
	}
	if off >= len(b) {
		return 0, 0, 0, elemDone
	}
	if form == extOneByte {
		id = b[off] >> 4
		if id == 15 || id == 0 {
			return 0, 0, 0, elemDone
		}
		start = off + 1
		end = start + int(b[off]&0x0f) + 1
	} else {
		id = b[off]
		if off+1 >= len(b) {
			return 0, 0, 0, elemBad
		}
		start = off + 2
		end = start + int(b[off+1])
	}
	if end > len(b) {
		return 0, 0, 0, elemBad
	}
	return id, start, end, elemOK
}

func validateExtensions(b []byte, form uint8) DropReason {
	for off := 0; ; {
		_, _, end, st := nextElement(b, off, form)
		switch st {
		case elemDone:
			return DropNone
		case elemBad:
			return DropBadExtension
		}
		off = end
	}
}

// ExtIter walks the RFC 8285 elements of a packet without allocating.
// Blocks with another profile yield no elements.
type ExtIter struct {
	b    []byte
	off  int
	form uint8
}

// Extensions returns an iterator over the packet's header extension elements.
func (p *Packet) Extensions() ExtIter {
	if p.extOff == 0 {
		return ExtIter{}
	}
	return ExtIter{b: p.b[p.extOff:p.extEnd], form: p.extForm}
}

// Next returns the next element; data aliases the packet buffer.
func (it *ExtIter) Next() (id uint8, data []byte, ok bool) {
	id, start, end, st := nextElement(it.b, it.off, it.form)
	if st != elemOK {
		it.off = len(it.b)
		return 0, nil, false
	}
	it.off = end
	return id, it.b[start:end], true
}

// Extension returns the data of the first element with the given id, or nil
// when there is none. A present two-byte element with no data returns an
// empty, non-nil slice.
func (p *Packet) Extension(id uint8) []byte {
	if id == 0 || p.extOff == 0 {
		return nil
	}
	// Walk with nextElement directly rather than an ExtIter: the offsets stay
	// in registers, which is measurably faster than an iterator in memory.
	blk := p.b[p.extOff:p.extEnd]
	for off := 0; ; {
		eid, start, end, st := nextElement(blk, off, p.extForm)
		if st != elemOK {
			return nil
		}
		if eid == id {
			return blk[start:end]
		}
		off = end
	}
}

// SetExtension overwrites, in place, the data of the element with the given
// id. It works only when that element exists with exactly len(data) bytes, as
// it does when the bridge stamps its own transport-wide sequence number into
// a slot reserved by RewriteExtensions.
func (p *Packet) SetExtension(id uint8, data []byte) bool {
	cur := p.Extension(id)
	if cur == nil || len(cur) != len(data) {
		return false
	}
	copy(cur, data)
	return true
}

// ExtensionBlock returns the bytes of the extension block after its 4-byte
// header (profile and length), or nil when the X bit is clear. It lets a
// caller read a block with a profile other than RFC 8285.
func (p *Packet) ExtensionBlock() []byte {
	if p.extOff == 0 {
		return nil
	}
	return p.b[p.extOff:p.extEnd]
}

// Ext is one header extension element to add.
type Ext struct {
	ID   uint8
	Data []byte
}

// ExtSet is a set of extension ids (0..255), a value with no allocation.
type ExtSet [4]uint64

// NewExtSet returns the set of the given ids.
func NewExtSet(ids ...uint8) ExtSet {
	var s ExtSet
	for _, id := range ids {
		s.Add(id)
	}
	return s
}

// Add puts id in the set.
func (s *ExtSet) Add(id uint8) { s[id>>6] |= 1 << (id & 63) }

// Has reports whether id is in the set.
func (s ExtSet) Has(id uint8) bool { return s[id>>6]&(1<<(id&63)) != 0 }

func fitsOneByte(id uint8, n int) bool {
	return id <= oneByteMaxID && n >= 1 && n <= oneByteMaxLen
}

// RewriteExtensions parses src and writes it to dst with a new header
// extension block; see Packet.RewriteExtensions.
func RewriteExtensions(dst, src []byte, keep ExtSet, add ...Ext) int {
	var p Packet
	if p.Parse(src) != DropNone {
		return 0
	}
	return p.RewriteExtensions(dst, keep, add...)
}

// RewriteExtensions writes the packet to dst with its extension block
// rebuilt: the elements whose id is in keep, in their original order, then
// the elements of add (an added id replaces a kept one). It uses the one-byte
// form when every element fits (id ≤ 14, 1..16 bytes) and the two-byte form
// otherwise (RFC 8285 §4.3; JVB relies on extmap-allow-mixed for the AV1
// dependency descriptor). With no elements left the X bit is cleared. The
// fixed header, CSRCs, payload and padding are copied unchanged.
//
// dst must not overlap the packet; its length (not capacity) is the space
// available. It returns the bytes written, or 0 when dst is too short, an
// added element is invalid (id 0 or more than 255 bytes) or p is not parsed.
func (p *Packet) RewriteExtensions(dst []byte, keep ExtSet, add ...Ext) int {
	if p.hdrLen == 0 {
		return 0
	}
	var added ExtSet
	count, dataLen, oneByte := 0, 0, true
	for _, e := range add {
		if e.ID == 0 || len(e.Data) > twoByteMaxLen {
			return 0
		}
		oneByte = oneByte && fitsOneByte(e.ID, len(e.Data))
		added.Add(e.ID)
		count++
		dataLen += len(e.Data)
	}
	blk := p.ExtensionBlock()
	for off := 0; ; {
		id, start, end, st := nextElement(blk, off, p.extForm)
		if st != elemOK {
			break
		}
		if keep.Has(id) && !added.Has(id) {
			oneByte = oneByte && fitsOneByte(id, end-start)
			count++
			dataLen += end - start
		}
		off = end
	}
	block := 0
	if count > 0 {
		per := 2
		if oneByte {
			per = 1
		}
		words := (count*per + dataLen + 3) / 4
		if words > 0xffff {
			return 0
		}
		block = 4 + 4*words
	}
	fixed := rtpFixedLen + 4*int(p.b[0]&maskCC)
	rest := p.b[p.hdrLen:]
	n := fixed + block + len(rest)
	if len(dst) < n {
		return 0
	}
	copy(dst, p.b[:fixed])
	copy(dst[fixed+block:], rest)
	if count == 0 {
		dst[0] &^= bitExtension
		return n
	}
	dst[0] |= bitExtension
	p.writeBlock(dst[fixed:fixed+block], keep, added, oneByte, add)
	return n
}

// writeBlock fills blk (header included, sized by RewriteExtensions).
func (p *Packet) writeBlock(blk []byte, keep, added ExtSet, oneByte bool, add []Ext) {
	profile := ProfileTwoByte
	if oneByte {
		profile = ProfileOneByte
	}
	binary.BigEndian.PutUint16(blk, profile)
	binary.BigEndian.PutUint16(blk[2:], uint16((len(blk)-4)/4))
	off := 4
	src := p.ExtensionBlock()
	for so := 0; ; {
		id, start, end, st := nextElement(src, so, p.extForm)
		if st != elemOK {
			break
		}
		if keep.Has(id) && !added.Has(id) {
			off = putElement(blk, off, id, src[start:end], oneByte)
		}
		so = end
	}
	for _, e := range add {
		off = putElement(blk, off, e.ID, e.Data, oneByte)
	}
	clear(blk[off:]) // RFC 8285 §4.1: pad the block with zero bytes
}

func putElement(blk []byte, off int, id uint8, data []byte, oneByte bool) int {
	if oneByte {
		blk[off] = id<<4 | uint8(len(data)-1)
		off++
	} else {
		blk[off] = id
		blk[off+1] = uint8(len(data))
		off += 2
	}
	return off + copy(blk[off:], data)
}
