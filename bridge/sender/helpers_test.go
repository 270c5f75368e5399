package sender

import (
	"encoding/binary"

	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// pkt describes a test packet as a sender sends it.
type pkt struct {
	ssrc      uint32
	pt        uint8
	seq       uint16
	ts        uint32
	marker    bool
	exts      []rtp.Ext // one-byte form
	enc       int8
	vp8       bool
	pic       uint16 // 15-bit
	shortPic  bool   // a 7-bit picture ID
	tl0, tid  uint8
	key       bool
	payload   int // bytes of codec payload after the descriptor
	padding   int // RTP padding bytes (count byte included)
	level     int8
	seqBase   uint64
	tsBase    uint64
	arrivalNs int64
}

// build returns the packet in a packet.Buf with the metadata ingress fills.
func (p pkt) build() *packet.Buf {
	raw := make([]byte, 0, 1500)
	raw = append(raw, 0x80, p.pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if p.marker {
		raw[1] |= 0x80
	}
	binary.BigEndian.PutUint16(raw[2:], p.seq)
	binary.BigEndian.PutUint32(raw[4:], p.ts)
	binary.BigEndian.PutUint32(raw[8:], p.ssrc)
	if len(p.exts) > 0 {
		raw[0] |= 0x10
		var blk []byte
		for _, e := range p.exts {
			blk = append(blk, e.ID<<4|uint8(len(e.Data)-1))
			blk = append(blk, e.Data...)
		}
		for len(blk)%4 != 0 {
			blk = append(blk, 0)
		}
		raw = binary.BigEndian.AppendUint16(raw, rtp.ProfileOneByte)
		raw = binary.BigEndian.AppendUint16(raw, uint16(len(blk)/4))
		raw = append(raw, blk...)
	}
	hdr := len(raw)
	if p.vp8 {
		s := byte(0x90) // X, S, PID 0
		raw = append(raw, s, 0xe0)
		if p.shortPic {
			raw = append(raw, byte(p.pic&0x7f))
		} else {
			raw = binary.BigEndian.AppendUint16(raw, 0x8000|p.pic)
		}
		raw = append(raw, p.tl0, p.tid<<6)
		if p.key {
			raw = append(raw, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00) // 320x180
		} else {
			raw = append(raw, 0x11)
		}
	}
	for range p.payload {
		raw = append(raw, 0xaa)
	}
	plen := len(raw) - hdr
	if p.padding > 0 {
		raw[0] |= 0x20
		for range p.padding - 1 {
			raw = append(raw, 0)
		}
		raw = append(raw, byte(p.padding))
	}
	b := packet.Get()
	b.SetBytes(raw)
	b.Seq64 = p.seqBase + uint64(p.seq)
	b.TS64 = p.tsBase + uint64(p.ts)
	b.Arrival = p.arrivalNs
	b.PayloadOffset, b.PayloadLen = hdr, plen
	b.SSRC, b.PayloadType, b.Marker, b.Encoding = p.ssrc, p.pt, p.marker, p.enc
	b.AudioLevel = p.level
	if p.vp8 {
		var d rtp.VP8Descriptor
		if d.Parse(raw[hdr:hdr+plen]) != rtp.DropNone {
			panic("test VP8 packet does not parse")
		}
		b.Keyframe, b.StartOfFrame = d.Keyframe, d.S && d.PartID == 0
		b.VP8 = packet.VP8{PictureID: d.PictureID, TL0PICIDX: d.TL0PICIDX, TID: d.TID, HasPictureID: d.PictureIDLen > 0,
			LongPictureID: d.PictureIDLen == 2, HasTL0PICIDX: d.L, HasTID: d.T, LayerSync: d.Y}
	}
	return b
}

// sent is what a receiver sees of an output packet.
type sent struct {
	ssrc   uint32
	pt     uint8
	seq    uint16
	ts     uint32
	marker bool
	pic    uint16
	tl0    uint8
	exts   map[uint8]string
}

func parseSent(b []byte) sent {
	var p rtp.Packet
	if r := p.Parse(b); r != rtp.DropNone {
		panic("output does not parse: " + r.String())
	}
	s := sent{ssrc: p.SSRC(), pt: p.PayloadType(), seq: p.Seq(), ts: p.Timestamp(), marker: p.Marker(), exts: map[uint8]string{}}
	it := p.Extensions()
	for id, data, ok := it.Next(); ok; id, data, ok = it.Next() {
		s.exts[id] = string(data)
	}
	var d rtp.VP8Descriptor
	if p.PayloadType() == 100 && d.Parse(p.Payload()) == rtp.DropNone {
		s.pic, s.tl0 = d.PictureID, d.TL0PICIDX
	}
	return s
}
