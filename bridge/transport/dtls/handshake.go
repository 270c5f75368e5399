package dtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

	piondtls "github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
	"github.com/pion/logging"
)

// Role is the bridge's DTLS role for one endpoint (RFC 5763 §5, RFC 4145 setup attribute).
type Role uint8

// Roles. The remote setup=active makes the bridge the server, passive makes it the client
// (pitfall 14); browsers answering Jicofo's actpass offer pick active.
const (
	RoleUnknown Role = iota
	RoleServer
	RoleClient
)

func (r Role) String() string {
	switch r {
	case RoleServer:
		return "server"
	case RoleClient:
		return "client"
	}
	return "unknown"
}

// SRTP protection profile IDs offered in use_srtp, in the bridge's order of preference
// (media.md §6 "SRTP"): AEAD_AES_128_GCM first, AES128_CM_HMAC_SHA1_80 for compatibility.
// As DTLS server the bridge picks the first of these that the client offered.
var srtpProfiles = []piondtls.SRTPProtectionProfile{
	piondtls.SRTP_AEAD_AES_128_GCM,
	piondtls.SRTP_AES128_CM_HMAC_SHA1_80,
}

// ErrNoRemoteFingerprint means the peer signaled no fingerprint with a supported hash, so its
// certificate cannot be authenticated (RFC 5763 §5: the handshake must then fail).
var ErrNoRemoteFingerprint = errors.New("dtls: no usable remote fingerprint")

// ErrNoSRTPProfile means the handshake completed without a use_srtp agreement.
var ErrNoSRTPProfile = errors.New("dtls: no SRTP protection profile negotiated")

// HandshakeConfig describes one endpoint's DTLS session.
type HandshakeConfig struct {
	Certificate *Certificate
	Role        Role
	// RemoteFingerprints maps a hash function name to the fingerprints the peer signaled.
	RemoteFingerprints map[string][]string
	// LoggerFactory receives pion's logs (nil: pion's default, errors to stderr).
	LoggerFactory logging.LoggerFactory
}

// VerifyAnyFingerprint accepts cert when it matches any signaled fingerprint (a peer may
// signal several, e.g. during certificate rotation). Hash names are tried in sorted order so
// the result does not depend on map iteration.
func VerifyAnyFingerprint(cert *x509.Certificate, fps map[string][]string) error {
	hashes := make([]string, 0, len(fps))
	for h := range fps {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	var firstErr error
	for _, h := range hashes {
		for _, fp := range fps[h] {
			err := VerifyFingerprint(cert, h, fp)
			if err == nil {
				return nil
			}
			if firstErr == nil || (errors.Is(firstErr, ErrUnsupportedHash) && !errors.Is(err, ErrUnsupportedHash)) {
				firstErr = err
			}
		}
	}
	if firstErr == nil || errors.Is(firstErr, ErrUnsupportedHash) {
		return fmt.Errorf("%w (signaled: %s)", ErrNoRemoteFingerprint, strings.Join(hashes, ","))
	}
	return firstErr
}

// pionConfig builds pion's configuration: DTLS 1.2 (pion's only version), the bridge's ECDSA
// certificate, use_srtp with srtpProfiles, extended master secret when the peer offers it (JVB
// uses it "when offered"), and a client certificate required and checked against the signaled
// fingerprint instead of a CA chain (WebRTC authenticates by fingerprint, RFC 8827 §6.5).
func (c HandshakeConfig) pionConfig() *piondtls.Config {
	fps := c.RemoteFingerprints
	return &piondtls.Config{
		Certificates:           []tls.Certificate{c.Certificate.TLS},
		SRTPProtectionProfiles: srtpProfiles,
		ExtendedMasterSecret:   piondtls.RequestExtendedMasterSecret,
		ClientAuth:             piondtls.RequireAnyClientCert,
		InsecureSkipVerify:     true, // no CA chain: VerifyPeerCertificate checks the fingerprint
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 {
				return fmt.Errorf("%w: peer sent no certificate", ErrFingerprintMismatch)
			}
			cert, err := x509.ParseCertificate(rawCerts[0])
			if err != nil {
				return fmt.Errorf("dtls: parse peer certificate: %w", err)
			}
			return VerifyAnyFingerprint(cert, fps)
		},
		LoggerFactory: c.LoggerFactory,
	}
}

// Handshake runs the DTLS handshake over conn (the ICE connection, already writable: JVB and
// RFC 8842 start DTLS only once ICE has a working pair) in the configured role and returns the
// established connection and the negotiated SRTP profile ID. ctx bounds the handshake (JVB:
// 30 s). On error the connection is closed.
func Handshake(ctx context.Context, conn net.Conn, cfg HandshakeConfig) (*piondtls.Conn, uint16, error) {
	if cfg.Certificate == nil {
		return nil, 0, errors.New("dtls: no certificate")
	}
	if len(cfg.RemoteFingerprints) == 0 {
		return nil, 0, ErrNoRemoteFingerprint
	}
	pc := dtlsnet.PacketConnFromConn(conn)
	var (
		dc  *piondtls.Conn
		err error
	)
	switch cfg.Role {
	case RoleServer:
		dc, err = piondtls.Server(pc, conn.RemoteAddr(), cfg.pionConfig())
	case RoleClient:
		dc, err = piondtls.Client(pc, conn.RemoteAddr(), cfg.pionConfig())
	default:
		return nil, 0, fmt.Errorf("dtls: handshake with role %s", cfg.Role)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("dtls: new %s: %w", cfg.Role, err)
	}
	if err := dc.HandshakeContext(ctx); err != nil {
		_ = dc.Close()
		return nil, 0, fmt.Errorf("dtls: %s handshake: %w", cfg.Role, err)
	}
	profile, ok := dc.SelectedSRTPProtectionProfile()
	if !ok {
		_ = dc.Close()
		return nil, 0, ErrNoSRTPProfile
	}
	return dc, uint16(profile), nil
}
