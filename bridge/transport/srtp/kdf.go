package srtp

import (
	"crypto/aes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Key derivation labels (RFC 3711 §4.3.2): SRTP 0/1/2, SRTCP 3/4/5. RFC 7714 §11 uses the
// same labels for GCM (the auth labels are unused: the tag is GCM's own).
const (
	labelRTPCipher  = 0x00
	labelRTPAuth    = 0x01
	labelRTPSalt    = 0x02
	labelRTCPCipher = 0x03
	labelRTCPAuth   = 0x04
	labelRTCPSalt   = 0x05
)

// sessionLabels are the labels of one direction's three session keys.
type sessionLabels struct{ cipher, auth, salt byte }

// The SRTP and SRTCP key sets: each has its own session keys (RFC 3711 §4.3.2).
var (
	srtpLabels  = sessionLabels{labelRTPCipher, labelRTPAuth, labelRTPSalt}
	srtcpLabels = sessionLabels{labelRTCPCipher, labelRTCPAuth, labelRTCPSalt}
)

// errMasterKeyLength: the master key or salt does not fit the AES-CM PRF.
var errMasterKeyLength = errors.New("srtp: master key must be 16 bytes and master salt at most 14")

// deriveSessionKey fills out with the session key for label using the AES-CM PRF of RFC 3711
// §4.3.1/§4.3.3 with key derivation rate 0 (DTLS-SRTP never rekeys inside a session,
// RFC 5764 §4.1.2): x = (label << 48) XOR master salt, and out is the AES-CTR keystream of the
// master key from the counter block x·2^16. RFC 7714 §11 reuses the same PRF for GCM with its
// 96-bit master salt, which (as in libsrtp and pion) sits left-aligned in the 112-bit field with
// the low 16 bits zero.
func deriveSessionKey(out, masterKey, masterSalt []byte, label byte) error {
	if len(masterKey) != 16 || len(masterSalt) > 14 {
		return fmt.Errorf("%w: key %d, salt %d bytes", errMasterKeyLength, len(masterKey), len(masterSalt))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return fmt.Errorf("srtp: key derivation: %w", err)
	}
	var ctr, ks [aes.BlockSize]byte
	copy(ctr[:14], masterSalt)
	// The label is byte 7 of the 14-byte x: 56 bits (label || 48-bit index DIV kdr = 0) from the right.
	ctr[7] ^= label
	for i, n := 0, 0; n < len(out); i++ {
		binary.BigEndian.PutUint16(ctr[14:], uint16(i))
		block.Encrypt(ks[:], ctr[:])
		n += copy(out[n:], ks[:])
	}
	return nil
}
