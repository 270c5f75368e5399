package srtp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errMalformedRTP: the packet is not a complete RTP header. ReasonOf classifies it as
// ReasonMalformed, like pion's header errors.
var errMalformedRTP = errors.New("srtp: malformed RTP header")

// The causes rtpHeaderLen reports, wrapped once here so that rejecting a datagram from the
// network (DecryptRTP) formats and allocates nothing.
var (
	errRTPShort      = fmt.Errorf("%w: shorter than the fixed header", errMalformedRTP)
	errRTPCSRCs      = fmt.Errorf("%w: CSRC list past the end", errMalformedRTP)
	errRTPExtHeader  = fmt.Errorf("%w: no room for the extension header", errMalformedRTP)
	errRTPExtBody    = fmt.Errorf("%w: extension past the end", errMalformedRTP)
	errRTPExtElement = fmt.Errorf("%w: extension element overruns the extension", errMalformedRTP)
)

// RTP header extension profiles (RFC 8285 §4.2, §4.3). Like pion/rtp, only these exact values
// are parsed element by element; 0x1001..0x100F (two-byte with appbits) are opaque.
const (
	extProfileOneByte = 0xBEDE
	extProfileTwoByte = 0x1000
)

// rtpHeaderLen returns the length of the RTP header at the start of pkt: the 12 fixed bytes,
// 4·CC of CSRCs and, with X set, the 4-byte extension header plus 4·length bytes (RFC 3550
// §5.1, §5.3.1). That is the part SRTP leaves in the clear and GCM authenticates as AAD
// (RFC 7714 §8.2). It rejects exactly the packets pion/rtp Header.Unmarshal rejects, so the
// fast path and pion agree on which packets can be protected; the version and padding bits are
// not checked (neither does pion).
func rtpHeaderLen(pkt []byte) (int, error) {
	if len(pkt) < 12 {
		return 0, errRTPShort
	}
	n := 12 + 4*int(pkt[0]&0x0f)
	if len(pkt) < n {
		return 0, errRTPCSRCs
	}
	if pkt[0]&0x10 == 0 {
		return n, nil
	}
	if len(pkt) < n+4 {
		return 0, errRTPExtHeader
	}
	profile := binary.BigEndian.Uint16(pkt[n:])
	end := n + 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	if len(pkt) < end {
		return 0, errRTPExtBody
	}
	var ok bool
	switch profile {
	case extProfileOneByte:
		ok = oneByteElementsFit(pkt[n+4 : end])
	case extProfileTwoByte:
		ok = twoByteElementsFit(pkt[n+4 : end])
	default:
		ok = true
	}
	if !ok {
		return 0, errRTPExtElement
	}
	return end, nil
}

// oneByteElementsFit reports whether each RFC 8285 §4.2 element (ID 4 bits, length-1 4 bits)
// lies inside ext. Zero bytes are padding; ID 15 (reserved) or a non-zero byte with ID 0 ends
// parsing without error, as in pion/rtp.
func oneByteElementsFit(ext []byte) bool {
	for i := 0; i < len(ext); {
		if ext[i] == 0 {
			i++
			continue
		}
		id, size := ext[i]>>4, int(ext[i]&0x0f)+1
		i++
		if id == 15 || id == 0 {
			return true
		}
		if i+size > len(ext) {
			return false
		}
		i += size
	}
	return true
}

// twoByteElementsFit reports whether each RFC 8285 §4.3 element (ID byte, length byte, data)
// lies inside ext; zero bytes are padding.
func twoByteElementsFit(ext []byte) bool {
	for i := 0; i < len(ext); {
		if ext[i] == 0 {
			i++
			continue
		}
		if i+1 >= len(ext) {
			return false
		}
		size := int(ext[i+1])
		i += 2
		if i+size > len(ext) {
			return false
		}
		i += size
	}
	return true
}
