package control

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// validBareJID reports whether s is an entity bare JID, localpart@domainpart (RFC 7622), which
// is what JVB requires of the conference name (JidCreate.entityBareFrom). It checks structure
// and the characters RFC 7622 §3.3.1 forbids in a localpart; it does not run PRECIS.
func validBareJID(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || !validPart(local, `"&'/:<>@`) || !validPart(domain, "@/") {
		return false
	}
	// A domainpart is a DNS name or IP literal; empty labels are not allowed (a single
	// trailing dot is, RFC 7622 §3.2).
	labels := strings.Split(strings.TrimSuffix(domain, "."), ".")
	for _, l := range labels {
		if l == "" {
			return false
		}
	}
	return true
}

func validPart(p, forbidden string) bool {
	if p == "" || len(p) > 1023 || !utf8.ValidString(p) || strings.ContainsAny(p, forbidden) {
		return false
	}
	for _, r := range p {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
