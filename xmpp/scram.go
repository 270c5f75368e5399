package xmpp

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1" //nolint:gosec // SCRAM-SHA-1 is what Prosody's internal_hashed stores (RFC 5802)
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SCRAM errors.
var (
	errSCRAMServerFirst = errors.New("xmpp: SCRAM: malformed server-first-message")
	// ErrSCRAMServerSignature means the server could not prove it knows our credentials: it
	// is not retried with PLAIN, which would hand the password to that server.
	ErrSCRAMServerSignature = errors.New("xmpp: SCRAM: server signature mismatch")
)

// maxSCRAMIterations bounds the PBKDF2 work a server can demand (Prosody uses 10000, RFC 5802's
// example 4096); a hostile value would otherwise stall the login for minutes.
const maxSCRAMIterations = 1 << 20

// scramGS2Header is RFC 5802's "n,,": the client does not support channel binding. It must
// be "n" and not "y" (go-xmpp v0.4.1's bug): "y" tells a server that offers -PLUS that we
// believe it does not, and c=biws below is base64("n,,"), so the two must agree.
const scramGS2Header = "n,,"

// scramClientFirstBare is RFC 5802 §5.1's client-first-message-bare. The username is escaped
// (= and , become =3D and =2C); SASLprep is not applied (JVB account names are ASCII).
func scramClientFirstBare(user, clientNonce string) string {
	return "n=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user) + ",r=" + clientNonce
}

// scramServerFirst is a parsed server-first-message (RFC 5802 §7).
type scramServerFirst struct {
	nonce      string
	salt       []byte
	iterations int
}

// parseSCRAMServerFirst parses and checks the server-first-message: the combined nonce must
// extend ours, a mandatory extension (m=) is refused, the iteration count is bounded.
func parseSCRAMServerFirst(msg, clientNonce string) (scramServerFirst, error) {
	var sf scramServerFirst
	var haveSalt bool
	for i, kv := range strings.Split(msg, ",") {
		if len(kv) < 2 || kv[1] != '=' {
			return sf, fmt.Errorf("%w: attribute %q", errSCRAMServerFirst, kv)
		}
		v := kv[2:]
		switch {
		case kv[0] == 'm' && i == 0:
			return sf, fmt.Errorf("%w: mandatory extension", errSCRAMServerFirst)
		case kv[0] == 'r':
			sf.nonce = v
		case kv[0] == 's':
			salt, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return sf, fmt.Errorf("%w: salt: %v", errSCRAMServerFirst, err)
			}
			sf.salt, haveSalt = salt, true
		case kv[0] == 'i':
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > maxSCRAMIterations {
				return sf, fmt.Errorf("%w: iteration count %q", errSCRAMServerFirst, v)
			}
			sf.iterations = n
		}
	}
	switch {
	case len(sf.nonce) <= len(clientNonce) || !strings.HasPrefix(sf.nonce, clientNonce):
		return sf, fmt.Errorf("%w: nonce does not extend ours", errSCRAMServerFirst)
	case !haveSalt || sf.iterations == 0:
		return sf, fmt.Errorf("%w: salt or iteration count missing", errSCRAMServerFirst)
	}
	return sf, nil
}

// scramClientFinal computes RFC 5802 §3's client-final-message for serverFirst and the server
// signature the server must send back in v=.
func scramClientFinal(user, password, clientNonce, serverFirst string) (final string, serverSig []byte, err error) {
	sf, err := parseSCRAMServerFirst(serverFirst, clientNonce)
	if err != nil {
		return "", nil, err
	}
	salted, err := pbkdf2.Key(sha1.New, password, sf.salt, sf.iterations, sha1.Size)
	if err != nil {
		return "", nil, fmt.Errorf("xmpp: SCRAM: %w", err)
	}
	clientKey := hmacSHA1(salted, "Client Key")
	storedKey := sha1.Sum(clientKey) //nolint:gosec // RFC 5802 H()
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(scramGS2Header)) + ",r=" + sf.nonce
	authMessage := scramClientFirstBare(user, clientNonce) + "," + serverFirst + "," + withoutProof
	clientSig := hmacSHA1(storedKey[:], authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ clientSig[i]
	}
	serverSig = hmacSHA1(hmacSHA1(salted, "Server Key"), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), serverSig, nil
}

// verifySCRAMServerFinal checks the server-final-message (RFC 5802 §3: the client must verify
// ServerSignature; e= is an error the server reports instead).
func verifySCRAMServerFinal(serverFinal string, serverSig []byte) error {
	if e, ok := strings.CutPrefix(serverFinal, "e="); ok {
		return fmt.Errorf("%w: server-final error %q", errSASL, e)
	}
	v, ok := strings.CutPrefix(serverFinal, "v=")
	if !ok {
		return fmt.Errorf("%w: no verifier in %q", ErrSCRAMServerSignature, serverFinal)
	}
	v, _, _ = strings.Cut(v, ",")
	got, err := base64.StdEncoding.DecodeString(v)
	if err != nil || subtle.ConstantTimeCompare(got, serverSig) != 1 {
		return ErrSCRAMServerSignature
	}
	return nil
}

func hmacSHA1(key []byte, msg string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// SCRAMSHA1 is one RFC 5802 SCRAM-SHA-1 exchange without channel binding, for the project's
// other XMPP clients (the focus emulator); the bridge's own login uses the same functions.
type SCRAMSHA1 struct {
	User, Password, ClientNonce string
	serverSig                   []byte
}

// ClientFirst is the client-first-message, GS2 header included.
func (s *SCRAMSHA1) ClientFirst() string {
	return scramGS2Header + scramClientFirstBare(s.User, s.ClientNonce)
}

// ClientFinal answers the server-first-message and remembers the expected server signature.
func (s *SCRAMSHA1) ClientFinal(serverFirst string) (string, error) {
	final, sig, err := scramClientFinal(s.User, s.Password, s.ClientNonce, serverFirst)
	s.serverSig = sig
	return final, err
}

// VerifyServerFinal checks the server-final-message (v=) against ClientFinal's signature.
func (s *SCRAMSHA1) VerifyServerFinal(serverFinal string) error {
	return verifySCRAMServerFinal(serverFinal, s.serverSig)
}
