package ice

import "net/netip"

var (
	siteLocal6 = netip.MustParsePrefix("fec0::/10")
	unknownIP4 = netip.IPv4Unspecified()
)

// maskedRelPort is the placeholder port JVB signals with rel-addr 0.0.0.0 when the real related
// address must not be revealed (the "discard" port, as in RFC 8839's c=IN IP4 0.0.0.0 / 9).
const maskedRelPort = 9

// IsPrivate reports whether a is a private address in JVB's sense (IceTransport
// isPrivateAddress): RFC 1918 IPv4, IPv6 unique-local fc00::/7 and deprecated site-local
// fec0::/10.
func IsPrivate(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsPrivate() || siteLocal6.Contains(a)
}

// Advertised returns the candidates to signal to one endpoint.
//
// advertisePrivate is videobridge.ice.advertise-private-candidates; endpointPrivate is the
// endpoint's private-address-connectivity capability. Following JVB: when advertisePrivate is
// false, candidates on private addresses are withheld unless endpointPrivate, and a private
// related address is replaced by 0.0.0.0:9 for every endpoint. With nothing to change the input
// slice itself is returned, so the common case costs no allocation; callers must treat
// candidate slices as immutable.
func Advertised(cands []Candidate, advertisePrivate, endpointPrivate bool) []Candidate {
	if advertisePrivate {
		return cands
	}
	changed := false
	for _, c := range cands {
		if (IsPrivate(c.Addr) && !endpointPrivate) || (c.RelAddr.IsValid() && IsPrivate(c.RelAddr)) {
			changed = true
			break
		}
	}
	if !changed {
		return cands
	}
	out := make([]Candidate, 0, len(cands))
	for _, c := range cands {
		if IsPrivate(c.Addr) && !endpointPrivate {
			continue
		}
		if c.RelAddr.IsValid() && IsPrivate(c.RelAddr) {
			c.RelAddr, c.RelPort = unknownIP4, maskedRelPort
		}
		out = append(out, c)
	}
	return out
}
