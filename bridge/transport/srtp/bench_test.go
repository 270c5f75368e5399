package srtp

import (
	"encoding/binary"
	"testing"

	pionsrtp "github.com/pion/srtp/v3"
)

// impls are the outbound RTP implementations compared by the benchmarks. "seal-only" (GCM
// only) is the floor: the AES-GCM seal of the payload with the header as AAD and nothing
// else, so "ours" and "pion" minus it is each one's per-packet overhead.
var impls = []struct {
	name string
	pion bool
	seal bool
}{{"ours", false, false}, {"pion", true, false}, {"seal-only", false, true}}

// encryptFunc returns the packet operation a benchmark times for impl.
func encryptFunc(tx *Context, sealOnly bool) func(dst, pkt []byte) ([]byte, error) {
	if !sealOnly {
		return tx.EncryptRTP
	}
	aead, nonce := tx.rtp.aead, tx.rtp.iv[:12]
	return func(dst, pkt []byte) ([]byte, error) {
		dst = append(dst[:0], pkt[:12]...)
		return aead.Seal(dst, nonce, pkt[12:], pkt[:12]), nil
	}
}

func outbound(b *testing.B, p Profile, pion bool) *Context {
	c, _ := pair(b, p)
	tx, err := newOutbound(c, pion)
	if err != nil {
		b.Fatal(err)
	}
	return tx
}

// BenchmarkEncryptRTP: one 1200-byte RTP packet encrypted into a caller buffer, ours vs pion.
func BenchmarkEncryptRTP(b *testing.B) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		for _, impl := range impls {
			if impl.seal && p != ProfileAEADAES128GCM {
				continue
			}
			b.Run(p.String()+"/"+impl.name, func(b *testing.B) {
				encrypt := encryptFunc(outbound(b, p, impl.pion), impl.seal)
				pkt := rtpPacket(0, 1188)
				dst := make([]byte, 0, 1500)
				b.ReportAllocs()
				b.SetBytes(int64(len(pkt)))
				seq := uint16(0)
				for b.Loop() {
					seq++
					pkt[2], pkt[3] = byte(seq>>8), byte(seq)
					if _, err := encrypt(dst, pkt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEncryptRTPReceivers: the lecture pattern, one packet forwarded to 100 receivers in
// turn, each with its own context and three SSRCs (audio, video, RTX), so per-receiver state
// is cold when its turn comes. ns/op is per encrypted packet; "video" is a 1200-byte payload,
// "audio" a 100-byte one (an Opus frame), where the per-packet overhead weighs more.
func BenchmarkEncryptRTPReceivers(b *testing.B) {
	for _, p := range []Profile{ProfileAEADAES128GCM, ProfileAES128CMHMACSHA1_80} {
		for _, size := range []struct {
			name    string
			payload int
		}{{"video", 1188}, {"audio", 100}} {
			for _, impl := range impls {
				if impl.seal && p != ProfileAEADAES128GCM {
					continue
				}
				b.Run(p.String()+"/"+size.name+"/"+impl.name, func(b *testing.B) {
					benchReceivers(b, p, impl.pion, impl.seal, size.payload)
				})
			}
		}
	}
}

func benchReceivers(b *testing.B, p Profile, pion, sealOnly bool, payload int) {
	const receivers = 100
	ssrcs := []uint32{0x11111111, 0x22222222, 0x33333333}
	txs := make([]func(dst, pkt []byte) ([]byte, error), receivers)
	bufs := make([][]byte, receivers)
	pkt := rtpPacket(0, payload)
	for i := range txs {
		txs[i] = encryptFunc(outbound(b, p, pion), sealOnly)
		bufs[i] = make([]byte, 0, 1500)
		for _, ssrc := range ssrcs { // all three SSRCs known before timing
			binary.BigEndian.PutUint32(pkt[8:], ssrc)
			if _, err := txs[i](bufs[i], pkt); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	i, seq := 0, uint16(0)
	for b.Loop() {
		if i == 0 {
			seq++
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[8:], ssrcs[seq%3])
		}
		if _, err := txs[i](bufs[i], pkt); err != nil {
			b.Fatal(err)
		}
		if i++; i == receivers {
			i = 0
		}
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

// decryptImpls are the inbound implementations compared by the decrypt benchmarks.
var decryptImpls = []struct {
	name string
	pion bool
}{{"ours", false}, {"pion", true}}

// BenchmarkDecryptRTP: one 1200-byte SRTP packet (encrypted by pion) verified and decrypted
// into a caller buffer, replay protection on, ours vs pion. "open-only" (GCM) is the floor:
// the IV and the AES-GCM Open of the payload with the header as AAD, nothing else.
func BenchmarkDecryptRTP(b *testing.B) {
	for _, p := range bothProfiles {
		for _, impl := range decryptImpls {
			b.Run(p.String()+"/"+impl.name, func(b *testing.B) { benchDecrypt(b, p, impl.pion, false, 1188, 1) })
		}
	}
	b.Run(ProfileAEADAES128GCM.String()+"/open-only", func(b *testing.B) {
		_, ours, _ := inboundPair(b, ProfileAEADAES128GCM)
		peer, _, _ := inboundPair(b, ProfileAEADAES128GCM)
		pkt, _ := peer.EncryptRTP(nil, rtpPacket(1, 1188), nil)
		e, dst := &ours.rtp, make([]byte, 0, 1500)
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			e.setIV(binary.BigEndian.Uint32(pkt[8:]), 0, binary.BigEndian.Uint16(pkt[2:]))
			if _, err := e.aead.Open(dst[:12], e.iv[:12], pkt[12:], pkt[:12]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecryptRTPSenders: the socket reader's pattern, packets from 100 endpoints in
// turn, each with its own inbound context (three SSRCs each), so every packet finds its
// context's state cold. ns/op is per 1200-byte packet.
func BenchmarkDecryptRTPSenders(b *testing.B) {
	for _, p := range bothProfiles {
		for _, impl := range decryptImpls {
			b.Run(p.String()+"/"+impl.name, func(b *testing.B) { benchDecrypt(b, p, impl.pion, false, 1188, 100) })
		}
	}
}

// BenchmarkDecryptRTCP: one 100-byte SRTCP packet, ours vs pion.
func BenchmarkDecryptRTCP(b *testing.B) {
	for _, p := range bothProfiles {
		for _, impl := range decryptImpls {
			b.Run(p.String()+"/"+impl.name, func(b *testing.B) { benchDecrypt(b, p, impl.pion, true, 100, 1) })
		}
	}
}

// benchDecrypt decrypts a pool of packets (payload bytes of RTP payload, or RTCP packets of
// that size) out of place, each packet once per sender context; when the pool is used up the
// contexts are replaced with the timer stopped, since a packet may be accepted only once.
func benchDecrypt(b *testing.B, p Profile, pion, rtcp bool, payload, senders int) {
	c, s := pair(b, p)
	peer, err := pionsrtp.CreateContext(c.LocalKey, c.LocalSalt, pionsrtp.ProtectionProfile(p))
	if err != nil {
		b.Fatal(err)
	}
	rounds := 512
	if senders > 1 {
		rounds = 64
	}
	pool := make([][]byte, rounds)
	for i := range pool {
		if rtcp {
			pkt := make([]byte, payload) // an RR-shaped packet of the given size
			pkt[0], pkt[1], pkt[3], pkt[7] = 0x81, 201, byte(payload/4-1), byte(i%3)
			pool[i], err = peer.EncryptRTCP(nil, pkt, nil)
		} else {
			pkt := rtpPacket(uint16(i), payload)
			pkt[11] = byte(i % 3)
			pool[i], err = peer.EncryptRTP(nil, pkt, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	newRxs := func() []func(dst, src []byte) ([]byte, error) {
		rxs := make([]func(dst, src []byte) ([]byte, error), senders)
		for i := range rxs {
			rx, err := newInbound(s, pion)
			if err != nil {
				b.Fatal(err)
			}
			rxs[i] = rx.DecryptRTP
			if rtcp {
				rxs[i] = rx.DecryptRTCP
			}
		}
		return rxs
	}
	rxs := newRxs()
	dst := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(pool[0])))
	k := 0
	for b.Loop() {
		if k == senders*rounds {
			b.StopTimer()
			rxs, k = newRxs(), 0
			b.StartTimer()
		}
		if _, err := rxs[k%senders](dst, pool[k/senders]); err != nil {
			b.Fatal(err)
		}
		k++
	}
}
