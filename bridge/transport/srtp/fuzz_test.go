package srtp

import (
	"bytes"
	"encoding/binary"
	"testing"
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
