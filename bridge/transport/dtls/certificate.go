// Package dtls holds the bridge-wide DTLS certificate and the fingerprint checks that bind a
// DTLS peer to the fingerprint it signaled (RFC 8122, RFC 5763). It is a data-plane leaf: it
// imports no project package.
package dtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" // sha-1 fingerprints are still accepted from peers (RFC 8122 §5)
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
	"time"
)

// FingerprintHash is the hash function of the local fingerprint the bridge advertises
// (JVB: dtls local-fingerprint-hash-function = sha-256).
const FingerprintHash = "sha-256"

// Validity of the self-signed certificate, as JVB's DtlsUtils generates it: valid from one day
// ago (tolerates peers with a clock behind ours) to seven days ahead. JVB regenerates it every
// 24 h; the caller owns that schedule.
const (
	validBefore = 24 * time.Hour
	validAfter  = 7 * 24 * time.Hour
)

// commonName is the certificate subject. Browsers ignore it (WebRTC authenticates the
// certificate by fingerprint only), so it only has to be a valid, recognisable name.
const commonName = "videobridge"

// Sentinel errors.
var (
	ErrUnsupportedHash     = errors.New("dtls: unsupported fingerprint hash function")
	ErrFingerprintMismatch = errors.New("dtls: certificate does not match the signaled fingerprint")
)

// Certificate is the bridge-wide DTLS certificate with its advertised fingerprint.
type Certificate struct {
	TLS tls.Certificate
	// Fingerprint is the sha-256 fingerprint of TLS.Leaf as uppercase colon-separated hex
	// ("AB:CD:..."), the form Jingle's <fingerprint/> element carries.
	Fingerprint string
}

// NewCertificate generates a self-signed ECDSA P-256 certificate signed with SHA256withECDSA,
// valid from one day ago to seven days from now (media.md §6 "DTLS").
func NewCertificate() (*Certificate, error) {
	return newCertificate(time.Now())
}

func newCertificate(now time.Time) (*Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dtls: generate key: %w", err)
	}
	// RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; 128 random bits keep it unique.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("dtls: generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial.Add(serial, big.NewInt(1)),
		Subject:            pkix.Name{CommonName: commonName},
		NotBefore:          now.Add(-validBefore),
		NotAfter:           now.Add(validAfter),
		SignatureAlgorithm: x509.ECDSAWithSHA256,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("dtls: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("dtls: parse certificate: %w", err)
	}
	fp, err := Fingerprint(leaf, FingerprintHash)
	if err != nil {
		return nil, err
	}
	return &Certificate{
		TLS:         tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Fingerprint: fp,
	}, nil
}

// newHash returns the hash for a fingerprint hash-function name from the IANA "Hash Function
// Textual Names" registry (RFC 8122 §5), case-insensitively. JVB accepts sha-1 up to sha-512
// from peers.
func newHash(name string) (hash.Hash, bool) {
	switch strings.ToLower(name) {
	case "sha-1":
		return sha1.New(), true
	case "sha-256":
		return sha256.New(), true
	case "sha-384":
		return sha512.New384(), true
	case "sha-512":
		return sha512.New(), true
	}
	return nil, false
}

// Fingerprint returns the fingerprint of cert's DER encoding with the named hash function, as
// uppercase colon-separated hex.
func Fingerprint(cert *x509.Certificate, hashName string) (string, error) {
	h, ok := newHash(hashName)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedHash, hashName)
	}
	h.Write(cert.Raw)
	return formatFingerprint(h.Sum(nil)), nil
}

func formatFingerprint(sum []byte) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(sum) * 3)
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

// VerifyFingerprint checks that cert (the peer's DTLS certificate) matches the fingerprint fp
// the peer signaled with hash function hashName (RFC 5763 §5: the certificate must match a
// signaled fingerprint or the handshake fails). Hex case is ignored; the colon separators are
// required, as in RFC 8122's fingerprint syntax.
func VerifyFingerprint(cert *x509.Certificate, hashName, fp string) error {
	h, ok := newHash(hashName)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnsupportedHash, hashName)
	}
	want, err := parseFingerprint(fp, h.Size())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFingerprintMismatch, err)
	}
	h.Write(cert.Raw)
	if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return fmt.Errorf("%w (%s)", ErrFingerprintMismatch, strings.ToLower(hashName))
	}
	return nil
}

// parseFingerprint decodes "AB:CD:..." into size bytes.
func parseFingerprint(fp string, size int) ([]byte, error) {
	fp = strings.TrimSpace(fp)
	if len(fp) != size*3-1 {
		return nil, fmt.Errorf("fingerprint has %d characters, want %d", len(fp), size*3-1)
	}
	out := make([]byte, size)
	for i := range size {
		if i > 0 && fp[i*3-1] != ':' {
			return nil, errors.New("fingerprint octets must be separated by ':'")
		}
		if _, err := hex.Decode(out[i:i+1], []byte(fp[i*3:i*3+2])); err != nil {
			return nil, fmt.Errorf("fingerprint: %w", err)
		}
	}
	return out, nil
}
