package endpoint

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/srtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

type nopHandler struct{ n int }

func (h *nopHandler) OnRTP([]byte)          { h.n++ }
func (h *nopHandler) OnRTCP([]byte)         {}
func (h *nopHandler) OnICEState(ICEState)   {}
func (h *nopHandler) OnDTLSState(DTLSState) {}

type fakeExporter struct{}

func (fakeExporter) ExportKeyingMaterial(_ string, _ []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(i * 13)
	}
	return out, nil
}

// benchTransport is a Transport with SRTP installed and a destination selected, without ICE:
// the media path in isolation. peerTx encrypts as the remote would.
func benchTransport(b *testing.B, p srtp.Profile, sock *udp.Socket, dst netip.AddrPort) (*Transport, *srtp.Context) {
	b.Helper()
	ours, err := srtp.KeysFromDTLS(fakeExporter{}, p, false)
	if err != nil {
		b.Fatal(err)
	}
	theirs, _ := srtp.KeysFromDTLS(fakeExporter{}, p, true)
	rx, _ := srtp.NewInbound(ours)
	tx, _ := srtp.NewOutbound(ours)
	peerTx, _ := srtp.NewOutbound(theirs)
	t := &Transport{sock: sock, h: &nopHandler{}}
	t.rx.Store(rx)
	t.tx.Store(tx)
	t.dst.Store(&dst)
	return t, peerTx
}

func rtp1200(seq uint16) []byte {
	pkt := make([]byte, 1200)
	pkt[0], pkt[1] = 0x80, 96
	binary.BigEndian.PutUint16(pkt[2:], seq)
	binary.BigEndian.PutUint32(pkt[8:], 0xabcdef01)
	return pkt
}

var profiles = []srtp.Profile{srtp.ProfileAEADAES128GCM, srtp.ProfileAES128CMHMACSHA1_80}

// BenchmarkWriteRTP: the egress cost per 1200-byte packet: pooled buffer, SRTP encryption
// into it and the non-blocking enqueue to the socket writer (whose sendmmsg runs on its own
// goroutine; packets it could not keep up with are reported as drops/op).
func BenchmarkWriteRTP(b *testing.B) {
	for _, p := range profiles {
		b.Run(p.String(), func(b *testing.B) {
			sock, err := udp.Listen(0, udp.Options{Addr: netip.MustParseAddr("127.0.0.1")})
			if err != nil {
				b.Fatal(err)
			}
			defer sock.Close()
			sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			t, _ := benchTransport(b, p, sock, sink.LocalAddr().(*net.UDPAddr).AddrPort())
			pkt := rtp1200(0)
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			seq := uint16(0)
			for b.Loop() {
				seq++
				binary.BigEndian.PutUint16(pkt[2:], seq)
				t.WriteRTP(pkt)
			}
			b.ReportMetric(float64(t.Stats().Dropped(DropSendQueue))/float64(b.N), "drops/op")
		})
	}
}

// BenchmarkReceiveRTP: the remote's encryption of a 1200-byte packet plus our ingress
// (HandleDatagram: SRTP decrypt in place, replay check, handler call). Subtract
// srtp.BenchmarkEncryptRTP for the ingress alone.
func BenchmarkReceiveRTP(b *testing.B) {
	for _, p := range profiles {
		b.Run(p.String(), func(b *testing.B) {
			t, peerTx := benchTransport(b, p, nil, netip.AddrPort{})
			pkt := rtp1200(0)
			buf := make([]byte, 0, udp.MTU)
			from := netip.MustParseAddrPort("192.0.2.1:5000")
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			seq := uint16(0)
			for b.Loop() {
				seq++
				binary.BigEndian.PutUint16(pkt[2:], seq)
				enc, err := peerTx.EncryptRTP(buf, pkt)
				if err != nil {
					b.Fatal(err)
				}
				t.HandleDatagram(rtp.KindRTP, enc, from, 1)
			}
			if got := t.Stats().RTPReceived; got != uint64(b.N) {
				b.Fatalf("received %d of %d: %+v", got, b.N, t.Stats())
			}
		})
	}
}
