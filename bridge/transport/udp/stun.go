package udp

import "encoding/binary"

// STUN wire constants (RFC 8489 §5, §14.3).
const (
	stunHeaderLen   = 20
	stunMagicCookie = 0x2112A442
	stunAttrUser    = 0x0006
	// maxUfragColons bounds the ufrag look-ups per STUN message: a USERNAME "A:B" is split at
	// each ':' in turn because a configured ufrag prefix may itself contain ':'.
	maxUfragColons = 4
)

// stunUsername returns the value of the USERNAME attribute of the STUN message b, without
// decoding the rest. ok is false when b is not an RFC 5389/8489 message (no magic cookie, a
// length that does not fit) or has no USERNAME. It walks the attribute TLVs only until
// USERNAME, so it costs a few bounds checks and never allocates.
func stunUsername(b []byte) (user []byte, ok bool) {
	if len(b) < stunHeaderLen || b[0]&0xc0 != 0 || binary.BigEndian.Uint32(b[4:8]) != stunMagicCookie {
		return nil, false
	}
	bodyLen := int(binary.BigEndian.Uint16(b[2:4]))
	if bodyLen%4 != 0 || stunHeaderLen+bodyLen > len(b) {
		return nil, false
	}
	attrs := b[stunHeaderLen : stunHeaderLen+bodyLen]
	for len(attrs) >= 4 {
		typ := binary.BigEndian.Uint16(attrs[0:2])
		n := int(binary.BigEndian.Uint16(attrs[2:4]))
		if 4+n > len(attrs) {
			return nil, false
		}
		if typ == stunAttrUser {
			return attrs[4 : 4+n], true
		}
		padded := 4 + (n+3)&^3 // RFC 8489 §14: values are padded to a multiple of 4 bytes
		if padded > len(attrs) {
			return nil, false
		}
		attrs = attrs[padded:]
	}
	return nil, false
}
