package rtp

// Kind is the protocol of a datagram arriving on the shared media port.
type Kind uint8

// Kinds distinguished by Classify.
const (
	KindUnknown Kind = iota
	KindSTUN
	KindDTLS
	KindRTP
	KindRTCP
)

var kindNames = [...]string{
	KindUnknown: "unknown",
	KindSTUN:    "stun",
	KindDTLS:    "dtls",
	KindRTP:     "rtp",
	KindRTCP:    "rtcp",
}

// String returns the lower-case protocol name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Smallest datagrams worth handing on. Anything shorter cannot be a valid
// message of that protocol, so it is dropped here instead of deeper in the stack.
const (
	minSTUNLen = 20 // RFC 8489 §5: fixed 20-byte header
	minDTLSLen = 13 // RFC 6347 §4.1: record header
	minRTPLen  = 12 // RFC 3550 §5.1: fixed header
	minRTCPLen = 8  // RFC 3550 §6.4: header + SSRC of the first (SR/RR) packet
)

// Classify demultiplexes one datagram by its first byte (RFC 7983 §7):
//
//	+----------------+
//	|        [0..3] -+--> STUN
//	|      [20..63] -+--> DTLS
//	|    [128..191] -+--> RTP/RTCP, split by the second byte (RFC 5761 §4):
//	|                |    192..223 is RTCP (SR=200 ... XR=207), else RTP
//	|  anything else |--> unknown (ZRTP, TURN channels, garbage)
//	+----------------+
//
// Datagrams shorter than the fixed header of their protocol are KindUnknown.
func Classify(b []byte) Kind {
	if len(b) == 0 {
		return KindUnknown
	}
	switch c := b[0]; {
	case c <= 3:
		if len(b) >= minSTUNLen {
			return KindSTUN
		}
	case c >= 20 && c <= 63:
		if len(b) >= minDTLSLen {
			return KindDTLS
		}
	case c >= 128 && c <= 191:
		if len(b) < minRTCPLen {
			return KindUnknown
		}
		if pt := b[1]; pt >= 192 && pt <= 223 {
			return KindRTCP
		}
		if len(b) >= minRTPLen {
			return KindRTP
		}
	}
	return KindUnknown
}
