package srtp

import (
	"bytes"
	"encoding/binary"
	"testing"

	pionsrtp "github.com/pion/srtp/v3"
)

// FuzzDecrypt: arbitrary datagrams from the network never panic the decrypt path, and nothing
// but a packet our peer context encrypted is ever accepted.
func FuzzDecrypt(f *testing.F) {
	tx, _ := contexts(f, ProfileAEADAES128GCM)
	good, _ := tx.EncryptRTP(nil, rtpPacket(1, 20))
	goodRTCP, _ := tx.EncryptRTCP(nil, []byte{0x81, 200, 0, 1, 1, 2, 3, 4})
	f.Add(good)
	f.Add(goodRTCP)
	f.Add(rtpPacket(2, 0))
	f.Add([]byte{0x80})
	f.Add([]byte{0x90, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
			_, rx := contexts(t, p)
			in := bytes.Clone(b)
			if out, err := rx.DecryptRTP(in[:0], in); err == nil && !(p == ProfileAEADAES128GCM && bytes.Equal(b, good)) {
				t.Fatalf("%s accepted a forged RTP packet %x -> %x", p, b, out)
			}
			in = bytes.Clone(b)
			if _, err := rx.DecryptRTCP(in[:0], in); err == nil && !(p == ProfileAEADAES128GCM && bytes.Equal(b, goodRTCP)) {
				t.Fatalf("%s accepted a forged RTCP packet %x", p, b)
			}
			_ = ReasonOf(nil)
		}
	})
}

// FuzzEncryptRTP: arbitrary packets give the same SRTP bytes from our RTP transform and pion's,
// or an error from both. ops sends further copies of the packet, 3 bytes each: a signed step
// added to the sequence number, and an SSRC selector, to drive the rollover state through
// wraps, jumps of half the sequence space and late packets on a few interleaved SSRCs.
func FuzzEncryptRTP(f *testing.F) {
	keys := map[Profile]Keys{}
	for _, p := range bothProfiles {
		keys[p], _ = pair(f, p)
	}
	f.Add(buildRTP(rtpSpec{ssrc: 1, seq: 65534, ext: extOneByte, payload: 30}), []byte{0, 1, 0, 0, 1, 0, 0x80, 0x01, 0, 0x7f, 0xff, 1})
	f.Add(buildRTP(rtpSpec{ssrc: 2, csrcs: 3, ext: extTwoByte, padding: 2, payload: 1}), []byte{0x80, 0, 2, 0xff, 0xf0, 2})
	f.Add(buildRTP(rtpSpec{ext: extOpaque}), []byte{})
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x20, 0, 0}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, pkt, ops []byte) {
		if len(ops) > 3*64 {
			ops = ops[:3*64]
		}
		for _, p := range bothProfiles {
			ours, err1 := newOutbound(keys[p], false)
			ref, err2 := newOutbound(keys[p], true)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			pkt, ops := bytes.Clone(pkt), ops
			for {
				got, err := ours.EncryptRTP(nil, pkt)
				want, refErr := ref.EncryptRTP(nil, pkt)
				if (err == nil) != (refErr == nil) || !bytes.Equal(got, want) {
					t.Fatalf("%s %x:\nours %x %v\npion %x %v", p, pkt, got, err, want, refErr)
				}
				if len(ops) < 3 || len(pkt) < 12 {
					break
				}
				seq := binary.BigEndian.Uint16(pkt[2:]) + binary.BigEndian.Uint16(ops)
				binary.BigEndian.PutUint16(pkt[2:], seq)
				pkt[11] = ops[2] % 4
				ops = ops[3:]
			}
		}
	})
}

// agreeWithPion decrypts pkt with ours and with pion (each on its own copy, ours in place and
// out of place) and requires the same verdict and plaintext.
func agreeWithPion(t *testing.T, ours, oursOut, ref *Context, pkt []byte, rtcp bool) bool {
	t.Helper()
	want := receive(ref, pkt, rtcp, true)
	for _, got := range []rxResult{receive(ours, pkt, rtcp, true), receive(oursOut, pkt, rtcp, false)} {
		if (got.reason == ReasonNone) != (want.reason == ReasonNone) || got.plain != want.plain {
			t.Fatalf("rtcp=%v %x:\nours %s %x\npion %s %x", rtcp, pkt, got.reason, got.plain, want.reason, want.plain)
		}
	}
	return want.reason == ReasonNone
}

// FuzzDecryptRTP: arbitrary bytes from the network never panic our SRTP decryption, and it
// agrees with pion's on every packet. pkt is first received as is, then used as the plaintext
// of a stream the peer (pion) encrypts: each 3 bytes of ops add a step to the sequence number
// (wraps, reordering, late packets, jumps of half the space) and pick one of four SSRCs; the
// third byte's top bit corrupts one byte of the packet, bit 6 resends the previous packet.
func FuzzDecryptRTP(f *testing.F) {
	peer, _, _ := inboundPair(f, ProfileAEADAES128GCM)
	for _, s := range []rtpSpec{{ssrc: 1, seq: 65534, ext: extOneByte, payload: 30}, {ssrc: 2, csrcs: 3, ext: extTwoByte, padding: 2, payload: 1}} {
		plain := buildRTP(s)
		enc, _ := peer.EncryptRTP(nil, plain, nil)
		f.Add(enc, []byte{0, 1, 0, 0, 1, 1, 0xff, 0xfe, 2, 0, 3, 0x40, 0x80, 0, 3, 0, 1, 0x85})
		f.Add(plain, []byte{0x7f, 0xff, 1, 0x80, 0x01, 0, 0, 0, 0xc0, 0xff, 0xf0, 2})
	}
	f.Add(buildRTP(rtpSpec{ext: extOpaque}), []byte{})
	f.Add(withExt(0xc0de, 0x10, 1, 0, 0), []byte{0, 1, 0})
	f.Fuzz(func(t *testing.T, pkt, ops []byte) {
		if len(ops) > 3*48 {
			ops = ops[:3*48]
		}
		for _, p := range bothProfiles {
			peer, ours, ref := inboundPair(t, p)
			_, oursOut, _ := inboundPair(t, p)
			agreeWithPion(t, ours, oursOut, ref, pkt, false)
			plain, ops := bytes.Clone(pkt), ops
			var last []byte
			for ; len(ops) >= 3 && len(plain) >= 12; ops = ops[3:] {
				binary.BigEndian.PutUint16(plain[2:], binary.BigEndian.Uint16(plain[2:])+binary.BigEndian.Uint16(ops))
				plain[11] = ops[2] & 3
				enc, err := peer.EncryptRTP(nil, plain, nil)
				if err != nil {
					break
				}
				if ops[2]&0x40 != 0 && last != nil {
					enc = last
				}
				last = enc
				if ops[2]&0x80 != 0 {
					enc = bytes.Clone(enc)
					enc[int(ops[2]>>2&0xf)*7%len(enc)] ^= ops[0] | 1
				}
				agreeWithPion(t, ours, oursOut, ref, enc, false)
			}
		}
	})
}

// FuzzDecryptRTCP: the same for SRTCP. pkt is received as is, then used as the compound packet
// the peer encrypts. Each 3 bytes of ops: the low 2 bits of the first pick the SSRC; bit 2
// resends an earlier packet (the second byte says which); bit 3 sets the sender's index to
// the second byte shifted by the third (jumps past the window, up to 2^31-1); bit 7 corrupts
// one byte. The first op's bit 6 makes the peer send unencrypted SRTCP (E=0).
func FuzzDecryptRTCP(f *testing.F) {
	peer, _, _ := inboundPair(f, ProfileAEADAES128GCM)
	enc, _ := peer.EncryptRTCP(nil, rtcpSR(5), nil)
	f.Add(enc, []byte{0, 0, 0, 1, 0, 0, 4, 0, 0, 8, 3, 9, 0, 0, 0, 4, 1, 0})
	f.Add(rtcpRR(1), []byte{0x40, 0, 0, 0x81, 5, 0, 8, 0xff, 23, 0, 0, 0, 8, 1, 0})
	f.Add(rtcpPLI(2), []byte{})
	f.Add([]byte{0x80, 200, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x80, 0, 0, 1}, []byte{})
	f.Fuzz(func(t *testing.T, pkt, ops []byte) {
		if len(ops) > 3*48 {
			ops = ops[:3*48]
		}
		for _, p := range bothProfiles {
			var opts []pionsrtp.ContextOption
			if len(ops) > 0 && ops[0]&0x40 != 0 {
				opts = append(opts, pionsrtp.SRTCPNoEncryption())
			}
			peer, ours, ref := inboundPair(t, p, opts...)
			_, oursOut, _ := inboundPair(t, p)
			agreeWithPion(t, ours, oursOut, ref, pkt, true)
			plain, ops := bytes.Clone(pkt), ops
			var sent [][]byte
			for ; len(ops) >= 3 && len(plain) >= 8; ops = ops[3:] {
				ssrc := uint32(ops[0] & 3)
				binary.BigEndian.PutUint32(plain[4:], ssrc)
				if ops[0]&8 != 0 {
					peer.SetIndex(ssrc, min(uint32(ops[1])<<(ops[2]%24), 1<<31-2))
				}
				enc, err := peer.EncryptRTCP(nil, plain, nil)
				if err != nil {
					break
				}
				if ops[0]&4 != 0 && len(sent) > 0 {
					enc = sent[int(ops[1])%len(sent)]
				}
				sent = append(sent, enc)
				if ops[0]&0x80 != 0 {
					enc = bytes.Clone(enc)
					enc[int(ops[2])%len(enc)] ^= ops[1] | 1
				}
				agreeWithPion(t, ours, oursOut, ref, enc, true)
			}
		}
	})
}
