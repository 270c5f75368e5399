package receiver

import "github.com/cityjitsi/videobridge/bridge/rtp"

// RTXTypes maps RTX payload types to their apt (the payload type of the
// media they retransmit, RFC 4588 §8.6), as negotiated for one endpoint. A
// value with no allocation, small enough to sit in a routing snapshot.
type RTXTypes struct {
	apt   [128]uint8
	known [2]uint64 // bit pt: apt[pt] is set
}

// Set maps the RTX payload type rtxPT to apt. Payload types are 7 bits; the
// top bit of either argument is ignored.
func (t *RTXTypes) Set(rtxPT, apt uint8) {
	rtxPT &= 0x7f
	t.apt[rtxPT] = apt & 0x7f
	t.known[rtxPT>>6] |= 1 << (rtxPT & 63)
}

// APT returns the apt of rtxPT, and false when rtxPT is not an RTX type.
func (t *RTXTypes) APT(rtxPT uint8) (uint8, bool) {
	rtxPT &= 0x7f
	if t.known[rtxPT>>6]&(1<<(rtxPT&63)) == 0 {
		return 0, false
	}
	return t.apt[rtxPT], true
}

// UnwrapRTX turns p, a packet that arrived on an RTX SSRC whose FID primary
// is primarySSRC, back into the original packet in place (media.md §2.5,
// JVB's RtxHandler): the original sequence number from the first two payload
// bytes, the apt payload type and the primary SSRC. p stays a valid view of
// the shorter packet.
//
// It returns DropUnknownRTXType when p's payload type is not an RTX type of
// types, and DropPadding when fewer than two payload bytes are left after
// the padding: Chrome's padding-only bandwidth probes, which JVB drops. p is
// unchanged then.
func UnwrapRTX(p *rtp.Packet, primarySSRC uint32, types *RTXTypes) DropReason {
	apt, ok := types.APT(p.PayloadType())
	if !ok {
		return DropUnknownRTXType
	}
	if !p.UnwrapRTX(primarySSRC, apt) {
		return DropPadding
	}
	return DropNone
}
