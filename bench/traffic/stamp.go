package traffic

import "encoding/binary"

// StampLen is the size of the trailer at the end of every media payload.
const StampLen = 20

// stampMagic marks a harness trailer. Receivers check it so that a bridge which corrupts or
// truncates payloads is noticed instead of producing nonsense latencies.
const stampMagic uint16 = 0xB5E7

// Stream identifies a media stream of one endpoint in a Stamp.
const (
	StreamAudio uint8 = 0
	// StreamVideo0 is the lowest simulcast encoding; encoding e is StreamVideo0+e.
	StreamVideo0 uint8 = 1
)

// Stamp flags.
const (
	FlagKeyframe uint8 = 1 << 0
)

// Stamp is the harness trailer. The bridge forwards payloads untouched apart from the VP8
// descriptor at the front (media.md §2.4), so the last bytes survive forwarding: they say who
// sent the packet, on which encoding (the layer the receiver was given, whatever SSRC the
// bridge projected it onto), and when it was encrypted.
type Stamp struct {
	Sender uint32 // endpoint index in the run
	Stream uint8  // StreamAudio or StreamVideo0+encoding
	Flags  uint8
	Frame  uint32 // frame number within the stream
	SentNs int64  // wall clock at encryption, Unix ns
}

// Put writes s into the last StampLen bytes of payload. It returns false when the payload is
// too short.
func (s Stamp) Put(payload []byte) bool {
	if len(payload) < StampLen {
		return false
	}
	b := payload[len(payload)-StampLen:]
	binary.BigEndian.PutUint16(b[0:], stampMagic)
	b[2] = s.Stream
	b[3] = s.Flags
	binary.BigEndian.PutUint32(b[4:], s.Sender)
	binary.BigEndian.PutUint32(b[8:], s.Frame)
	binary.BigEndian.PutUint64(b[12:], uint64(s.SentNs))
	return true
}

// PutSentNs overwrites only the send time of a stamp already written with Put (the sender
// stamps it at encryption, after pacing).
func PutSentNs(payload []byte, ns int64) bool {
	if len(payload) < StampLen {
		return false
	}
	binary.BigEndian.PutUint64(payload[len(payload)-8:], uint64(ns))
	return true
}

// ParseStamp reads the trailer of a decrypted payload (RTP padding already removed).
func ParseStamp(payload []byte) (Stamp, bool) {
	if len(payload) < StampLen {
		return Stamp{}, false
	}
	b := payload[len(payload)-StampLen:]
	if binary.BigEndian.Uint16(b) != stampMagic {
		return Stamp{}, false
	}
	return Stamp{
		Stream: b[2], Flags: b[3],
		Sender: binary.BigEndian.Uint32(b[4:]),
		Frame:  binary.BigEndian.Uint32(b[8:]),
		SentNs: int64(binary.BigEndian.Uint64(b[12:])),
	}, true
}
