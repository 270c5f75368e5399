package control

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
)

// Identifiers and secrets come from crypto/rand: conference ids and colibri-ws passwords end up
// in URLs that authenticate the bridge channel.

// randomHex returns 2·n lower-case hex digits. JVB's conference id is a hex long; 16 digits
// keep the same shape.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// webSocketPasswordLen matches JVB's ColibriWebSocketService (24 characters of [a-zA-Z0-9]).
const webSocketPasswordLen = 24

// randomAlnum returns n uniformly drawn alphanumerics (rejection sampling: 256 % 62 ≠ 0).
func randomAlnum(n int) string {
	const limit = 256 - 256%len(alnum)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alnum[int(c)%len(alnum)])
			}
		}
	}
	return string(out)
}

// randomSSRC returns a random non-zero SSRC (RFC 3550 §8.1: chosen randomly).
func randomSSRC() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if v := binary.BigEndian.Uint32(b[:]); v != 0 {
			return v
		}
	}
}
