package sender

import (
	"encoding/binary"

	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/selector"
)

// bufSize leaves room beyond a stored packet for the extensions the bridge adds and a VP8
// descriptor that grows to a 15-bit picture ID; the transport refuses what exceeds the MTU.
const bufSize = packet.Size + 64

// Receiver is the egress context of one receiving endpoint, shared by all the senders toward
// it and owned by its egress goroutine.
type Receiver struct {
	// Scratch is where packets for this receiver are rendered; nil: one of its own, made on
	// first use. Receivers served by one goroutine should share one: rendered packets are
	// encrypted and copied out at once, and a shared buffer stays in cache where one per
	// receiver (3 KiB each) is cold again by the time the next packet of a fan-out of 100
	// reaches it.
	Scratch *Scratch
	// Ext are the receiver's negotiated header extension ids.
	Ext router.Extensions
	// RTT is the receiver's round-trip time in ns (0: not measured yet), for Retransmit.
	RTT int64

	tccSeq uint16 // the bridge's transport-wide sequence number toward this receiver
	tcc    [2]byte
	abs    [3]byte

	// RTXFor maps a media payload type to the receiver's RTX payload type for it (0: none).
	// Last: only retransmissions read it.
	RTXFor [128]uint8
}

// Scratch holds the packet being rendered for a receiver: what Forward and Retransmit return
// points into it, valid until the next call with a Receiver using the same Scratch.
type Scratch struct {
	out [bufSize]byte // the packet being sent
	tmp [bufSize]byte // RTX wrapping and descriptor growth
}

// scratch returns rx.Scratch, making one on first use.
func (rx *Receiver) scratch() *Scratch {
	if rx.Scratch == nil {
		rx.Scratch = new(Scratch)
	}
	return rx.Scratch
}

// TransportSeq returns the last transport-wide sequence number sent (0: none yet).
func (rx *Receiver) TransportSeq() uint16 { return rx.tccSeq }

// render writes b, as the decision d says this receiver gets it, into rx's scratch out and returns its
// length (0: it cannot). Header extensions follow media.md §2.2: everything the bridge does
// not originate is stripped except ssrc-audio-level (audio) and video-orientation (video),
// which are carried over under the receiver's ids; video gets the bridge's own
// transport-wide sequence number when the receiver negotiated transport-cc, else
// abs-send-time when it negotiated that.
func (s *Sender) render(b *packet.Buf, d *selector.Decision, vp8 bool, in *Input, rx *Receiver, now int64) int {
	var p rtp.Packet
	if p.Parse(b.Bytes()) != rtp.DropNone {
		return 0
	}
	var add [3]rtp.Ext
	k := 0
	if !s.video {
		if data := p.Extension(in.SrcExt.AudioLevel); data != nil && rx.Ext.AudioLevel != 0 {
			add[k] = rtp.Ext{ID: rx.Ext.AudioLevel, Data: data}
			k++
		}
	} else {
		if data := p.Extension(in.SrcExt.VideoOrientation); data != nil && rx.Ext.VideoOrientation != 0 {
			add[k] = rtp.Ext{ID: rx.Ext.VideoOrientation, Data: data}
			k++
		}
		switch {
		case rx.Ext.TransportCC != 0:
			// JVB's TCC tagger: video only, numbering from 1.
			rx.tccSeq++
			binary.BigEndian.PutUint16(rx.tcc[:], rx.tccSeq)
			add[k] = rtp.Ext{ID: rx.Ext.TransportCC, Data: rx.tcc[:]}
			k++
		case rx.Ext.AbsSendTime != 0:
			putAbsSendTime(rx.abs[:], now)
			add[k] = rtp.Ext{ID: rx.Ext.AbsSendTime, Data: rx.abs[:]}
			k++
		}
	}
	sc := rx.scratch()
	n := p.RewriteExtensions(sc.out[:], rtp.ExtSet{}, add[:k]...)
	if n == 0 {
		return 0
	}
	// The fixed header keeps its place and the payload (with any padding) ends the packet,
	// so both are found without parsing the output again.
	out := sc.out[:n]
	binary.BigEndian.PutUint16(out[2:], d.Seq)
	binary.BigEndian.PutUint32(out[4:], d.Timestamp)
	if d.Marker {
		out[1] |= 0x80
	} else {
		out[1] &^= 0x80
	}
	if s.video {
		binary.BigEndian.PutUint32(out[8:], s.ssrc)
	}
	if vp8 {
		return rewriteVP8(sc, n-(p.Len()-p.HeaderLen()), p.PayloadLen(), n, d)
	}
	return n
}

// pad appends k bytes of RTP padding to the packet out[:n] (RFC 3550 §5.1: the P bit, then
// zeros and the count in the last byte) and returns its new length; n when k is out of
// range or out has no room.
func pad(out []byte, n, k int) int {
	if k <= 0 || k > 255 || n+k > len(out) {
		return n
	}
	out[0] |= 0x20
	clear(out[n : n+k-1])
	out[n+k-1] = byte(k)
	return n + k
}

// rewriteVP8 writes the projected picture ID and TL0PICIDX into the VP8 descriptor of the
// packet in sc.out (n bytes, payload at off, plen bytes without padding). In place when the
// source sent a 15-bit picture ID (Chrome does); otherwise the descriptor grows, and the
// payload moves (padding is dropped).
func rewriteVP8(sc *Scratch, off, plen, n int, d *selector.Decision) int {
	pl := sc.out[off : off+plen]
	var vd rtp.VP8Descriptor
	if vd.Parse(pl) != rtp.DropNone {
		return 0
	}
	if vd.RewriteInPlace(pl, d.PictureID, d.TL0PICIDX) {
		return n
	}
	m := vd.RewriteInto(sc.tmp[off:], pl, d.PictureID, d.TL0PICIDX)
	if m == 0 || off+m > len(sc.out) {
		return 0
	}
	copy(sc.tmp[:off], sc.out[:off])
	sc.tmp[0] &^= 0x20 // the P bit: the padding was not copied
	return copy(sc.out[:], sc.tmp[:off+m])
}

// putAbsSendTime writes the abs-send-time extension: 24 bits of seconds in 6.18 fixed point
// (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time), from now in nanoseconds.
func putAbsSendTime(b []byte, now int64) {
	sec, frac := now/1e9, now%1e9
	v := uint32(sec<<18) + uint32((frac<<18)/1e9)
	b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
}
