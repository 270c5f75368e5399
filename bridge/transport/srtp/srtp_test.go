package srtp

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
)

// fakeExporter returns deterministic keying material, standing in for a DTLS session.
type fakeExporter struct{}

func (fakeExporter) ExportKeyingMaterial(label string, _ []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(i*7 + len(label))
	}
	return out, nil
}

// pair returns the DTLS client's and server's keys for one session.
func pair(t testing.TB, p Profile) (client, server Keys) {
	t.Helper()
	c, err := KeysFromDTLS(fakeExporter{}, p, true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := KeysFromDTLS(fakeExporter{}, p, false)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func contexts(t testing.TB, p Profile) (tx, rx *Context) {
	t.Helper()
	c, s := pair(t, p)
	tx, err := NewOutbound(c)
	if err != nil {
		t.Fatal(err)
	}
	rx, err = NewInbound(s)
	if err != nil {
		t.Fatal(err)
	}
	return tx, rx
}

func rtpPacket(seq uint16, payload int) []byte {
	b := make([]byte, 12+payload, 12+payload+32)
	b[0], b[1] = 0x80, 111
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*960)
	binary.BigEndian.PutUint32(b[8:], 0x11223344)
	for i := 12; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func TestKeysDirections(t *testing.T) {
	c, s := pair(t, ProfileAEADAES128GCM)
	if !bytes.Equal(c.LocalKey, s.RemoteKey) || !bytes.Equal(c.LocalSalt, s.RemoteSalt) ||
		!bytes.Equal(s.LocalKey, c.RemoteKey) || bytes.Equal(c.LocalKey, c.RemoteKey) {
		t.Fatal("client and server keys are not mirrored")
	}
	if len(c.LocalKey) != 16 || len(c.LocalSalt) != 12 {
		t.Fatalf("GCM key/salt lengths %d/%d, want 16/12 (RFC 7714 §12)", len(c.LocalKey), len(c.LocalSalt))
	}
	if _, err := KeysFromDTLS(fakeExporter{}, Profile(0x99), true); err == nil {
		t.Fatal("unsupported profile accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		t.Run(p.String(), func(t *testing.T) {
			tx, rx := contexts(t, p)
			rtpOver, rtcpOver := p.Overhead()
			plain := rtpPacket(1, 1188)
			enc, err := tx.EncryptRTP(make([]byte, 0, 1500), plain)
			if err != nil {
				t.Fatal(err)
			}
			if len(enc) != len(plain)+rtpOver || bytes.Equal(enc[12:len(plain)], plain[12:]) {
				t.Fatalf("SRTP length %d (want %d) or payload not encrypted", len(enc), len(plain)+rtpOver)
			}
			dec, err := rx.DecryptRTP(enc[:0], enc) // in place
			if err != nil || !bytes.Equal(dec, plain) || &dec[0] != &enc[0] {
				t.Fatalf("decrypt: %v, equal=%v", err, bytes.Equal(dec, plain))
			}

			// In-place encryption when the packet has spare capacity.
			again := rtpPacket(2, 100)
			want := bytes.Clone(again)
			enc2, err := tx.EncryptRTP(again[:0], again)
			if err != nil || &enc2[0] != &again[0] {
				t.Fatalf("in-place encrypt: %v", err)
			}
			if dec, err := rx.DecryptRTP(nil, enc2); err != nil || !bytes.Equal(dec, want) {
				t.Fatalf("decrypt of in-place packet: %v", err)
			}

			rtcp := []byte{0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
			encR, err := tx.EncryptRTCP(nil, rtcp)
			if err != nil || len(encR) != len(rtcp)+rtcpOver {
				t.Fatalf("SRTCP length %d, want %d: %v", len(encR), len(rtcp)+rtcpOver, err)
			}
			decR, err := rx.DecryptRTCP(encR[:0], encR)
			if err != nil || !bytes.Equal(decR, rtcp) {
				t.Fatalf("SRTCP decrypt: %v", err)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		tx, rx := contexts(t, p)
		enc, _ := tx.EncryptRTP(nil, rtpPacket(10, 50))
		good := bytes.Clone(enc)
		enc[len(enc)-1] ^= 1
		tests := []struct {
			name string
			pkt  []byte
			want Reason
		}{
			{"tampered tag", enc, ReasonAuth},
			{"valid", bytes.Clone(good), ReasonNone},
			{"replayed", bytes.Clone(good), ReasonReplay},
			{"truncated", good[:11], ReasonMalformed},
		}
		for _, tt := range tests {
			_, err := rx.DecryptRTP(nil, tt.pkt)
			if got := ReasonOf(err); got != tt.want {
				t.Errorf("%s %s: reason %s (%v), want %s", p, tt.name, got, err, tt.want)
			}
		}
		encR, _ := tx.EncryptRTCP(nil, []byte{0x81, 200, 0, 1, 1, 2, 3, 4})
		encR[len(encR)-1] ^= 1
		if _, err := rx.DecryptRTCP(nil, encR); ReasonOf(err) != ReasonAuth {
			t.Errorf("%s tampered SRTCP: %v", p, err)
		}
	}
}

// TestPrefetchEncryptCovers checks that the hints reach what EncryptRTP reads, for both
// profiles, whatever the layout becomes.
func TestPrefetchEncryptCovers(t *testing.T) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		tx, _ := contexts(t, p)
		e := &tx.rtp
		var head, deep prefetch.Batch
		tx.PrefetchEncrypt(false, &head)
		tx.PrefetchEncrypt(true, &deep)
		for name, ptr := range map[string]unsafe.Pointer{
			"profile": unsafe.Pointer(&tx.profile), "iv": unsafe.Pointer(&e.iv), "aead": unsafe.Pointer(&e.aead),
			"cipherObj": unsafe.Pointer(&e.cipherObj), "rocs.n": unsafe.Pointer(&e.rocs.n),
			"last hot ROC slot": unsafe.Pointer(&e.rocs.slots[hotSSRCs-1]),
		} {
			if !head.Covers(ptr) {
				t.Errorf("%s: head hints miss %s", p, name)
			}
		}
		if e.cipherObj == nil || !deep.Covers(e.cipherObj) || !deep.Covers(unsafe.Add(e.cipherObj, e.cipherSize-1)) {
			t.Errorf("%s: deep hints miss the cipher's ends", p)
		}
		if p == ProfileAES128CMHMACSHA1_80 && (e.macObj == nil || !deep.Covers(e.macObj)) {
			t.Errorf("%s: deep hints miss the HMAC", p)
		}
	}
}
