package srtp

import (
	"testing"
)

// BenchmarkEncryptRTP: one 1200-byte RTP packet encrypted into a caller buffer.
func BenchmarkEncryptRTP(b *testing.B) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		b.Run(p.String(), func(b *testing.B) {
			tx, _ := contexts(b, p)
			pkt := rtpPacket(0, 1188)
			dst := make([]byte, 0, 1500)
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			seq := uint16(0)
			for b.Loop() {
				seq++
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				if _, err := tx.EncryptRTP(dst, pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncryptDecryptRTP: encrypt then decrypt in place (replay protection on), so the
// decrypt cost is this minus BenchmarkEncryptRTP.
func BenchmarkEncryptDecryptRTP(b *testing.B) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		b.Run(p.String(), func(b *testing.B) {
			tx, rx := contexts(b, p)
			pkt := rtpPacket(0, 1188)
			buf := make([]byte, 0, 1500)
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			seq := uint16(0)
			for b.Loop() {
				seq++
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				enc, err := tx.EncryptRTP(buf, pkt)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rx.DecryptRTP(enc[:0], enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
