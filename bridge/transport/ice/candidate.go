package ice

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
)

// Candidate types (RFC 8445 §5.1.1, as Jingle ICE-UDP names them).
const (
	TypeHost  = "host"
	TypeSrflx = "srflx"
	TypePrflx = "prflx"
	TypeRelay = "relay"
)

// Type preferences, RFC 8445 §5.1.2.2 recommended values.
const (
	typePrefHost  = 126
	typePrefPrflx = 110
	typePrefSrflx = 100
	typePrefRelay = 0
)

// ComponentRTP is the only component: JVB always uses rtcp-mux (RFC 5761), so RTP and RTCP share
// component 1.
const ComponentRTP = 1

// Candidate is one ICE candidate, local or remote. RelAddr/RelPort are set only for srflx,
// prflx and relay candidates.
type Candidate struct {
	Foundation string
	Component  int
	Priority   uint32
	Type       string
	Addr       netip.Addr
	Port       int
	RelAddr    netip.Addr
	RelPort    int
	ID         string
}

// Priority computes the RFC 8445 §5.1.2.1 candidate priority:
// 2^24·type-preference + 2^8·local-preference + (256 − component ID).
func Priority(typ string, localPref uint16, component int) uint32 {
	return uint32(typePreference(typ))<<24 | uint32(localPref)<<8 | uint32(256-component)
}

func typePreference(typ string) uint8 {
	switch typ {
	case TypeHost:
		return typePrefHost
	case TypePrflx:
		return typePrefPrflx
	case TypeSrflx:
		return typePrefSrflx
	default:
		return typePrefRelay
	}
}

// candidateID derives an opaque identifier (Jingle's candidate id attribute) from the
// candidate's identity, so the same harvest always yields the same ids.
func candidateID(c Candidate) string {
	h := sha256.New()
	h.Write([]byte(c.Type))
	h.Write(c.Addr.AsSlice())
	h.Write([]byte(strconv.Itoa(c.Port)))
	if c.RelAddr.IsValid() {
		h.Write(c.RelAddr.AsSlice())
		h.Write([]byte(strconv.Itoa(c.RelPort)))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
