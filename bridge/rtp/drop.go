package rtp

// DropReason says why a parser refused its input. The zero value, DropNone,
// means the input was accepted. Callers on the packet path count drops by
// reason instead of logging them (ARCHITECTURE.md, packet-path rule 5).
type DropReason uint8

// Drop reasons, shared by the RTP, RTCP, VP8 and RTX parsers.
const (
	DropNone              DropReason = iota // accepted
	DropTooShort                            // shorter than the fixed header of its format
	DropBadVersion                          // RTP/RTCP version field is not 2
	DropCSRCOverflow                        // CSRC count points past the end of the packet
	DropExtensionOverflow                   // RTP extension header or its length points past the end
	DropBadExtension                        // an RFC 8285 element overruns the extension block
	DropBadPadding                          // padding count is 0 or larger than the payload
	DropLengthOverflow                      // RTCP length field points past the end of the buffer
	DropTruncated                           // body too short for its type, count or flags
	DropWrongType                           // parser given a packet of another type or format
	DropBadChunk                            // transport-cc chunk with a reserved symbol
	dropReasonCount
)

var dropReasonNames = [dropReasonCount]string{
	DropNone:              "none",
	DropTooShort:          "too_short",
	DropBadVersion:        "bad_version",
	DropCSRCOverflow:      "csrc_overflow",
	DropExtensionOverflow: "extension_overflow",
	DropBadExtension:      "bad_extension",
	DropBadPadding:        "bad_padding",
	DropLengthOverflow:    "length_overflow",
	DropTruncated:         "truncated",
	DropWrongType:         "wrong_type",
	DropBadChunk:          "bad_chunk",
}

// String returns a short snake_case name, suitable as a metrics label.
func (r DropReason) String() string {
	if r < dropReasonCount {
		return dropReasonNames[r]
	}
	return "unknown"
}

// NumDropReasons is the number of defined reasons, for sizing counter arrays
// indexed by DropReason.
const NumDropReasons = int(dropReasonCount)
