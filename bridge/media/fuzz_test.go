package media

import (
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// FuzzIngress feeds arbitrary decrypted datagrams to an endpoint's ingress (RTP when the
// first input byte is even, RTCP when odd) and runs every egress: whatever a client sends
// inside SRTP is untrusted. Nothing may panic, and the media path must keep working.
func FuzzIngress(f *testing.F) {
	fx := newFixture(f, true)
	a := fx.add(jicofoEndpoint("a", 1000, true))
	b := fx.add(jicofoEndpoint("b", 2000, true))
	fx.add(jicofoEndpoint("c", 3000, false))
	b.SetConstraints(720, nil)
	s := simulcastSender{base: 1000}
	for _, p := range s.next(true) {
		f.Add(append([]byte{0}, p...))
	}
	f.Add(append([]byte{0}, rtpPkt{ssrc: 1011, pt: 96, seq: 9, payload: []byte{0, 3, 0x90, 0xe0, 0x80, 1, 0, 0, 0x11}}.bytes()...))
	f.Add(append([]byte{0}, rtpPkt{ssrc: 1000, pt: 111, seq: 1, exts: []rtp.Ext{{ID: 1, Data: []byte{5}}}, payload: []byte("o")}.bytes()...))
	f.Add(append([]byte{1}, rtp.AppendNACK(nil, 2000, 1001, []uint16{1, 2, 3, 40})...))
	f.Add(append([]byte{1}, rtp.AppendPLI(nil, 2000, 1001)...))
	f.Add(append([]byte{1}, rtp.AppendFIR(nil, 2000, 1002, 4)...))
	f.Add(append([]byte{1}, rtp.AppendSR(nil, rtp.SenderInfo{SSRC: 1001, NTPTime: 1, RTPTime: 2}, rtp.ReportBlock{SSRC: 9})...))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 1 {
			return
		}
		pkt := append([]byte(nil), in[1:]...)
		from := a
		if in[0]&2 != 0 {
			from = b
		}
		if in[0]&1 == 0 {
			from.OnRTP(pkt)
		} else {
			from.OnRTCP(pkt)
		}
		fx.advance(10 * time.Millisecond)
		fx.drain()
		fx.trs["a"].take()
		fx.trs["b"].take()
		fx.trs["c"].take()
	})
}
