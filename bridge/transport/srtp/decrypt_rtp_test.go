package srtp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the RFC 3711 test vector's MAC
	"errors"
	"fmt"
	"testing"

	pionsrtp "github.com/pion/srtp/v3"
)

// inboundPair returns the sending peer (pion, the DTLS client's outbound keys, with opts) and
// our and pion's inbound contexts for the DTLS server.
func inboundPair(t testing.TB, p Profile, opts ...pionsrtp.ContextOption) (peer *pionsrtp.Context, ours, ref *Context) {
	t.Helper()
	c, s := pair(t, p)
	peer, err := pionsrtp.CreateContext(c.LocalKey, c.LocalSalt, pionsrtp.ProtectionProfile(p), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if ours, err = newInbound(s, false); err != nil {
		t.Fatal(err)
	}
	if ref, err = newInbound(s, true); err != nil {
		t.Fatal(err)
	}
	if !ours.rtp.enabled() || !ours.rtcpIn.enabled() || ref.rtp.enabled() || ref.rtcpIn.enabled() {
		t.Fatal("newInbound did not pick the implementation asked for")
	}
	return peer, ours, ref
}

// rxResult is what a receiver made of one packet: the plaintext, or why it was dropped.
type rxResult struct {
	plain  string
	reason Reason
}

// receive decrypts a copy of pkt, in place or into a separate buffer.
func receive(rx *Context, pkt []byte, rtcp, inPlace bool) rxResult {
	buf := bytes.Clone(pkt)
	dst := make([]byte, 0, len(pkt))
	if inPlace {
		dst = buf[:0]
	}
	decrypt := rx.DecryptRTP
	if rtcp {
		decrypt = rx.DecryptRTCP
	}
	out, err := decrypt(dst, buf)
	if err != nil {
		return rxResult{reason: ReasonOf(err)}
	}
	return rxResult{plain: string(out)}
}

// wrapReorder: a video SSRC crossing the wrap (ROC 0→1) with packets reordered across it,
// duplicates on both sides, and audio and RTX SSRCs interleaved.
func wrapReorder() []rtpSpec {
	var s []rtpSpec
	for _, seq := range []uint16{65530, 65532, 0, 65531, 2, 1, 65535, 65533, 3, 65534, 65532, 0, 4} {
		s = append(s, rtpSpec{ssrc: 0xa, seq: seq, payload: 900, ext: extOneByte},
			rtpSpec{ssrc: 0xb, seq: 7000 + seq%64, payload: 60, ext: extOneByte, padding: 3},
			rtpSpec{ssrc: 0xc, seq: seq + 3, csrcs: 2, payload: 10})
	}
	return s
}

// TestDecryptRTPMatchesPion: packets encrypted by pion decrypt with ours exactly as with pion
// (same packets accepted, same plaintext — the original packet — and the same drop reasons),
// in place and into a separate buffer, for every header shape and stream pattern.
func TestDecryptRTPMatchesPion(t *testing.T) {
	seqs := crossSequences()
	seqs["wrap reorder"] = wrapReorder()
	for _, p := range bothProfiles {
		for name, seq := range seqs {
			t.Run(p.String()+"/"+name, func(t *testing.T) {
				peer, ours, ref := inboundPair(t, p)
				_, oursOut, _ := inboundPair(t, p)
				accepted := 0
				for i, s := range seq {
					plain := buildRTP(s)
					enc, err := peer.EncryptRTP(nil, plain, nil)
					if err != nil {
						t.Fatal(err)
					}
					want := receive(ref, enc, false, true)
					if want.reason == ReasonNone {
						accepted++
						if want.plain != string(plain) {
							t.Fatalf("%d %+v: pion decrypted to something else", i, s)
						}
					}
					if got := receive(ours, enc, false, true); got != want {
						t.Fatalf("%d %+v in place: ours %s %x\npion %s %x", i, s, got.reason, got.plain, want.reason, want.plain)
					}
					if got := receive(oursOut, enc, false, false); got != want {
						t.Fatalf("%d %+v: ours %s, pion %s", i, s, got.reason, want.reason)
					}
				}
				if accepted < len(seq)/2 {
					t.Fatalf("only %d of %d packets accepted", accepted, len(seq))
				}
			})
		}
	}
}

// TestDecryptRTPReplay: the receive index and replay window, packet by packet, for ours and
// (as the reference) pion. forged packets carry a corrupted tag: they are dropped and must not
// move the ROC or the window.
func TestDecryptRTPReplay(t *testing.T) {
	type step struct {
		seq    uint16
		forged bool
		want   Reason
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"window", []step{{100, false, ReasonNone}, {100, false, ReasonReplay}, {102, false, ReasonNone},
			{101, false, ReasonNone}, {101, false, ReasonReplay}, {700, false, ReasonNone},
			{189, false, ReasonNone}, {188, false, ReasonReplay}, {189, false, ReasonReplay}}},
		{"reordered across the wrap", []step{{65530, false, ReasonNone}, {65532, false, ReasonNone},
			{0, false, ReasonNone}, {65531, false, ReasonNone}, {2, false, ReasonNone}, {1, false, ReasonNone},
			{65535, false, ReasonNone}, {65532, false, ReasonReplay}, {0, false, ReasonReplay}, {3, false, ReasonNone}}},
		{"forged far ahead", []step{{1000, false, ReasonNone}, {20000, true, ReasonAuth}, {1001, false, ReasonNone},
			{1002, true, ReasonAuth}, {1002, false, ReasonNone}, {1002, false, ReasonReplay}}},
		{"forged next ROC", []step{{65000, false, ReasonNone}, {100, true, ReasonAuth}, {65001, false, ReasonNone},
			{100, false, ReasonNone}, {65002, false, ReasonReplay}, {101, false, ReasonNone}}},
		{"forged first packet", []step{{5, true, ReasonAuth}, {5, false, ReasonNone}, {4, false, ReasonNone}}},
	}
	for _, p := range bothProfiles {
		for _, tt := range tests {
			peer, ours, ref := inboundPair(t, p)
			forger, _, _ := inboundPair(t, p)
			for i, st := range tt.steps {
				plain := buildRTP(rtpSpec{ssrc: 9, seq: st.seq, payload: 40})
				from := peer
				if st.forged {
					from = forger
				}
				enc, err := from.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if st.forged {
					enc[len(enc)-1] ^= 0x40
				}
				want := rxResult{reason: st.want}
				if st.want == ReasonNone {
					want.plain = string(plain)
				}
				for name, rx := range map[string]*Context{"ours": ours, "pion": ref} {
					if got := receive(rx, enc, false, true); got != want {
						t.Errorf("%s %s step %d seq %d: %s %s, want %s", p, tt.name, i, st.seq, name, got.reason, want.reason)
					}
				}
			}
		}
	}
}

// TestDecryptRTPTampered: flipping any bit of an SRTP packet gets it dropped as forged (or, for
// some header bits, as unparsable), and the receiver's state does not move: the genuine packet
// still decrypts afterwards. Then every truncation: below header+tag it is malformed.
func TestDecryptRTPTampered(t *testing.T) {
	for _, p := range bothProfiles {
		peer, ours, ref := inboundPair(t, p)
		plain := buildRTP(rtpSpec{ssrc: 3, seq: 40000, csrcs: 1, ext: extOneByte, payload: 20})
		h, _ := rtpHeaderLen(plain)
		enc, _ := peer.EncryptRTP(nil, plain, nil)
		tagLen, _ := p.Overhead()
		for bit := range 8 * len(enc) {
			bad := bytes.Clone(enc)
			bad[bit/8] ^= 1 << (bit % 8)
			want := ReasonAuth
			// A flipped CC or extension length may leave no valid header, or no room for the tag.
			if badH, err := rtpHeaderLen(bad); bit < 8*h && (err != nil || badH+tagLen > len(bad)) {
				want = ReasonMalformed
			}
			got, gotRef := receive(ours, bad, false, true), receive(ref, bad, false, true)
			if got != (rxResult{reason: want}) || gotRef != got {
				t.Errorf("%s bit %d: ours %s, pion %s, want %s", p, bit, got.reason, gotRef.reason, want)
			}
		}
		for n := range len(enc) {
			want := ReasonAuth
			if n < h+tagLen {
				want = ReasonMalformed
			}
			if got := receive(ours, enc[:n], false, true); got.reason != want {
				t.Errorf("%s truncated to %d: %s, want %s", p, n, got.reason, want)
			}
		}
		if ours.rtpIn.size() != 0 {
			t.Errorf("%s: rejected packets created SSRC state", p)
		}
		if got := receive(ours, enc, false, true); got.plain != string(plain) {
			t.Errorf("%s: genuine packet after the forgeries: %s", p, got.reason)
		}
	}
}

func TestDecryptRTPCryptexRejected(t *testing.T) {
	for _, p := range bothProfiles {
		_, ours, ref := inboundPair(t, p)
		pkt := append(withExt(0xc0de, 0x10, 0xaa, 0, 0), make([]byte, 40)...)
		for name, rx := range map[string]*Context{"ours": ours, "pion": ref} {
			if got := receive(rx, pkt, false, true); got.reason != ReasonMalformed {
				t.Errorf("%s %s: cryptex packet %s", p, name, got.reason)
			}
		}
	}
}

// TestDecryptBuffers: the buffer contract of DecryptRTP and DecryptRTCP.
func TestDecryptBuffers(t *testing.T) {
	for _, p := range bothProfiles {
		peer, ours, _ := inboundPair(t, p)
		rtpOver, rtcpOver := p.Overhead()
		for i, tt := range []struct {
			rtcp  bool
			plain []byte
		}{
			{false, buildRTP(rtpSpec{ssrc: 1, seq: 1, payload: 100})},
			{false, buildRTP(rtpSpec{ssrc: 1, seq: 2, payload: 100})},
			{false, buildRTP(rtpSpec{ssrc: 1, seq: 3, payload: 100})},
			{true, []byte{0x81, 201, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}},
			{true, []byte{0x81, 201, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}},
			{true, []byte{0x81, 201, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 3, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}},
		} {
			enc, _ := peer.EncryptRTP(nil, tt.plain, nil)
			decrypt, over := ours.DecryptRTP, rtpOver
			if tt.rtcp {
				enc, _ = peer.EncryptRTCP(nil, tt.plain, nil)
				decrypt, over = ours.DecryptRTCP, rtcpOver
			}
			orig := bytes.Clone(enc)
			var dst []byte
			switch i % 3 {
			case 0: // in place
				dst = enc[:0]
			case 1: // separate buffer with room; its length is ignored
				dst = make([]byte, 5, len(enc))
			case 2: // too small: a new slice
				dst = make([]byte, 0, len(enc)-over-1)
			}
			out, err := decrypt(dst, enc)
			if err != nil || !bytes.Equal(out, tt.plain) || len(out) != len(enc)-over {
				t.Fatalf("%s case %d: %v %x", p, i, err, out)
			}
			if same := &out[0] == &dst[:1][0]; same != (i%3 != 2) {
				t.Errorf("%s case %d: result in dst %v", p, i, same)
			}
			if i%3 != 0 && !bytes.Equal(enc, orig) {
				t.Errorf("%s case %d: decrypting out of place changed src", p, i)
			}
		}
	}
}

func TestDecryptNoAllocs(t *testing.T) {
	for _, p := range bothProfiles {
		for _, inPlace := range []bool{true, false} {
			peer, ours, _ := inboundPair(t, p)
			const runs = 300
			var rtpPkts, rtcpPkts [][]byte
			for i := range runs + 3 {
				plain := buildRTP(rtpSpec{ssrc: uint32(i % 3), seq: uint16(65400 + 7*i), ext: extOneByte, payload: 1000})
				enc, _ := peer.EncryptRTP(make([]byte, 0, 1500), plain, nil)
				rtpPkts = append(rtpPkts, enc)
				enc, _ = peer.EncryptRTCP(make([]byte, 0, 1500), []byte{0x80, 200, 0, 1, 0, 0, 0, byte(i % 3)}, nil)
				rtcpPkts = append(rtcpPkts, enc)
			}
			dst := make([]byte, 0, 1500)
			i := 0
			step := func() {
				r, c := rtpPkts[i], rtcpPkts[i]
				i++
				if inPlace {
					_, err1 := ours.DecryptRTP(r[:0], r)
					_, err2 := ours.DecryptRTCP(c[:0], c)
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					return
				}
				_, err1 := ours.DecryptRTP(dst, r)
				_, err2 := ours.DecryptRTCP(dst, c)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
			}
			step()
			step()
			step() // the three SSRCs are known
			if n := testing.AllocsPerRun(runs-1, step); n != 0 {
				t.Errorf("%s in place %v: %v allocations per packet pair", p, inPlace, n)
			}
			// Rejections do not allocate either (replays of the packets just accepted).
			i = 3
			if n := testing.AllocsPerRun(runs-1, func() {
				r := rtpPkts[i]
				i++
				if _, err := ours.DecryptRTP(dst, r); ReasonOf(err) != ReasonReplay {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%s: %v allocations per rejected packet", p, n)
			}
		}
	}
}

// RFC 7714 §16.1.1 in reverse: the AEAD_AES_128_GCM SRTP packet decrypts to the plaintext.
func TestDecryptGCMRFC7714(t *testing.T) {
	e, err := newSessionEncrypter(ProfileAEADAES128GCM, unhex(t, "000102030405060708090a0b0c0d0e0f"),
		unhex(t, "517569642070726f2071756f"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
		69736120 696e2070 61727465 73207472 6573`)
	enc := unhex(t, `8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
		0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`)
	var seen replayTable
	got, err := decryptSRTP(e, &seen, nil, bytes.Clone(enc))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%v\n got %x\nwant %x", err, got, want)
	}
	enc[20] ^= 1
	if _, err := decryptSRTP(e, &replayTable{}, nil, enc); ReasonOf(err) != ReasonAuth {
		t.Fatalf("corrupted vector: %v", err)
	}
}

// RFC 3711 Appendix B.2 in reverse: a payload that is the keystream for SSRC 0, index 0
// decrypts to zeros. The tag is computed here with crypto/hmac over header, payload and ROC
// (RFC 3711 §4.2), independently of the package's MAC code.
func TestDecryptKeystreamRFC3711(t *testing.T) {
	authKey := bytes.Repeat([]byte{0x5a}, 20)
	e, err := newSessionEncrypter(ProfileAES128CMHMACSHA1_80, unhex(t, "2B7E151628AED2A6ABF7158809CF4F3C"),
		unhex(t, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), authKey)
	if err != nil {
		t.Fatal(err)
	}
	keystream := unhex(t, `E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
		41E95B3BB0A2E8DD477901E4FCA894C0`)
	pkt := append([]byte{0x80, 0x0f, 0, 0, 0xde, 0xca, 0xfb, 0xad, 0, 0, 0, 0}, keystream...)
	mac := hmac.New(sha1.New, authKey)
	mac.Write(pkt)
	mac.Write([]byte{0, 0, 0, 0}) // ROC
	enc := append(bytes.Clone(pkt), mac.Sum(nil)[:10]...)
	var seen replayTable
	got, err := decryptSRTP(e, &seen, enc[:0], enc)
	want := append(bytes.Clone(pkt[:12]), make([]byte, len(keystream))...)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%v\n got %X\nwant %X", err, got, want)
	}
}

// A newInbound context for a profile that is not ours decrypts through pion, as before.
func TestInboundOtherProfile(t *testing.T) {
	const aes256GCM = Profile(pionsrtp.ProtectionProfileAeadAes256Gcm)
	k := Keys{Profile: aes256GCM, RemoteKey: make([]byte, 32), RemoteSalt: make([]byte, 12)}
	rx, err := NewInbound(k)
	if err != nil || rx.rtp.enabled() || rx.rtcpIn.enabled() {
		t.Fatalf("%v", err)
	}
	peer, _ := pionsrtp.CreateContext(k.RemoteKey, k.RemoteSalt, pionsrtp.ProtectionProfileAeadAes256Gcm)
	plain := rtpPacket(5, 50)
	enc, _ := peer.EncryptRTP(nil, plain, nil)
	if got := receive(rx, enc, false, true); got.plain != string(plain) {
		t.Fatalf("AES-256-GCM via pion: %s", got.reason)
	}
}

func TestReasonOf(t *testing.T) {
	tests := []struct {
		err  error
		want Reason
	}{
		{nil, ReasonNone},
		{errAuthFailed, ReasonAuth},
		{errReplayed, ReasonReplay},
		{fmt.Errorf("endpoint x: %w", errReplayed), ReasonReplay},
		{errTooShort, ReasonMalformed},
		{errRTPExtBody, ReasonMalformed},
		{errCryptex, ReasonMalformed},
		{errMalformedRTCP, ReasonMalformed},
		{errTooManyInboundSSRCs, ReasonMalformed},
		{pionsrtp.ErrFailedToVerifyAuthTag, ReasonAuth},
		{errors.New("something else"), ReasonMalformed},
	}
	for _, tt := range tests {
		if got := ReasonOf(tt.err); got != tt.want {
			t.Errorf("ReasonOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = ReasonOf(errReplayed) + ReasonOf(errAuthFailed) }); n != 0 {
		t.Errorf("ReasonOf allocates %v times", n)
	}
}
