package client

import "github.com/cityjitsi/videobridge/bridge/rtp"

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

// parseClearHeader reads the header with the bridge's parser (rtp.Packet.ParseHeader: the
// padding count sits in the encrypted payload) and the 2-byte transport-wide sequence
// number in extension twccID, one-byte or two-byte form (RFC 8285).
func parseClearHeader(b []byte, twccID uint8) (clearHeader, bool) {
	var p rtp.Packet
	if p.ParseHeader(b) != rtp.DropNone {
		return clearHeader{}, false
	}
	h := clearHeader{marker: p.Marker(), pt: p.PayloadType(), seq: p.Seq(), ts: p.Timestamp(), ssrc: p.SSRC()}
	if ext := p.Extension(twccID); len(ext) == 2 {
		h.twcc, h.hasTWCC = uint16(ext[0])<<8|uint16(ext[1]), true
	}
	return h, true
}
