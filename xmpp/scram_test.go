package xmpp

import (
	"encoding/base64"
	"errors"
	"testing"
)

// RFC 5802 §5's example exchange.
const (
	rfcUser        = "user"
	rfcPassword    = "pencil"
	rfcClientNonce = "fyko+d2lbbFgONRv9qkxdawL"
	rfcServerFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
	rfcClientFinal = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
	rfcServerSig   = "rmF9pqV8S7suAoZWja4dJRkFsKQ="
)

func TestSCRAMRFC5802Vector(t *testing.T) {
	if got := scramGS2Header + scramClientFirstBare(rfcUser, rfcClientNonce); got != "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL" {
		t.Errorf("client-first = %q", got)
	}
	final, sig, err := scramClientFinal(rfcUser, rfcPassword, rfcClientNonce, rfcServerFirst)
	if err != nil {
		t.Fatal(err)
	}
	if final != rfcClientFinal {
		t.Errorf("client-final = %q, want %q", final, rfcClientFinal)
	}
	if got := base64.StdEncoding.EncodeToString(sig); got != rfcServerSig {
		t.Errorf("server signature = %q, want %q", got, rfcServerSig)
	}
	if err := verifySCRAMServerFinal("v="+rfcServerSig, sig); err != nil {
		t.Errorf("verify RFC server-final: %v", err)
	}
}

func TestSCRAMUsernameEscaping(t *testing.T) {
	if got := scramClientFirstBare("a=b,c", "N"); got != "n=a=3Db=2Cc,r=N" {
		t.Errorf("got %q", got)
	}
}

func TestVerifySCRAMServerFinal(t *testing.T) {
	sig, _ := base64.StdEncoding.DecodeString(rfcServerSig)
	tests := []struct {
		final string
		want  error
	}{
		{"v=" + rfcServerSig, nil},
		{"v=AAAApqV8S7suAoZWja4dJRkFsKQ=", ErrSCRAMServerSignature},
		{"v=not base64!", ErrSCRAMServerSignature},
		{"", ErrSCRAMServerSignature},
		{"e=invalid-proof", errSASL},
	}
	for _, tc := range tests {
		if err := verifySCRAMServerFinal(tc.final, sig); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("verifySCRAMServerFinal(%q) = %v, want %v", tc.final, err, tc.want)
		}
	}
}

func TestParseSCRAMServerFirst(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		ok   bool
	}{
		{"RFC example", rfcServerFirst, true},
		{"extension attribute ignored", rfcServerFirst + ",x=1", true},
		{"nonce not ours", "r=abc3rfc,s=QSXCR+Q6sek8bf92,i=4096", false},
		{"nonce not extended", "r=" + rfcClientNonce + ",s=QSXCR+Q6sek8bf92,i=4096", false},
		{"mandatory extension", "m=ext," + rfcServerFirst, false},
		{"no salt", "r=" + rfcClientNonce + "x,i=4096", false},
		{"bad salt", "r=" + rfcClientNonce + "x,s=***,i=4096", false},
		{"zero iterations", "r=" + rfcClientNonce + "x,s=QSXCR+Q6sek8bf92,i=0", false},
		{"too many iterations", "r=" + rfcClientNonce + "x,s=QSXCR+Q6sek8bf92,i=99999999", false},
		{"garbage", "hello", false},
	}
	for _, tc := range tests {
		_, err := parseSCRAMServerFirst(tc.msg, rfcClientNonce)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, errSCRAMServerFirst) {
			t.Errorf("%s: error %v is not errSCRAMServerFirst", tc.name, err)
		}
	}
}

// FuzzParseSCRAMServerFirst: the server-first-message comes from the network; the parser must
// not panic, and whatever it accepts must satisfy its checks.
func FuzzParseSCRAMServerFirst(f *testing.F) {
	f.Add(rfcServerFirst)
	f.Add("m=x," + rfcServerFirst)
	f.Add("r=,s=,i=")
	f.Add(",,=")
	f.Fuzz(func(t *testing.T, msg string) {
		sf, err := parseSCRAMServerFirst(msg, rfcClientNonce)
		if err != nil {
			return
		}
		if len(sf.nonce) <= len(rfcClientNonce) || sf.iterations <= 0 || sf.iterations > maxSCRAMIterations {
			t.Errorf("accepted %q as %+v", msg, sf)
		}
	})
}
