package srtp

import (
	"bytes"
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
