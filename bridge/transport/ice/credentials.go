// Package ice holds the bridge's ICE primitives that do not need a running agent: local
// credentials, the candidates the bridge advertises on its single UDP port (host candidates
// plus static NAT mappings, as ice4j's harvesters produce them for JVB) and the per-endpoint
// filter for private addresses. It is a data-plane leaf: it imports no project package.
package ice

import (
	"crypto/rand"
	"strings"
)

// Credential lengths. RFC 8445 §5.3 requires a ufrag of at least 4 ice-chars and a password of
// at least 22 (128 bits); these match the lengths ice4j produces for JVB (14 and 25), and 25
// characters from a 36-symbol alphabet carry 129 bits.
const (
	UfragRandomLen = 14
	PwdLen         = 25
)

// credAlphabet is a subset of RFC 8445's ice-char (ALPHA / DIGIT / "+" / "/"). Lower-case
// alphanumerics, as ice4j generates, are safe in every place a ufrag ends up (STUN USERNAME,
// SDP, logs, URLs).
const credAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Credentials are the local ICE username fragment and password of one agent.
type Credentials struct {
	Ufrag string
	Pwd   string
}

// NewCredentials returns fresh random credentials; prefix (videobridge.ice.ufrag-prefix) is
// prepended to the ufrag unchanged. The ufrag also demultiplexes the single UDP port, so it must
// be unpredictable and unique: both come from crypto/rand.
func NewCredentials(prefix string) Credentials {
	return Credentials{Ufrag: prefix + randomString(UfragRandomLen), Pwd: randomString(PwdLen)}
}

// randomString returns n symbols of credAlphabet drawn uniformly from crypto/rand (rejection
// sampling avoids the modulo bias of 256 % 36).
func randomString(n int) string {
	const limit = 256 - 256%len(credAlphabet)
	var b strings.Builder
	b.Grow(n)
	buf := make([]byte, n+n/2)
	for b.Len() < n {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+ panics internally instead).
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && b.Len() < n {
				b.WriteByte(credAlphabet[int(c)%len(credAlphabet)])
			}
		}
	}
	return b.String()
}
