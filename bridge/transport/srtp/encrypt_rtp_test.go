package srtp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	pionsrtp "github.com/pion/srtp/v3"
)

var bothProfiles = []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80}

// Header extension layouts for rtpSpec.ext.
const (
	extNone = iota
	extOneByte
	extTwoByte
	extOpaque // RFC 3550 profile-specific extension, not parsed
)

// rtpSpec describes a test RTP packet.
type rtpSpec struct {
	ssrc    uint32
	seq     uint16
	csrcs   int
	ext     int
	padding int // padding bytes at the end (P bit set), last byte = count
	payload int // bytes before the padding
}

func buildRTP(s rtpSpec) []byte {
	b := []byte{0x80 | byte(s.csrcs), 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], s.seq)
	binary.BigEndian.PutUint32(b[4:], uint32(s.seq)*3000+7)
	binary.BigEndian.PutUint32(b[8:], s.ssrc)
	for i := range s.csrcs {
		b = binary.BigEndian.AppendUint32(b, 0xc0000000+uint32(i))
	}
	switch s.ext {
	case extOneByte: // abs-send-time (3 bytes) and audio level (1 byte), one padding byte
		b[0] |= 0x10
		b = append(b, 0xbe, 0xde, 0, 2, 0x22, 1, 2, 3, 0x10, 0x85, 0, 0)
	case extTwoByte: // two elements of 2 and 0 bytes, padded
		b[0] |= 0x10
		b = append(b, 0x10, 0x00, 0, 2, 7, 2, 0xaa, 0xbb, 9, 0, 0, 0)
	case extOpaque:
		b[0] |= 0x10
		b = append(b, 0x12, 0x34, 0, 1, 0xff, 0xff, 0xff, 0xff)
	}
	for i := range s.payload {
		b = append(b, byte(i*31+int(s.seq)))
	}
	if s.padding > 0 {
		b[0] |= 0x20
		for range s.padding - 1 {
			b = append(b, 0)
		}
		b = append(b, byte(s.padding))
	}
	return b
}

// outboundPair returns our outbound context, pion's outbound context with the same keys, and a
// pion inbound context for the peer without replay protection (retransmissions must decrypt).
func outboundPair(t testing.TB, p Profile) (ours, ref *Context, peer *pionsrtp.Context) {
	t.Helper()
	c, s := pair(t, p)
	ours, err := newOutbound(c, false)
	if err != nil {
		t.Fatal(err)
	}
	ref, err = newOutbound(c, true)
	if err != nil {
		t.Fatal(err)
	}
	if !ours.rtp.enabled() || ref.rtp.enabled() {
		t.Fatal("newOutbound did not pick the implementation asked for")
	}
	peer, err = pionsrtp.CreateContext(s.RemoteKey, s.RemoteSalt, pionsrtp.ProtectionProfile(p))
	if err != nil {
		t.Fatal(err)
	}
	return ours, ref, peer
}

// crossCheck encrypts pkt with ours (into a separate buffer and in place) and pion, and
// requires identical bytes, and that the peer decrypts ours back to pkt.
func crossCheck(t *testing.T, ours, ref, inPlace *Context, peer *pionsrtp.Context, pkt []byte) {
	t.Helper()
	rtpOver, _ := ours.Profile().Overhead()
	want, err := ref.EncryptRTP(nil, pkt)
	if err != nil {
		t.Fatalf("pion: %v", err)
	}
	dst := make([]byte, 3, len(pkt)+rtpOver) // len(dst) is ignored, as in pion
	got, err := ours.EncryptRTP(dst, pkt)
	if err != nil {
		t.Fatalf("ours: %v", err)
	}
	if &got[0] != &dst[0] || !bytes.Equal(got, want) {
		t.Fatalf("packet %x\nours %x\npion %x", pkt, got, want)
	}
	buf := make([]byte, len(pkt), len(pkt)+rtpOver)
	copy(buf, pkt)
	got2, err := inPlace.EncryptRTP(buf[:0], buf)
	if err != nil || &got2[0] != &buf[0] || !bytes.Equal(got2, want) {
		t.Fatalf("in place: %v\nours %x\npion %x", err, got2, want)
	}
	dec, err := peer.DecryptRTP(nil, got, nil)
	if err != nil || !bytes.Equal(dec, pkt) {
		t.Fatalf("peer decrypt: %v\n got %x\nwant %x", err, dec, pkt)
	}
}

// crossSequences are packet sequences, each sent on fresh contexts.
func crossSequences() map[string][]rtpSpec {
	seqs := map[string][]rtpSpec{}
	// Every header shape with every payload size.
	var shapes []rtpSpec
	n := uint16(0)
	for _, csrcs := range []int{0, 2, 15} {
		for _, ext := range []int{extNone, extOneByte, extTwoByte, extOpaque} {
			for _, pad := range []int{0, 1, 4} {
				for _, size := range []int{0, 1, 160, 1200} {
					n++
					shapes = append(shapes, rtpSpec{ssrc: 0x11223344, seq: n, csrcs: csrcs, ext: ext, padding: pad, payload: size})
				}
			}
		}
	}
	seqs["shapes"] = shapes
	// Wrap on the video SSRC with audio and RTX interleaved, retransmissions of old sequence
	// numbers from before the wrap (ROC-1) and after it, and a duplicate.
	var wrap []rtpSpec
	for i := range 16 {
		wrap = append(wrap,
			rtpSpec{ssrc: 0xaaaa0001, seq: 65528 + uint16(i), payload: 1000, ext: extOneByte},
			rtpSpec{ssrc: 0xbbbb0002, seq: 300 + uint16(i), payload: 80, ext: extOneByte})
		if i%5 == 4 {
			wrap = append(wrap, rtpSpec{ssrc: 0xcccc0003, seq: uint16(65534 + i/5), payload: 1002})
		}
	}
	wrap = append(wrap,
		rtpSpec{ssrc: 0xaaaa0001, seq: 65530, payload: 1000},             // late, previous ROC
		rtpSpec{ssrc: 0xaaaa0001, seq: 3, payload: 1000},                 // late, current ROC
		rtpSpec{ssrc: 0xaaaa0001, seq: 3, payload: 1000},                 // duplicate
		rtpSpec{ssrc: 0xaaaa0001, seq: 8, payload: 10},                   // next
		rtpSpec{ssrc: 0xaaaa0001, seq: 8 + 0x7fff, payload: 10},          // a jump of half the space
		rtpSpec{ssrc: 0xaaaa0001, seq: 9, payload: 10},                   // late again
		rtpSpec{ssrc: 0xaaaa0001, seq: 8 + 0x7fff + 0x7ff0, payload: 10}, // forward
		rtpSpec{ssrc: 0xaaaa0001, seq: 0x10, payload: 10},                // wraps to ROC 2
		rtpSpec{ssrc: 0xaaaa0001, seq: 0x10 + 0x8000, payload: 10},       // exactly half ahead
		rtpSpec{ssrc: 0xaaaa0001, seq: 0x10, payload: 10},                // exactly half behind
	)
	seqs["wrap"] = wrap
	// First packet high in the space, then past the wrap; first packet at 0 then 65535.
	seqs["late start"] = []rtpSpec{{ssrc: 1, seq: 40000}, {ssrc: 1, seq: 65535}, {ssrc: 1, seq: 2},
		{ssrc: 2, seq: 0}, {ssrc: 2, seq: 65535}, {ssrc: 2, seq: 1}, {ssrc: 2, seq: 32768}, {ssrc: 2, seq: 0},
		{ssrc: 3, seq: 32768}, {ssrc: 3, seq: 0}, {ssrc: 3, seq: 32769}, {ssrc: 3, seq: 1}}
	// More SSRCs than hot slots, round robin, each crossing a wrap: the map path.
	var many []rtpSpec
	for i := range 1500 {
		ssrc := uint32(1000 + i%20)
		many = append(many, rtpSpec{ssrc: ssrc, seq: uint16(65500 + i/20 + int(ssrc)), payload: 20})
	}
	seqs["many ssrcs"] = many
	// The first 8 SSRCs go idle, 4 newer ones stream long enough to take their slots over
	// (staleTicks), then the old ones come back after a wrap of their own.
	var stale []rtpSpec
	for i := range 8 {
		stale = append(stale, rtpSpec{ssrc: uint32(i), seq: 65530})
	}
	for i := range staleTicks + 200 {
		stale = append(stale, rtpSpec{ssrc: uint32(100 + i%4), seq: uint16(i / 4 * 17)})
	}
	for i := range 8 {
		stale = append(stale, rtpSpec{ssrc: uint32(i), seq: 2}, rtpSpec{ssrc: uint32(i), seq: 65531})
	}
	seqs["stale slots"] = stale
	return seqs
}

func TestEncryptRTPMatchesPion(t *testing.T) {
	for _, p := range bothProfiles {
		for name, seq := range crossSequences() {
			t.Run(p.String()+"/"+name, func(t *testing.T) {
				ours, ref, peer := outboundPair(t, p)
				inPlace, _, _ := outboundPair(t, p)
				for _, s := range seq {
					crossCheck(t, ours, ref, inPlace, peer, buildRTP(s))
					roc, _ := ref.c.ROC(s.ssrc)
					if got := ours.rtp.rocs.roc(s.ssrc); got != roc {
						t.Fatalf("after %+v: ROC %d, pion %d", s, got, roc)
					}
				}
			})
		}
	}
}

// The bridge's own inbound context (replay protection on) accepts our packets for the
// sequences without repeats or very late packets.
func TestEncryptRTPNewInbound(t *testing.T) {
	for _, p := range bothProfiles {
		for _, name := range []string{"shapes", "many ssrcs", "stale slots"} {
			tx, rx := contexts(t, p)
			for _, s := range crossSequences()[name] {
				pkt := buildRTP(s)
				enc, err := tx.EncryptRTP(nil, pkt)
				if err != nil {
					t.Fatal(err)
				}
				if dec, err := rx.DecryptRTP(enc[:0], enc); err != nil || !bytes.Equal(dec, pkt) {
					t.Fatalf("%s %s %+v: %v", p, name, s, err)
				}
			}
		}
	}
}

// roc returns the ROC of ssrc's highest index (test helper).
func (t *rocTable) roc(ssrc uint32) uint32 {
	if p, _ := t.find(ssrc); p != nil {
		return uint32(*p >> 16)
	}
	return 0
}

func TestEncryptRTPBuffers(t *testing.T) {
	for _, p := range bothProfiles {
		ours, ref, _ := outboundPair(t, p)
		pkt := buildRTP(rtpSpec{ssrc: 5, seq: 9, payload: 100})
		want, _ := ref.EncryptRTP(nil, pkt)
		// Too small a dst: a new slice, like pion; the packet itself is untouched.
		small := make([]byte, 0, len(pkt))
		orig := bytes.Clone(pkt)
		got, err := ours.EncryptRTP(small, pkt)
		if err != nil || !bytes.Equal(got, want) || cap(got) < len(want) || !bytes.Equal(pkt, orig) {
			t.Fatalf("%s small dst: %v %x", p, err, got)
		}
		if &got[0] == &small[:1][0] {
			t.Fatalf("%s: wrote past cap(dst)", p)
		}
	}
}

// A payload of more than 2^16 AES blocks: the block counter carries into the SEQ bits as in
// pion (RFC 3711 §4.1.1: IV + i mod 2^128) instead of repeating the keystream.
func TestEncryptRTPHugePayload(t *testing.T) {
	for _, p := range bothProfiles {
		ours, ref, peer := outboundPair(t, p)
		crossCheck(t, ours, ref, ours, peer, buildRTP(rtpSpec{ssrc: 3, seq: 0xffff, payload: 1<<20 + 100}))
	}
}

func TestEncryptRTPMalformed(t *testing.T) {
	good := buildRTP(rtpSpec{ssrc: 1, seq: 1, ext: extOneByte, csrcs: 1, payload: 4})
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"11 bytes", good[:11]},
		{"CSRC cut", good[:15]},
		{"extension header cut", good[:18]},
		{"extension body cut", good[:22]},
		{"one-byte element overruns", withExt(0xbede, 0x23, 1, 2, 0)},
		{"two-byte element overruns", withExt(0x1000, 1, 3, 0, 0)},
		{"two-byte id without length", withExt(0x1000, 0, 0, 0, 1)},
	}
	for _, p := range bothProfiles {
		ours, ref, _ := outboundPair(t, p)
		for _, tt := range tests {
			_, refErr := ref.EncryptRTP(nil, tt.pkt)
			out, err := ours.EncryptRTP(nil, tt.pkt)
			if err == nil || refErr == nil || out != nil {
				t.Errorf("%s %s: ours %v, pion %v", p, tt.name, err, refErr)
			}
			if !errors.Is(err, errMalformedRTP) || ReasonOf(err) != ReasonMalformed {
				t.Errorf("%s %s: %v classified %s", p, tt.name, err, ReasonOf(err))
			}
		}
		if ours.rtp.rocs.size() != 0 {
			t.Errorf("%s: malformed packets created SSRC state", p)
		}
	}
}

// withExt returns an RTP packet whose single extension word is ext under profile.
func withExt(profile uint16, ext ...byte) []byte {
	b := []byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9}
	b = binary.BigEndian.AppendUint16(b, profile)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)/4))
	return append(b, ext...)
}

func TestEncryptRTPTooManySSRCs(t *testing.T) {
	ours, _, _ := outboundPair(t, ProfileAEADAES128GCM)
	for i := range maxSSRCs {
		if _, err := ours.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: uint32(i), seq: 1})); err != nil {
			t.Fatalf("SSRC %d: %v", i, err)
		}
	}
	_, err := ours.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: maxSSRCs, seq: 1}))
	if !errors.Is(err, errTooManySSRCs) || ReasonOf(err) != ReasonMalformed {
		t.Fatalf("SSRC %d: %v", maxSSRCs, err)
	}
	if _, err := ours.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: 17, seq: 2})); err != nil {
		t.Fatalf("known SSRC after the bound: %v", err)
	}
}

// The ROC cannot wrap: pion and ours both refuse the packet that would need ROC 2^32.
func TestEncryptRTPROCExhausted(t *testing.T) {
	for _, p := range bothProfiles {
		ours, ref, _ := outboundPair(t, p)
		const ssrc = 77
		ref.c.SetROC(ssrc, 1<<32-1)
		if _, err := ours.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: ssrc, seq: 50000})); err != nil {
			t.Fatal(err)
		}
		*mustLookup(t, &ours.rtp.rocs, ssrc) = (1<<32-1)<<16 | 50000
		crossSeq := []rtpSpec{{ssrc: ssrc, seq: 60000}, {ssrc: ssrc, seq: 100}}
		// seq 60000 still has ROC 2^32-1 in both.
		want, _ := ref.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: ssrc, seq: 50000}))
		got, _ := ours.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: ssrc, seq: 50000}))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: ROC 2^32-1 packets differ", p)
		}
		for i, s := range crossSeq {
			_, refErr := ref.EncryptRTP(nil, buildRTP(s))
			_, err := ours.EncryptRTP(nil, buildRTP(s))
			if (err == nil) != (i == 0) || (refErr == nil) != (i == 0) {
				t.Fatalf("%s seq %d: ours %v, pion %v", p, s.seq, err, refErr)
			}
		}
		if _, err := ours.EncryptRTP(nil, buildRTP(crossSeq[1])); !errors.Is(err, errROCExhausted) {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

func mustLookup(t *testing.T, tab *rocTable, ssrc uint32) *uint64 {
	t.Helper()
	p, _ := tab.find(ssrc)
	if p == nil {
		t.Fatalf("SSRC %d unknown", ssrc)
	}
	return p
}

func TestEncryptRTPNoAllocs(t *testing.T) {
	for _, p := range bothProfiles {
		ours, _, _ := outboundPair(t, p)
		pkt := buildRTP(rtpSpec{ssrc: 1, ext: extOneByte, payload: 1200})
		dst := make([]byte, 0, 1500)
		seq := uint16(0)
		step := func() {
			seq += 7
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[8:], uint32(seq%3)) // three interleaved SSRCs
			if _, err := ours.EncryptRTP(dst, pkt); err != nil {
				t.Fatal(err)
			}
		}
		step()
		if n := testing.AllocsPerRun(2000, step); n != 0 {
			t.Errorf("%s: %v allocations per packet", p, n)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3711 Appendix B.3: session keys from the master key and salt.
func TestDeriveSessionKeyRFC3711(t *testing.T) {
	masterKey := unhex(t, "E1F97A0D3E018BE0D64FA32C06DE4139")
	masterSalt := unhex(t, "0EC675AD498AFEEBB6960B3AABE6")
	tests := []struct {
		label byte
		n     int
		want  string
	}{
		{labelRTPCipher, 16, "C61E7A93744F39EE10734AFE3FF7A087"},
		{labelRTPSalt, 14, "30CBBC08863D8C85D49DB34A9AE1"},
		{labelRTPAuth, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"},
	}
	for _, tt := range tests {
		got := make([]byte, tt.n)
		if err := deriveSessionKey(got, masterKey, masterSalt, tt.label); err != nil {
			t.Fatal(err)
		}
		if want := unhex(t, tt.want); !bytes.Equal(got, want) {
			t.Errorf("label %d: %X, want %X", tt.label, got, want)
		}
	}
	if err := deriveSessionKey(make([]byte, 16), masterKey[:15], masterSalt, 0); !errors.Is(err, errMasterKeyLength) {
		t.Errorf("short master key: %v", err)
	}
}

// RFC 7714 §16.1.1: AEAD_AES_128_GCM encryption of an RTP packet (session key and salt given).
func TestSealGCMRFC7714(t *testing.T) {
	e, err := newSessionEncrypter(ProfileAEADAES128GCM, unhex(t, "000102030405060708090a0b0c0d0e0f"),
		unhex(t, "517569642070726f2071756f"), nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := unhex(t, `8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
		69736120 696e2070 61727465 73207472 6573`)
	want := unhex(t, `8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
		0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`)
	got, err := e.encrypt(nil, plain)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%v\n got %x\nwant %x", err, got, want)
	}
}

// RFC 3711 Appendix B.2: the AES-CM keystream for SSRC 0, index 0 (a zero payload encrypts to
// the keystream itself).
func TestKeystreamRFC3711(t *testing.T) {
	e, err := newSessionEncrypter(ProfileAES128CMHMACSHA1_80, unhex(t, "2B7E151628AED2A6ABF7158809CF4F3C"),
		unhex(t, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), make([]byte, 20))
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
		41E95B3BB0A2E8DD477901E4FCA894C0`)
	pkt := append([]byte{0x80, 0x0f, 0, 0, 0xde, 0xca, 0xfb, 0xad, 0, 0, 0, 0}, make([]byte, len(want))...)
	got, err := e.encrypt(nil, pkt)
	if err != nil || !bytes.Equal(got[12:12+len(want)], want) {
		t.Fatalf("%v\n got %X\nwant %X", err, got[12:12+len(want)], want)
	}
}

func TestNewRTPEncrypterKeys(t *testing.T) {
	tests := []struct {
		p        Profile
		key      int
		salt     int
		wantErr  bool
		disabled bool
	}{
		{ProfileAEADAES128GCM, 16, 12, false, false},
		{ProfileAEADAES128GCM, 16, 14, true, false},
		{ProfileAES128CMHMACSHA1_80, 16, 14, false, false},
		{ProfileAES128CMHMACSHA1_80, 16, 12, true, false},
		{ProfileAES128CMHMACSHA1_80, 32, 14, true, false},
		{Profile(0x0008), 32, 12, false, true}, // AEAD_AES_256_GCM: not ours, pion's
	}
	for _, tt := range tests {
		e, err := newRTPEncrypter(tt.p, make([]byte, tt.key), make([]byte, tt.salt))
		if (err != nil) != tt.wantErr || (err == nil && e.enabled() == tt.disabled) {
			t.Errorf("%s key %d salt %d: %v", tt.p, tt.key, tt.salt, err)
		}
	}
}

func ExampleContext_EncryptRTP() {
	keys, _ := KeysFromDTLS(fakeExporter{}, ProfileAEADAES128GCM, false)
	tx, _ := NewOutbound(keys)
	pkt := rtpPacket(1, 160)
	rtpOver, _ := tx.Profile().Overhead()
	buf := make([]byte, 0, len(pkt)+rtpOver) // a pooled buffer in the bridge
	out, err := tx.EncryptRTP(buf, pkt)
	fmt.Println(len(out)-len(pkt), &out[0] == &buf[:1][0], err)
	// Output: 16 true <nil>
}
