package srtp

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
)

// errMalformedRTCP: not an RTCP packet (shorter than the 4-byte common header, or not version
// 2, RFC 3550 §6.4.1): what pion/rtcp's header parse rejects before SRTCP processing.
var errMalformedRTCP = errors.New("srtp: malformed RTCP header")

const (
	rtcpHeaderLen = 8 // the part of the first packet SRTCP leaves in the clear: header and SSRC
	srtcpIndexLen = 4 // E flag and 31-bit SRTCP index (RFC 3711 §3.4)
	srtcpE        = 1 << 31
)

// srtcpDecrypter is the inbound SRTCP side of a context: its own session keys (labels 3–5,
// RFC 3711 §4.3.2), per-SSRC replay state over the SRTCP index, and scratch space for GCM's
// AAD, so that nothing is allocated per packet. The zero value is disabled (pion decrypts).
type srtcpDecrypter struct {
	tf   rtpEncrypter
	seen replayTable
	aad  [rtcpHeaderLen + srtcpIndexLen]byte // GCM, E=1: header || E||index (RFC 7714 §9.2)
	tag  [gcmTagLen]byte                     // GCM, E=0: the tag, moved out of the AAD's way
}

// enabled reports whether the decrypter handles the context's SRTCP (else pion does).
func (d *srtcpDecrypter) enabled() bool { return d.tf.enabled() }

// decrypt verifies and decrypts the SRTCP compound packet src into dst with DecryptRTCP's
// buffer contract (result dst[:len(src)-overhead]; dst may be src[:0]). The SRTCP index is
// explicit in the packet (RFC 3711 §3.4), so there is no estimate; the replay check comes
// before the crypto and the state changes only after authentication, as for SRTP.
func (d *srtcpDecrypter) decrypt(dst, src []byte) ([]byte, error) {
	if len(src) < 4 || src[0]>>6 != 2 {
		return nil, errMalformedRTCP
	}
	e := &d.tf
	gcm := e.aead != nil
	tagLen := hmacTagLen
	if gcm {
		tagLen = gcmTagLen
	}
	n := len(src) - tagLen - srtcpIndexLen // the plain compound packet's length
	if n < rtcpHeaderLen {
		return nil, errTooShort
	}
	// AES-CM: E||index precedes the tag (RFC 3711 §3.4); GCM: it follows the tag
	// (RFC 7714 §9.2), because it is AAD there rather than part of the ciphertext.
	at := n
	if gcm {
		at = len(src) - srtcpIndexLen
	}
	word := binary.BigEndian.Uint32(src[at:])
	index := word &^ srtcpE
	ssrc := binary.BigEndian.Uint32(src[4:])
	st, slot, err := d.seen.lookup(ssrc)
	if err != nil {
		return nil, err
	}
	if st.replayed(uint64(index)) {
		return nil, errReplayed
	}
	// Both IVs put the index where SRTP has ROC||SEQ: AES-CM's i (RFC 3711 §4.1.1) and
	// GCM's 0x0000 || SSRC || 0x0000 || 0 || index (RFC 7714 §9.1).
	e.setIV(ssrc, index>>16, uint16(index))
	var out []byte
	switch {
	case !gcm:
		out, err = d.openCM(dst, src, n, word&srtcpE != 0)
	case word&srtcpE != 0:
		out, err = d.openGCM(dst, src, n)
	default:
		out, err = d.openGCMAuthOnly(dst, src, n)
	}
	if err != nil {
		return nil, err
	}
	d.seen.commit(ssrc, st, slot, uint64(index))
	return out, nil
}

// openGCM: the first 8 bytes and E||index are the AAD, the rest up to the index is ciphertext
// and tag (RFC 7714 §9.2).
func (d *srtcpDecrypter) openGCM(dst, src []byte, n int) ([]byte, error) {
	e := &d.tf
	copy(d.aad[:rtcpHeaderLen], src)
	copy(d.aad[rtcpHeaderLen:], src[len(src)-srtcpIndexLen:])
	out := resize(dst, n)
	if _, err := e.aead.Open(out[rtcpHeaderLen:rtcpHeaderLen], e.iv[:12],
		src[rtcpHeaderLen:len(src)-srtcpIndexLen], d.aad[:]); err != nil {
		return nil, errAuthFailed
	}
	if &out[0] != &src[0] {
		copy(out[:rtcpHeaderLen], src)
	}
	return out, nil
}

// openGCMAuthOnly: E=0, the packet is not encrypted and the AAD is the whole packet followed
// by E||index, with only the tag as "ciphertext" (RFC 7714 §9.3). GCM needs the AAD in one
// piece, so the index is moved next to the packet: over the saved tag in place, or in dst,
// which then needs 4 bytes of room beyond the result (a new slice otherwise). WebRTC never
// sends unencrypted SRTCP; this is for completeness with pion.
func (d *srtcpDecrypter) openGCMAuthOnly(dst, src []byte, n int) ([]byte, error) {
	e := &d.tf
	copy(d.tag[:], src[n:])
	out := resize(dst, n+srtcpIndexLen)
	if &out[0] != &src[0] {
		copy(out[:n], src)
	}
	copy(out[n:], src[len(src)-srtcpIndexLen:])
	if _, err := e.aead.Open(d.tag[:0], e.iv[:12], d.tag[:], out); err != nil {
		return nil, errAuthFailed
	}
	return out[:n], nil
}

// openCM verifies the HMAC-SHA1-80 tag over the packet up to and including E||index (RFC 3711
// §3.4, §4.2: no ROC for SRTCP) in constant time, then decrypts the part after the first 8
// bytes when E is set.
func (d *srtcpDecrypter) openCM(dst, src []byte, n int, encrypted bool) ([]byte, error) {
	e := &d.tf
	m := len(src) - hmacTagLen
	e.mac.Reset()
	e.mac.Write(src[:m])
	if !hmac.Equal(e.mac.Sum(e.sum[:0])[:hmacTagLen], src[m:]) {
		return nil, errAuthFailed
	}
	out := resize(dst, n)
	same := &out[0] == &src[0]
	if !same {
		copy(out[:rtcpHeaderLen], src)
	}
	if encrypted {
		e.xorKeystream(out[rtcpHeaderLen:n], src[rtcpHeaderLen:n])
	} else if !same {
		copy(out[rtcpHeaderLen:n], src[rtcpHeaderLen:n])
	}
	return out, nil
}
