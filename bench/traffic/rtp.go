package traffic

import (
	"encoding/binary"
	"time"
)

// Header extension IDs and payload types of Jicofo's default offer (media.md §2.1): the bridge
// never translates extension IDs, so every endpoint uses these.
const (
	ExtAudioLevel  uint8 = 1
	ExtAbsSendTime uint8 = 3
	ExtTransportCC uint8 = 5

	PTOpus   uint8 = 111
	PTVP8    uint8 = 100
	PTVP8RTX uint8 = 96

	ClockVideo = 90000
	ClockAudio = 48000
)

// HeaderLen is the RTP header this package writes: 12 fixed bytes plus a one-byte-form
// (RFC 8285) extension block of 4 + 8 bytes.
const HeaderLen = 12 + 4 + 8

// MaxPacket is the largest RTP packet (before SRTP) the model writes: Chrome keeps packets at
// or under about 1200 bytes so that SRTP, ICE and tunnels fit a 1280-byte IPv6 MTU.
const MaxPacket = 1200

// Offsets say where the sender fills in fields at send time, after pacing.
type Offsets struct {
	TransportSeq int // the 2-byte transport-wide sequence number
	AbsSendTime  int // the 3-byte abs-send-time, 0 when the packet has none
	Payload      int // start of the RTP payload; the Stamp ends the packet
}

// RTPStream is the sequence state of one SSRC.
type RTPStream struct {
	SSRC   uint32
	PT     uint8
	Seq    uint16 // next sequence number
	TSBase uint32 // random RTP timestamp offset (RFC 3550 §5.1)
}

// writeFixed writes the 12-byte fixed header with the extension bit set.
func writeFixed(dst []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	dst[0] = 0x90 // V=2, X=1
	dst[1] = pt & 0x7f
	if marker {
		dst[1] |= 0x80
	}
	binary.BigEndian.PutUint16(dst[2:], seq)
	binary.BigEndian.PutUint32(dst[4:], ts)
	binary.BigEndian.PutUint32(dst[8:], ssrc)
}

// writeAudioExt writes ssrc-audio-level (RFC 6464: V flag and 7-bit -dBov) and the
// transport-wide sequence number: [1|0 lvl] [5|1 seq seq] + 3 bytes padding.
func writeAudioExt(dst []byte, level uint8, voice bool) Offsets {
	b := dst[12:HeaderLen]
	b[0], b[1], b[2], b[3] = 0xBE, 0xDE, 0, 2
	b[4] = ExtAudioLevel << 4 // length 1 → L = 0
	b[5] = level & 0x7f
	if voice {
		b[5] |= 0x80
	}
	b[6] = ExtTransportCC<<4 | 1
	b[7], b[8] = 0, 0
	b[9], b[10], b[11] = 0, 0, 0
	return Offsets{TransportSeq: 12 + 7, Payload: HeaderLen}
}

// writeVideoExt writes abs-send-time and the transport-wide sequence number:
// [3|2 t t t] [5|1 seq seq] + 1 byte padding.
func writeVideoExt(dst []byte) Offsets {
	b := dst[12:HeaderLen]
	b[0], b[1], b[2], b[3] = 0xBE, 0xDE, 0, 2
	b[4] = ExtAbsSendTime<<4 | 2
	b[5], b[6], b[7] = 0, 0, 0
	b[8] = ExtTransportCC<<4 | 1
	b[9], b[10] = 0, 0
	b[11] = 0
	return VideoOffsets()
}

// VideoOffsets are the offsets of every video packet this package writes (and of its RTX
// form, which keeps the header extensions).
func VideoOffsets() Offsets {
	return Offsets{TransportSeq: 12 + 9, AbsSendTime: 12 + 5, Payload: HeaderLen}
}

// SetTransportSeq fills the transport-wide sequence number of a packet written by this package.
func SetTransportSeq(pkt []byte, o Offsets, seq uint16) {
	binary.BigEndian.PutUint16(pkt[o.TransportSeq:], seq)
}

// SetAbsSendTime fills abs-send-time (6.18 fixed-point seconds, 24 bits) when the packet has it.
func SetAbsSendTime(pkt []byte, o Offsets, now time.Duration) {
	if o.AbsSendTime == 0 {
		return
	}
	v := uint32((uint64(now) << 18) / uint64(time.Second))
	pkt[o.AbsSendTime] = byte(v >> 16)
	pkt[o.AbsSendTime+1] = byte(v >> 8)
	pkt[o.AbsSendTime+2] = byte(v)
}

// rtpTimestamp converts a capture time to an RTP timestamp at clock Hz.
func rtpTimestamp(base uint32, at time.Duration, clock int) uint32 {
	return base + uint32(uint64(at)*uint64(clock)/uint64(time.Second))
}
