package receiver

// DropReason says why ingress should not forward a packet. The zero value,
// DropNone, means keep it. Callers count drops by reason (ARCHITECTURE.md
// packet-path rule 5).
type DropReason uint8

// Drop reasons of this package.
const (
	DropNone           DropReason = iota // keep the packet
	DropDuplicate                        // (SSRC, seq) already received within the duplicate window
	DropTooOld                           // further behind the highest sequence number than the duplicate window
	DropPadding                          // RTX packet with no original payload (a bandwidth probe)
	DropUnknownRTXType                   // packet on an RTX SSRC whose payload type has no apt
	dropReasonCount
)

var dropReasonNames = [dropReasonCount]string{
	DropNone:           "none",
	DropDuplicate:      "duplicate",
	DropTooOld:         "too_old",
	DropPadding:        "padding",
	DropUnknownRTXType: "unknown_rtx_type",
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
