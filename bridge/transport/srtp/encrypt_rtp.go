package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what AES128_CM_HMAC_SHA1_80 mandates (RFC 3711 §4.2.1)
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
)

// Tag lengths of the RTP transforms: GCM's 16-byte tag (RFC 7714 §7), HMAC-SHA1 truncated to
// 80 bits (RFC 3711 §5.2).
const (
	gcmTagLen  = 16
	hmacTagLen = 10
)

// keystreamLen is the AES-CM keystream chunk generated per XOR pass (a multiple of the block).
const keystreamLen = 512

// rtpEncrypter protects outbound RTP itself for the two profiles the bridge negotiates, instead
// of pion's EncryptRTP: it reads SSRC and sequence number straight from the packet instead of
// unmarshalling a header, keeps the per-SSRC rollover state in a few inline slots instead of a
// map of pointers, and allocates nothing per packet. Outbound RTCP stays with pion.
// It is also the session transform (keys, IV, cipher objects) of inbound SRTP and SRTCP
// (decrypt_rtp.go, decrypt_rtcp.go), whose AES-CM IV has the same layout (RFC 3711 §4.1.1:
// the SRTCP index takes the place of ROC||SEQ) and whose GCM IV differs only in bits that are
// zero (RFC 7714 §9.1); rocs is unused there.
// The zero value is disabled (profile 0). Not safe for concurrent use.
type rtpEncrypter struct {
	// The fields a GCM packet touches come first and fill one cache line with the table's
	// head, followed by the first hot SSRC slots: the state of a receiver's context is cold
	// when its turn comes (one packet forwarded to many receivers).
	profile Profile
	// The session salt XORed with SSRC, ROC and SEQ gives the IV. iv holds the constant salt
	// bytes before the SSRC; ivOff is where the SSRC goes: 2 for GCM's 12-byte IV
	// (0x0000 || SSRC || ROC || SEQ, RFC 7714 §8.1), 4 for AES-CM's counter block (SSRC·2^64,
	// index·2^16, then the 16-bit block counter, RFC 3711 §4.1.1).
	saltSeq           uint16
	ivOff             uint32
	saltSSRC, saltROC uint32
	iv                [aes.BlockSize]byte
	aead              cipher.AEAD // GCM; nil for AES-CM
	// cipherObj/cipherSize and macObj/macSize locate the cipher's state (key schedule, GHASH
	// table; AES-CM: the block cipher and the HMAC object, not the SHA-1 states it points
	// to) for PrefetchEncrypt; set once at construction.
	cipherObj, macObj   unsafe.Pointer
	cipherSize, macSize uintptr
	rocs                rocTable

	block     cipher.Block
	mac       hash.Hash // AES-CM: HMAC-SHA1 keyed once, Reset per packet
	rocBytes  [4]byte
	sum       [sha1.Size]byte
	keystream [keystreamLen]byte
}

// newRTPEncrypter derives the SRTP session keys from the master key and salt (RFC 3711 §4.3)
// and prepares the transform; for any other profile it returns a disabled encrypter.
func newRTPEncrypter(p Profile, masterKey, masterSalt []byte) (*rtpEncrypter, error) {
	return newSessionTransform(p, masterKey, masterSalt, srtpLabels)
}

// newSessionTransform derives the session keys of one key set (labels: SRTP or SRTCP) and
// prepares the transform; for any other profile than the two of ours it returns a disabled one.
func newSessionTransform(p Profile, masterKey, masterSalt []byte, labels sessionLabels) (*rtpEncrypter, error) {
	var saltLen int
	switch p {
	case ProfileAEADAES128GCM:
		saltLen = 12 // RFC 7714 §12: 96-bit master and session salt
	case ProfileAES128CMHMACSHA1_80:
		saltLen = 14 // RFC 3711 §8.2: 112-bit
	default:
		return &rtpEncrypter{}, nil
	}
	if len(masterSalt) != saltLen {
		return nil, fmt.Errorf("%w: salt %d bytes for %s", errMasterKeyLength, len(masterSalt), p)
	}
	var key [16]byte
	var salt [14]byte
	var auth []byte
	err := deriveSessionKey(key[:], masterKey, masterSalt, labels.cipher)
	if err == nil {
		err = deriveSessionKey(salt[:saltLen], masterKey, masterSalt, labels.salt)
	}
	if err == nil && p == ProfileAES128CMHMACSHA1_80 {
		auth = make([]byte, sha1.Size) // 160-bit session auth key (RFC 3711 §8.2)
		err = deriveSessionKey(auth, masterKey, masterSalt, labels.auth)
	}
	if err != nil {
		return nil, err
	}
	return newSessionEncrypter(p, key[:], salt[:saltLen], auth)
}

// newSessionEncrypter builds the encrypter from session keys (what the RFC test vectors give).
func newSessionEncrypter(p Profile, key, salt, authKey []byte) (*rtpEncrypter, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("srtp: session key: %w", err)
	}
	e := &rtpEncrypter{profile: p, block: block}
	switch p {
	case ProfileAEADAES128GCM:
		if e.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("srtp: GCM: %w", err)
		}
		e.ivOff = 2
	case ProfileAES128CMHMACSHA1_80:
		e.mac = hmac.New(sha1.New, authKey)
		// Go's HMAC saves its keyed inner and outer states on the first Reset, allocating:
		// do that now rather than on a session's first packet.
		e.mac.Reset()
		e.ivOff = 4
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedProfile, p)
	}
	if e.aead != nil {
		e.cipherObj, e.cipherSize = prefetch.Target(e.aead)
	} else {
		e.cipherObj, e.cipherSize = prefetch.Target(e.block)
		e.macObj, e.macSize = prefetch.Target(e.mac)
	}
	o := int(e.ivOff)
	if len(salt) != o+10 {
		return nil, fmt.Errorf("%w: session salt %d bytes", errMasterKeyLength, len(salt))
	}
	copy(e.iv[:o], salt)
	e.saltSSRC = binary.BigEndian.Uint32(salt[o:])
	e.saltROC = binary.BigEndian.Uint32(salt[o+4:])
	e.saltSeq = binary.BigEndian.Uint16(salt[o+8:])
	return e, nil
}

// enabled reports whether the encrypter handles the context's RTP (else pion does).
func (e *rtpEncrypter) enabled() bool { return e.profile != 0 }

// encrypt protects the RTP packet pkt into dst, with pion's buffer contract: the result is
// dst[:len(pkt)+tag] when cap(dst) allows, else a new slice; dst may be pkt[:0] (in place) but
// must not overlap pkt otherwise.
func (e *rtpEncrypter) encrypt(dst, pkt []byte) ([]byte, error) {
	h, err := rtpHeaderLen(pkt)
	if err != nil {
		return nil, err
	}
	ssrc := binary.BigEndian.Uint32(pkt[8:])
	seq := binary.BigEndian.Uint16(pkt[2:])
	roc, err := e.rocs.next(ssrc, seq)
	if err != nil {
		return nil, fmt.Errorf("%w: SSRC %d", err, ssrc)
	}
	e.setIV(ssrc, roc, seq)
	if e.aead != nil {
		return e.sealGCM(dst, pkt, h), nil
	}
	return e.sealCM(dst, pkt, h, roc), nil
}

// setIV XORs SSRC, ROC and SEQ into the salt (RFC 7714 §8.1, RFC 3711 §4.1.1).
func (e *rtpEncrypter) setIV(ssrc, roc uint32, seq uint16) {
	o := e.ivOff
	binary.BigEndian.PutUint32(e.iv[o:], e.saltSSRC^ssrc)
	binary.BigEndian.PutUint32(e.iv[o+4:], e.saltROC^roc)
	binary.BigEndian.PutUint16(e.iv[o+8:], e.saltSeq^seq)
}

// sealGCM: header in the clear as AAD, payload encrypted, 16-byte tag appended (RFC 7714 §8.2).
func (e *rtpEncrypter) sealGCM(dst, pkt []byte, h int) []byte {
	out := resize(dst, len(pkt)+gcmTagLen)
	if &out[0] != &pkt[0] {
		copy(out[:h], pkt[:h])
	}
	e.aead.Seal(out[h:h], e.iv[:12], pkt[h:], out[:h])
	return out
}

// sealCM: payload XORed with the AES-CM keystream, then HMAC-SHA1 over header, encrypted
// payload and ROC, truncated to 80 bits (RFC 3711 §3.1, §4.1.1, §4.2).
func (e *rtpEncrypter) sealCM(dst, pkt []byte, h int, roc uint32) []byte {
	n := len(pkt)
	out := resize(dst, n+hmacTagLen)
	if &out[0] != &pkt[0] {
		copy(out[:h], pkt[:h])
	}
	e.xorKeystream(out[h:n], pkt[h:])
	e.mac.Reset()
	e.mac.Write(out[:n])
	binary.BigEndian.PutUint32(e.rocBytes[:], roc)
	e.mac.Write(e.rocBytes[:])
	copy(out[n:], e.mac.Sum(e.sum[:0])[:hmacTagLen])
	return out
}

// xorKeystream XORs src with the AES-CM keystream E(IV), E(IV+1), ... into dst. The IV leaves
// its low 16 bits zero for the block count; counting in the low 32 bits also carries into the
// SEQ bits for payloads of 2^16 blocks (1 MiB) and more, as the full 128-bit addition would.
func (e *rtpEncrypter) xorKeystream(dst, src []byte) {
	ctr := uint32(binary.BigEndian.Uint16(e.iv[12:])) << 16
	for len(src) > 0 {
		m := min(len(src), len(e.keystream))
		for off := 0; off < m; off += aes.BlockSize {
			binary.BigEndian.PutUint32(e.iv[12:], ctr)
			e.block.Encrypt(e.keystream[off:off+aes.BlockSize], e.iv[:])
			ctr++
		}
		subtle.XORBytes(dst, src[:m], e.keystream[:m])
		dst, src = dst[m:], src[m:]
	}
}

// resize returns buf[:n] if it has the capacity, else a new slice (pion's growBufferSize).
func resize(buf []byte, n int) []byte {
	if n <= cap(buf) {
		return buf[:n]
	}
	return make([]byte, n)
}
