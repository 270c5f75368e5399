package dtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewCertificateFields(t *testing.T) {
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	c, err := newCertificate(now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.TLS.Leaf
	type fields struct {
		SigAlg    x509.SignatureAlgorithm
		PubAlg    x509.PublicKeyAlgorithm
		Curve     string
		NotBefore time.Time
		NotAfter  time.Time
		CN        string
		SelfSig   bool
		Chain     int
	}
	pub, _ := leaf.PublicKey.(*ecdsa.PublicKey)
	curve := ""
	if pub != nil {
		curve = pub.Curve.Params().Name
	}
	got := fields{
		SigAlg: leaf.SignatureAlgorithm, PubAlg: leaf.PublicKeyAlgorithm, Curve: curve,
		NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(), CN: leaf.Subject.CommonName,
		SelfSig: leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil, Chain: len(c.TLS.Certificate),
	}
	want := fields{
		SigAlg: x509.ECDSAWithSHA256, PubAlg: x509.ECDSA, Curve: elliptic.P256().Params().Name,
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), CN: commonName,
		SelfSig: true, Chain: 1,
	}
	if got != want {
		t.Fatalf("certificate fields\n got %+v\nwant %+v", got, want)
	}
	key, ok := c.TLS.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(pub) {
		t.Fatal("private key does not match the certificate")
	}
	fp, err := Fingerprint(leaf, "sha-256")
	if err != nil || fp != c.Fingerprint {
		t.Fatalf("Fingerprint = %q, %v; want %q", fp, err, c.Fingerprint)
	}
	// 32 octets, uppercase hex, colon separated.
	if len(c.Fingerprint) != 32*3-1 || strings.ToUpper(c.Fingerprint) != c.Fingerprint ||
		strings.Count(c.Fingerprint, ":") != 31 {
		t.Fatalf("fingerprint format: %q", c.Fingerprint)
	}
}

func TestNewCertificateIsRandom(t *testing.T) {
	a, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint == b.Fingerprint || a.TLS.Leaf.SerialNumber.Cmp(b.TLS.Leaf.SerialNumber) == 0 {
		t.Fatal("two certificates share a fingerprint or serial")
	}
	if d := time.Until(a.TLS.Leaf.NotAfter); d < 6*24*time.Hour || d > 7*24*time.Hour {
		t.Fatalf("NotAfter %v is not ~7 days ahead", a.TLS.Leaf.NotAfter)
	}
}

func TestVerifyFingerprint(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.TLS.Leaf
	fps := map[string]string{}
	for _, h := range []string{"sha-1", "sha-256", "sha-384", "sha-512"} {
		fp, err := Fingerprint(leaf, h)
		if err != nil {
			t.Fatal(err)
		}
		fps[h] = fp
	}
	otherFP, _ := Fingerprint(other.TLS.Leaf, "sha-256")
	lowerNoColon := strings.ReplaceAll(strings.ToLower(fps["sha-256"]), ":", "")
	tests := []struct {
		name, hash, fp string
		want           error
	}{
		{"sha-1", "sha-1", fps["sha-1"], nil},
		{"sha-256", "sha-256", fps["sha-256"], nil},
		{"sha-384", "sha-384", fps["sha-384"], nil},
		{"sha-512", "sha-512", fps["sha-512"], nil},
		{"hash name case-insensitive", "SHA-256", fps["sha-256"], nil},
		{"hex case-insensitive", "sha-256", strings.ToLower(fps["sha-256"]), nil},
		{"surrounding whitespace", "sha-256", "  " + fps["sha-256"] + "\n", nil},
		{"other certificate", "sha-256", otherFP, ErrFingerprintMismatch},
		{"wrong hash for value", "sha-384", fps["sha-256"], ErrFingerprintMismatch},
		{"no colons", "sha-256", lowerNoColon, ErrFingerprintMismatch},
		{"bad hex", "sha-256", strings.Replace(fps["sha-256"], fps["sha-256"][:2], "ZZ", 1), ErrFingerprintMismatch},
		{"empty", "sha-256", "", ErrFingerprintMismatch},
		{"md5 unsupported", "md5", fps["sha-256"], ErrUnsupportedHash},
		{"sha-224 unsupported", "sha-224", fps["sha-256"], ErrUnsupportedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyFingerprint(leaf, tt.hash, tt.fp)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifyFingerprint = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzVerifyFingerprint feeds signaled fingerprints (a trust boundary: they come from the
// remote description) to the parser; it must never panic and must accept only the real one.
func FuzzVerifyFingerprint(f *testing.F) {
	c, err := NewCertificate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("sha-256", c.Fingerprint)
	f.Add("sha-1", "AB:CD")
	f.Add("SHA-512", strings.Repeat("00:", 63)+"00")
	f.Add("sha-256", strings.Repeat("G", 95))
	f.Fuzz(func(t *testing.T, hashName, fp string) {
		err := VerifyFingerprint(c.TLS.Leaf, hashName, fp)
		if err == nil {
			want, ferr := Fingerprint(c.TLS.Leaf, hashName)
			if ferr != nil || !strings.EqualFold(strings.TrimSpace(fp), want) {
				t.Fatalf("accepted %q/%q, real %q", hashName, fp, want)
			}
		}
	})
}
