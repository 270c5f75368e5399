// Package srtp protects the bridge's packet path: in-place decryption and encryption of RTP and
// RTCP with caller-provided buffers (RFC 3711, RFC 7714), keys exported from DTLS (RFC 5764
// §4.2), and a small enum for why a packet was rejected. For the two profiles the bridge
// negotiates, the per-packet transforms are our own: outbound RTP (encrypt_rtp.go, the
// per-receiver hot path) and inbound SRTP and SRTCP with their receive index and replay state
// (decrypt_rtp.go, decrypt_rtcp.go, replay.go). pion/srtp/v3 still does outbound RTCP, the
// DTLS key export, and every transform of any other profile.
// A Context is not safe for concurrent use: the inbound one belongs to the socket reader
// goroutine, the outbound one to the endpoint's single egress goroutine.
package srtp

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
)

// Profile is a DTLS-SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2).
type Profile uint16

// Profiles the bridge negotiates, in its order of preference (media.md §6 "SRTP"):
// AEAD_AES_128_GCM is about 4x cheaper than AES-CM + HMAC-SHA1 in Go (ARCHITECTURE.md).
const (
	ProfileAES128CMHMACSHA1_80 Profile = Profile(pionsrtp.ProtectionProfileAes128CmHmacSha1_80)
	ProfileAEADAES128GCM       Profile = Profile(pionsrtp.ProtectionProfileAeadAes128Gcm)
)

func (p Profile) String() string {
	switch p {
	case ProfileAES128CMHMACSHA1_80:
		return "SRTP_AES128_CM_HMAC_SHA1_80"
	case ProfileAEADAES128GCM:
		return "SRTP_AEAD_AES_128_GCM"
	}
	return fmt.Sprintf("SRTP_PROFILE_%#04x", uint16(p))
}

// Overhead returns the bytes SRTP adds to an RTP and to an RTCP packet: the auth tag (GCM 16,
// HMAC-SHA1-80 10) and for SRTCP also the 4-byte E flag + index (RFC 3711 §3.4).
func (p Profile) Overhead() (rtpBytes, rtcpBytes int) {
	switch p {
	case ProfileAEADAES128GCM:
		return 16, 16 + 4
	case ProfileAES128CMHMACSHA1_80:
		return 10, 10 + 4
	}
	return 0, 0
}

// Sentinel errors.
var ErrUnsupportedProfile = errors.New("srtp: unsupported protection profile")

// Keys are one session's master keys and salts, split by direction.
type Keys struct {
	Profile               Profile
	LocalKey, LocalSalt   []byte // protect what we send
	RemoteKey, RemoteSalt []byte // verify what we receive
}

// Exporter is the DTLS keying-material exporter (RFC 5705), e.g. pion dtls.State.
type Exporter interface {
	ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error)
}

// KeysFromDTLS derives the SRTP master keys from a finished DTLS handshake (RFC 5764 §4.2,
// label "EXTRACTOR-dtls_srtp"); isClient is our DTLS role.
func KeysFromDTLS(exp Exporter, p Profile, isClient bool) (Keys, error) {
	if p != ProfileAEADAES128GCM && p != ProfileAES128CMHMACSHA1_80 {
		return Keys{}, fmt.Errorf("%w: %s", ErrUnsupportedProfile, p)
	}
	cfg := pionsrtp.Config{Profile: pionsrtp.ProtectionProfile(p)}
	if err := cfg.ExtractSessionKeysFromDTLS(exp, isClient); err != nil {
		return Keys{}, fmt.Errorf("srtp: export keys: %w", err)
	}
	return Keys{
		Profile:  p,
		LocalKey: cfg.Keys.LocalMasterKey, LocalSalt: cfg.Keys.LocalMasterSalt,
		RemoteKey: cfg.Keys.RemoteMasterKey, RemoteSalt: cfg.Keys.RemoteMasterSalt,
	}, nil
}

// replayWindow is the SRTP/SRTCP replay window in packets (RFC 3711 §3.3.2 requires at least
// 64; video bursts reorder more, so the bridge keeps a wider one).
const replayWindow = 512

// Context protects or unprotects one direction of one SRTP session. It reuses its header
// structs across calls so that steady-state packets do not allocate.
type Context struct {
	// profile is read per packet (the transport's overhead check) just before the
	// encrypter's first fields: both in the first cache line (at the end of the struct it
	// cost a miss of its own on every packet of a large fan-out).
	profile Profile
	// rtp is the SRTP transform, inline (one less cold line per packet): outbound it encrypts,
	// inbound (built from the remote keys) DecryptRTP uses its keys and IV. Disabled: pion.
	rtp rtpEncrypter
	// rtpIn is the inbound SRTP receive state per SSRC (ROC, s_l, replay window), inline for
	// the same reason; used by DecryptRTP whenever rtp is enabled (only inbound in practice).
	rtpIn   replayTable
	rtcpIn  srtcpDecrypter // inbound SRTCP; disabled outbound and for pion-backed contexts
	c       *pionsrtp.Context
	rtpHdr  rtp.Header
	rtcpHdr rtcp.Header
}

// NewInbound returns the context that decrypts and authenticates received packets, with
// replay protection (replayWindow packets per SSRC, separately for SRTP and SRTCP). Both
// negotiated profiles are decrypted by the package's own transforms.
func NewInbound(k Keys) (*Context, error) { return newInbound(k, false) }

// newInbound is NewInbound with the choice of pion for decryption (pion), which tests and
// benchmarks use as the reference. Profiles other than ours always go through pion.
func newInbound(k Keys, pion bool) (*Context, error) {
	c, err := pionsrtp.CreateContext(k.RemoteKey, k.RemoteSalt, pionsrtp.ProtectionProfile(k.Profile),
		pionsrtp.SRTPReplayProtection(replayWindow), pionsrtp.SRTCPReplayProtection(replayWindow))
	if err != nil {
		return nil, fmt.Errorf("srtp: inbound context: %w", err)
	}
	ctx := &Context{c: c, profile: k.Profile}
	if pion {
		return ctx, nil
	}
	rtpT, err := newSessionTransform(k.Profile, k.RemoteKey, k.RemoteSalt, srtpLabels)
	if err != nil {
		return nil, fmt.Errorf("srtp: inbound context: %w", err)
	}
	rtcpT, err := newSessionTransform(k.Profile, k.RemoteKey, k.RemoteSalt, srtcpLabels)
	if err != nil {
		return nil, fmt.Errorf("srtp: inbound context: %w", err)
	}
	ctx.rtp, ctx.rtcpIn.tf = *rtpT, *rtcpT
	return ctx, nil
}

// NewOutbound returns the context that encrypts packets we send. RTP is protected by the
// package's own transform for both negotiated profiles; RTCP by pion.
func NewOutbound(k Keys) (*Context, error) { return newOutbound(k, false) }

// newOutbound is NewOutbound with the choice of pion for RTP too (pionRTP), which tests and
// benchmarks use as the reference.
func newOutbound(k Keys, pionRTP bool) (*Context, error) {
	c, err := pionsrtp.CreateContext(k.LocalKey, k.LocalSalt, pionsrtp.ProtectionProfile(k.Profile))
	if err != nil {
		return nil, fmt.Errorf("srtp: outbound context: %w", err)
	}
	ctx := &Context{c: c, profile: k.Profile}
	if !pionRTP {
		e, err := newRTPEncrypter(k.Profile, k.LocalKey, k.LocalSalt)
		if err != nil {
			return nil, fmt.Errorf("srtp: outbound context: %w", err)
		}
		ctx.rtp = *e
	}
	return ctx, nil
}

// Profile returns the context's protection profile.
func (c *Context) Profile() Profile { return c.profile }

// DecryptRTP verifies and decrypts the SRTP packet src into dst and returns the plain RTP
// packet, dst[:len(src)-tag] (RTP padding, if any, is still in it). dst may be src[:0] to
// decrypt in place; when cap(dst) is too small a new slice is allocated. It must not overlap
// src at another offset. On error the contents of dst (and, in place, src) are unspecified.
func (c *Context) DecryptRTP(dst, src []byte) ([]byte, error) {
	if c.rtp.enabled() {
		return decryptSRTP(&c.rtp, &c.rtpIn, dst, src)
	}
	return c.c.DecryptRTP(dst, src, &c.rtpHdr)
}

// EncryptRTP encrypts the RTP packet pkt into dst and returns the SRTP packet, which is
// dst[:len(pkt)+tag] when cap(dst) has room for the tag (Profile.Overhead) and a new slice
// otherwise. dst may be pkt[:0] (in place); it must not overlap pkt at another offset.
func (c *Context) EncryptRTP(dst, pkt []byte) ([]byte, error) {
	if c.rtp.enabled() {
		return c.rtp.encrypt(dst, pkt)
	}
	return c.c.EncryptRTP(dst, pkt, &c.rtpHdr)
}

// DecryptRTCP verifies and decrypts the SRTCP packet src into dst (src[:0]: in place) and
// returns the compound RTCP packet, dst[:len(src)-tag-4], with DecryptRTP's buffer contract.
// (The one exception: an unencrypted (E=0) GCM packet decrypted out of place needs 4 bytes of
// room beyond that, else a new slice is allocated.)
func (c *Context) DecryptRTCP(dst, src []byte) ([]byte, error) {
	if c.rtcpIn.enabled() {
		return c.rtcpIn.decrypt(dst, src)
	}
	return c.c.DecryptRTCP(dst, src, &c.rtcpHdr)
}

// EncryptRTCP encrypts the compound RTCP packet pkt into dst (pkt[:0]: in place when cap(pkt)
// has room for index and tag).
func (c *Context) EncryptRTCP(dst, pkt []byte) ([]byte, error) {
	return c.c.EncryptRTCP(dst, pkt, &c.rtcpHdr)
}

// Reason classifies a decrypt failure for drop counters.
type Reason uint8

// Failure reasons.
const (
	ReasonNone      Reason = iota
	ReasonMalformed        // not parseable as RTP/RTCP, or too short for the tag
	ReasonAuth             // authentication tag mismatch (wrong key, forged or corrupted)
	ReasonReplay           // already received (RFC 3711 §3.3.2 replay list)
)

var reasonNames = [...]string{ReasonNone: "none", ReasonMalformed: "malformed", ReasonAuth: "auth", ReasonReplay: "replay"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// errGCMOpen is crypto/cipher's AEAD authentication failure, which pion returns unwrapped.
const errGCMOpen = "cipher: message authentication failed"

// ReasonOf classifies an error returned by DecryptRTP/DecryptRTCP without formatting it: the
// package's own sentinels first (the hot path: they come back unwrapped), then pion's errors
// for what pion still decrypts.
func ReasonOf(err error) Reason {
	switch {
	case err == nil:
		return ReasonNone
	case errors.Is(err, errAuthFailed):
		return ReasonAuth
	case errors.Is(err, errReplayed):
		return ReasonReplay
	case errors.Is(err, errTooShort), errors.Is(err, errMalformedRTP), errors.Is(err, errMalformedRTCP),
		errors.Is(err, errTooManyInboundSSRCs):
		return ReasonMalformed
	case errors.Is(err, pionsrtp.ErrFailedToVerifyAuthTag):
		return ReasonAuth
	}
	// pion's duplicate error is unexported; it unwraps to a sentinel "duplicated packet".
	var u interface{ Unwrap() error }
	if errors.As(err, &u) && u.Unwrap() != nil && u.Unwrap().Error() == "duplicated packet" {
		return ReasonReplay
	}
	if err.Error() == errGCMOpen {
		return ReasonAuth
	}
	return ReasonMalformed
}

// PrefetchEncrypt adds to b the cache lines the next EncryptRTP reads, for a caller that is
// about to encrypt for many receivers in turn (each one's context is cold by its turn). With
// deep false: the context's head (profile, IV salt, ROC slots); with deep true, for a hint
// issued once the head is cached because it is found through it: the cipher's key schedule
// and tables.
func (c *Context) PrefetchEncrypt(deep bool, b *prefetch.Batch) {
	if !deep { // reads nothing of c, whose lines are not cached yet (&c.rtp would load from c)
		b.Add(unsafe.Pointer(c), unsafe.Offsetof(c.rtp)+unsafe.Offsetof(c.rtp.rocs)+unsafe.Sizeof(c.rtp.rocs))
		return
	}
	e := &c.rtp
	// Go's AES ciphers keep the expanded encryption key first, and GCM its GHASH table last;
	// the decryption schedule in between is never read here.
	const part = 256
	if e.cipherSize > 2*part {
		b.Add(e.cipherObj, part)
		b.Add(unsafe.Add(e.cipherObj, e.cipherSize-part), part)
	} else {
		b.Add(e.cipherObj, e.cipherSize)
	}
	b.Add(e.macObj, e.macSize)
}
