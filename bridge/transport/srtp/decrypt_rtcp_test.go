package srtp

import (
	"bytes"
	"encoding/binary"
	"testing"

	pionsrtp "github.com/pion/srtp/v3"
)

// RTCP packets for the tests (RFC 3550 §6.4, RFC 4585 §6): a compound SR + SDES, an RR with
// a report block, a PLI and a generic NACK, each from sender SSRC ssrc.
func rtcpSR(ssrc uint32) []byte {
	b := []byte{0x80, 200, 0, 6}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = append(b, 0xe9, 0x30, 0x4c, 0x75, 0x6e, 0x61, 0xde, 0xad, 0, 0, 0x04, 0x2a, 0, 0, 0, 9, 0, 0, 0x12, 0x34)
	// SDES with one CNAME chunk: SSRC, type 1, length 4, "abcd", end, padding to 32 bits.
	b = append(b, 0x81, 202, 0, 3)
	b = binary.BigEndian.AppendUint32(b, ssrc)
	return append(b, 1, 4, 'a', 'b', 'c', 'd', 0, 0)
}

func rtcpRR(ssrc uint32) []byte {
	b := []byte{0x81, 201, 0, 7}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = binary.BigEndian.AppendUint32(b, 0xa1a2a3a4)
	return append(b, 0x02, 0, 0, 5, 0, 1, 0x10, 0x20, 0, 0, 0, 30, 1, 2, 3, 4, 0, 0, 0, 7)
}

func rtcpPLI(ssrc uint32) []byte {
	b := []byte{0x81, 206, 0, 2}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	return binary.BigEndian.AppendUint32(b, 0xa1a2a3a4)
}

func rtcpNACK(ssrc uint32) []byte {
	b := []byte{0x81, 205, 0, 3}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = binary.BigEndian.AppendUint32(b, 0xa1a2a3a4)
	return append(b, 0x12, 0x34, 0x80, 0x01)
}

// rtcpOp is one step of an SRTCP sequence: send a new packet from SSRC ssrc (after setting
// the sender's index so the packet gets index setIndex, when non-zero), or resend the packet
// sent back steps ago.
type rtcpOp struct {
	ssrc     uint32
	setIndex uint32
	back     int
}

func rtcpSequence() []rtcpOp {
	var ops []rtcpOp
	for i := range 40 { // three senders interleaved
		ops = append(ops, rtcpOp{ssrc: uint32(1 + i%3)})
		if i%7 == 6 {
			ops = append(ops, rtcpOp{back: 1 + i%5}) // duplicates of recent packets
		}
	}
	return append(ops,
		rtcpOp{ssrc: 1, setIndex: 600}, rtcpOp{back: 10}, // sender 1 jumps: its older packets fall out
		rtcpOp{ssrc: 2, setIndex: 400}, rtcpOp{back: 2}, rtcpOp{ssrc: 2, setIndex: 100}, // reordered within the window
		rtcpOp{ssrc: 3, setIndex: 1<<31 - 1}, rtcpOp{ssrc: 3, setIndex: 1<<31 - 512}, rtcpOp{ssrc: 3, setIndex: 1<<31 - 513},
		rtcpOp{ssrc: 4, setIndex: 0}, rtcpOp{back: 1})
}

// TestDecryptRTCPMatchesPion: compound SRTCP packets encrypted by pion, encrypted (E=1) and
// not (E=0), on several SSRCs with duplicates, jumps and reordering: ours accepts and rejects
// exactly what pion does, with the same plaintext and reason, in place and out of place.
func TestDecryptRTCPMatchesPion(t *testing.T) {
	bodies := []func(uint32) []byte{rtcpSR, rtcpRR, rtcpPLI, rtcpNACK}
	for _, p := range bothProfiles {
		for _, encrypted := range []bool{true, false} {
			peer, ours, ref := inboundPair(t, p, srtcpOptions(encrypted)...)
			_, oursOut, _ := inboundPair(t, p)
			var sent [][]byte
			accepted := 0
			for i, op := range rtcpSequence() {
				var enc []byte
				if op.back > 0 {
					enc = sent[len(sent)-op.back]
				} else {
					if op.setIndex > 0 {
						peer.SetIndex(op.ssrc, op.setIndex-1)
					}
					var err error
					if enc, err = peer.EncryptRTCP(nil, bodies[i%len(bodies)](op.ssrc), nil); err != nil {
						t.Fatal(err)
					}
				}
				sent = append(sent, enc)
				want := receive(ref, enc, true, true)
				if want.reason == ReasonNone {
					accepted++
				}
				if got := receive(ours, enc, true, true); got != want {
					t.Fatalf("%s E=%v op %d %+v: ours %s %x\npion %s %x", p, encrypted, i, op, got.reason, got.plain, want.reason, want.plain)
				}
				if got := receive(oursOut, enc, true, false); got != want {
					t.Fatalf("%s E=%v op %d %+v out of place: ours %s, pion %s", p, encrypted, i, op, got.reason, want.reason)
				}
			}
			if accepted < 40 {
				t.Fatalf("%s E=%v: only %d packets accepted", p, encrypted, accepted)
			}
		}
	}
}

// TestDecryptRTCPReplay: the SRTCP replay window over the explicit index, per SSRC and
// independent of SRTP's; forged packets (corrupted tag) change nothing.
func TestDecryptRTCPReplay(t *testing.T) {
	type step struct {
		index  uint32
		forged bool
		want   Reason
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"window", []step{{1, false, ReasonNone}, {1, false, ReasonReplay}, {3, false, ReasonNone},
			{2, false, ReasonNone}, {600, false, ReasonNone}, {89, false, ReasonNone}, {88, false, ReasonReplay}}},
		{"forged far ahead", []step{{10, false, ReasonNone}, {5000, true, ReasonAuth}, {11, false, ReasonNone},
			{12, true, ReasonAuth}, {12, false, ReasonNone}}},
		{"highest index", []step{{1<<31 - 1, false, ReasonNone}, {1<<31 - 512, false, ReasonNone}, {1<<31 - 513, false, ReasonReplay}}},
	}
	for _, p := range bothProfiles {
		for _, tt := range tests {
			peer, ours, ref := inboundPair(t, p)
			// SRTP on the same SSRC first: the SRTCP window is separate.
			enc, _ := peer.EncryptRTP(nil, buildRTP(rtpSpec{ssrc: 9, seq: 2}), nil)
			if receive(ours, enc, false, true).reason != ReasonNone {
				t.Fatal("SRTP packet dropped")
			}
			for i, st := range tt.steps {
				plain := rtcpRR(9)
				peer.SetIndex(9, st.index-1)
				enc, err := peer.EncryptRTCP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if st.forged {
					enc[len(enc)-5] ^= 2
				}
				want := rxResult{reason: st.want}
				if st.want == ReasonNone {
					want.plain = string(plain)
				}
				for name, rx := range map[string]*Context{"ours": ours, "pion": ref} {
					if got := receive(rx, enc, true, true); got != want {
						t.Errorf("%s %s step %d index %d: %s %s, want %s", p, tt.name, i, st.index, name, got.reason, want.reason)
					}
				}
			}
		}
	}
}

// TestDecryptRTCPTampered: any flipped bit (header, payload, E flag, index, tag) is an auth
// failure, except the version bits, which make it not RTCP; no rejection changes the state;
// truncated below the header, tag and index it is malformed.
func TestDecryptRTCPTampered(t *testing.T) {
	for _, p := range bothProfiles {
		for _, encrypted := range []bool{true, false} {
			peer, ours, ref := inboundPair(t, p, srtcpOptions(encrypted)...)
			plain := rtcpSR(7)
			enc, _ := peer.EncryptRTCP(nil, plain, nil)
			for bit := range 8 * len(enc) {
				bad := bytes.Clone(enc)
				bad[bit/8] ^= 1 << (bit % 8)
				want := ReasonAuth
				if bit == 6 || bit == 7 {
					want = ReasonMalformed
				}
				got, gotRef := receive(ours, bad, true, true), receive(ref, bad, true, true)
				if got != (rxResult{reason: want}) || gotRef != got {
					t.Errorf("%s E=%v bit %d: ours %s, pion %s, want %s", p, encrypted, bit, got.reason, gotRef.reason, want)
				}
			}
			_, over := p.Overhead()
			for n := range len(enc) {
				want := ReasonAuth
				if n < 8+over {
					want = ReasonMalformed
				}
				if got := receive(ours, enc[:n], true, true); got.reason != want {
					t.Errorf("%s truncated to %d: %s, want %s", p, n, got.reason, want)
				}
			}
			if ours.rtcpIn.seen.size() != 0 {
				t.Errorf("%s: rejected packets created SSRC state", p)
			}
			if got := receive(ours, enc, true, true); got.plain != string(plain) {
				t.Errorf("%s E=%v: genuine packet after the forgeries: %s", p, encrypted, got.reason)
			}
		}
	}
}

// RFC 7714 §17 in reverse: the AEAD_AES_128_GCM SRTCP packet, encrypted (E=1) and
// authenticated only (E=0), SRTCP index 0x5d4, decrypts to the compound packet. The RFC uses
// the same session key and salt as its SRTP example.
func TestDecryptRTCPGCMRFC7714(t *testing.T) {
	want := unhex(t, `81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
		deadbeef deadbeef deadbeef deadbeef deadbeef`)
	tests := []struct {
		name string
		enc  string
	}{
		{"encrypted", `81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
			c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`},
		{"authenticated only", `81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
			deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4`},
	}
	for _, tt := range tests {
		// In place, into nil, and into a buffer of exactly the result's size (for E=0 out of
		// place that is 4 bytes short of what GCM needs for its AAD: a new slice).
		for _, dstKind := range []string{"in place", "nil", "exact"} {
			e, err := newSessionEncrypter(ProfileAEADAES128GCM, unhex(t, "000102030405060708090a0b0c0d0e0f"),
				unhex(t, "517569642070726f2071756f"), nil)
			if err != nil {
				t.Fatal(err)
			}
			d := &srtcpDecrypter{tf: *e}
			enc := unhex(t, tt.enc)
			var dst []byte
			switch dstKind {
			case "in place":
				dst = enc[:0]
			case "exact":
				dst = make([]byte, 0, len(want))
			}
			got, err := d.decrypt(dst, enc)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s %s: %v\n got %x\nwant %x", tt.name, dstKind, err, got, want)
			}
			if s, _, _ := d.seen.lookup(0x4d617273); s.head != 0x5d4 {
				t.Fatalf("%s: index %#x recorded", tt.name, s.head)
			}
		}
	}
}

// srtcpOptions are the peer's options for SRTCP sent encrypted (E=1) or not (E=0).
func srtcpOptions(encrypted bool) []pionsrtp.ContextOption {
	if encrypted {
		return nil
	}
	return []pionsrtp.ContextOption{pionsrtp.SRTCPNoEncryption()}
}
