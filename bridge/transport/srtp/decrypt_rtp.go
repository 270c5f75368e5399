package srtp

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors of inbound decryption, returned bare so that ReasonOf classifies them with
// errors.Is and a flood of forged packets costs no allocation.
var (
	// errAuthFailed: the authentication tag does not verify (RFC 3711 §3.3 step 5, RFC 7714
	// §8.2 / §9.2): wrong key, forged or corrupted packet.
	errAuthFailed = errors.New("srtp: authentication failed")
	// errTooShort: the packet cannot hold the header plus the SRTP/SRTCP trailer.
	errTooShort = errors.New("srtp: packet too short for the SRTP overhead")
	// errCryptex: the header extension is an RFC 9335 (cryptex) one, whose CSRCs and elements
	// are encrypted; the bridge does not negotiate cryptex, so it rejects them like pion does.
	errCryptex = fmt.Errorf("%w: cryptex header extension not negotiated", errMalformedRTP)
)

// Header extension profiles of cryptex (RFC 9335 §5.1).
const (
	extProfileCryptexOneByte = 0xC0DE
	extProfileCryptexTwoByte = 0xC2DE
)

// decryptSRTP verifies and decrypts the SRTP packet src into dst with the session transform e
// (SRTP keys) and the receive state seen, with DecryptRTP's buffer contract: the result is
// dst[:len(src)-tag] when cap(dst) allows, else a new slice; dst may be src[:0] (in place) but
// must not overlap src otherwise. RTP padding is part of the encrypted payload and is left to
// the caller (RFC 3711 §3.1).
//
// Order (RFC 3711 §3.3): index estimate from the SSRC's state, replay check (cheap, before any
// crypto, as pion and libsrtp), authentication, decryption; the state — ROC, s_l and the
// window — changes only after the tag verifies, so a forged packet with a far-ahead sequence
// number cannot push the genuine stream out of the window.
func decryptSRTP(e *rtpEncrypter, seen *replayTable, dst, src []byte) ([]byte, error) {
	h, err := rtpHeaderLen(src)
	if err != nil {
		return nil, err
	}
	if src[0]&0x10 != 0 {
		if p := binary.BigEndian.Uint16(src[12+4*int(src[0]&0x0f):]); p == extProfileCryptexOneByte || p == extProfileCryptexTwoByte {
			return nil, errCryptex
		}
	}
	tagLen := hmacTagLen
	if e.aead != nil {
		tagLen = gcmTagLen
	}
	if len(src)-tagLen < h {
		return nil, errTooShort
	}
	ssrc := binary.BigEndian.Uint32(src[8:])
	seq := binary.BigEndian.Uint16(src[2:])
	st, slot, err := seen.lookup(ssrc)
	if err != nil {
		return nil, err
	}
	index, ok := receiveIndex(st.head, seq)
	if !ok || st.replayed(index) {
		return nil, errReplayed
	}
	roc := uint32(index >> 16)
	e.setIV(ssrc, roc, seq)
	var out []byte
	if e.aead != nil {
		out, err = e.openGCM(dst, src, h)
	} else {
		out, err = e.openCM(dst, src, h, roc)
	}
	if err != nil {
		return nil, err
	}
	seen.commit(ssrc, st, slot, index)
	return out, nil
}

// receiveIndex returns the packet index ROC<<16 | SEQ the receiver estimates for seq, given
// head = ROC<<16 | s_l, the highest index authenticated on the SSRC: RFC 3711 §3.3.1 (v is
// ROC-1, ROC or ROC+1, whichever puts SEQ nearest s_l), with the rule pion and libsrtp share
// that while head ≤ 2^15 no packet is taken as from before a wrap (there is no ROC -1). It is
// the sender's estimate (sendIndex): both sides of pion and libsrtp use the same one. ok is
// false when the ROC would pass 2^32-1 (RFC 3711 §9.2: the key is exhausted).
func receiveIndex(head uint64, seq uint16) (uint64, bool) {
	roc, _, ok := sendIndex(head, seq)
	return uint64(roc)<<16 | uint64(seq), ok
}

// openGCM authenticates and decrypts the payload of an AEAD_AES_128_GCM packet in one Open: the
// header is the AAD, the 16-byte tag ends the packet (RFC 7714 §8.2). e.iv is set.
func (e *rtpEncrypter) openGCM(dst, src []byte, h int) ([]byte, error) {
	out := resize(dst, len(src)-gcmTagLen)
	// In place, out[h:h] starts where the ciphertext does: the exact overlap GCM allows.
	if _, err := e.aead.Open(out[h:h], e.iv[:12], src[h:], src[:h]); err != nil {
		return nil, errAuthFailed
	}
	if &out[0] != &src[0] {
		copy(out[:h], src[:h])
	}
	return out, nil
}

// openCM verifies the HMAC-SHA1-80 tag over header, encrypted payload and ROC (RFC 3711 §4.2,
// M = Authenticated Portion || ROC) in constant time, then XORs the payload with the AES-CM
// keystream (§4.1.1). e.iv is set.
func (e *rtpEncrypter) openCM(dst, src []byte, h int, roc uint32) ([]byte, error) {
	n := len(src) - hmacTagLen
	e.mac.Reset()
	e.mac.Write(src[:n])
	binary.BigEndian.PutUint32(e.rocBytes[:], roc)
	e.mac.Write(e.rocBytes[:])
	if !hmac.Equal(e.mac.Sum(e.sum[:0])[:hmacTagLen], src[n:]) {
		return nil, errAuthFailed
	}
	out := resize(dst, n)
	if &out[0] != &src[0] {
		copy(out[:h], src[:h])
	}
	e.xorKeystream(out[h:n], src[h:n])
	return out, nil
}
