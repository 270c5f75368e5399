package udp

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
)

// BenchmarkDemux measures classification, route lookup and dispatch of one 1200-byte RTP
// datagram to a handler, as the reader goroutine does per datagram.
func BenchmarkDemux(b *testing.B) {
	s := &Socket{}
	h := &nopHandler{}
	tbl := emptyRoutes
	from := netip.MustParseAddrPort("192.0.2.1:40000")
	for i := range 1000 { // a busy bridge: many endpoints bound
		tbl = tbl.withAddrs(func(m map[netip.AddrPort]Handler) {
			m[netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 5000)] = &nopHandler{}
		})
	}
	tbl = tbl.withAddrs(func(m map[netip.AddrPort]Handler) { m[from] = h })
	s.routes.Store(tbl)
	d := rtpDatagram(1, 1200)
	b.ReportAllocs()
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		if !s.dispatch(d, from, 1) {
			b.Fatal("not delivered")
		}
	}
}

// BenchmarkDemuxSTUN measures routing a STUN check by its USERNAME.
func BenchmarkDemuxSTUN(b *testing.B) {
	s := &Socket{}
	tbl := emptyRoutes
	for i := range 1000 {
		tbl = tbl.withUfrag("jvb:"+string(rune('a'+i%26))+string(rune('a'+i/26)), &nopHandler{})
	}
	tbl = tbl.withUfrag("jvb:target", &nopHandler{})
	s.routes.Store(tbl)
	d := stunMsg(stunMagicCookie, 0x0024, "prio", stunAttrUser, "jvb:target:remoteufrag")
	from := netip.MustParseAddrPort("192.0.2.1:40000")
	b.ReportAllocs()
	for b.Loop() {
		if !s.dispatch(d, from, 1) {
			b.Fatal("not delivered")
		}
	}
}

// BenchmarkSocketSend measures the writer goroutine's throughput: 1200-byte datagrams queued
// as fast as the queue takes them and sent with sendmmsg to a loopback socket (ns/op is the
// time per datagram actually sent).
func BenchmarkSocketSend(b *testing.B) {
	s, err := Listen(0, Options{Addr: netip.MustParseAddr("127.0.0.1"), WriteBuffer: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// An unread sink: the kernel drops at its full receive buffer, so only the send is timed.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	b.ReportAllocs()
	b.SetBytes(1200)
	base := s.Stats().Sent
	for b.Loop() {
		for len(s.sendq) == cap(s.sendq) {
			runtime.Gosched()
		}
		buf := GetBuffer()
		buf[0] = 0x80
		s.Enqueue(buf, 1200, to)
	}
	for s.Stats().Sent-base+s.Stats().Dropped(DropSendError) < uint64(b.N) {
		runtime.Gosched()
	}
	st := s.Stats()
	b.ReportMetric(float64(st.Sent-base)/float64(st.SendCalls), "datagrams/call")
	b.ReportMetric(float64(st.GSOSent)/float64(st.Sent), "gso-fraction")
}

// BenchmarkSendmmsg measures the batch writer alone: one call per 32 queued 1200-byte
// datagrams to one destination (ns/op is per datagram), with UDP GSO (one message per burst)
// and without (32 messages per sendmmsg).
func BenchmarkSendmmsg(b *testing.B) {
	for _, gso := range []bool{true, false} {
		b.Run(map[bool]string{true: "gso", false: "sendmmsg"}[gso], func(b *testing.B) {
			s, err := Listen(0, Options{Addr: netip.MustParseAddr("127.0.0.1")})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
			w := newBatchWriter(s.rc, s.conn, s.v6)
			if gso && !w.gso {
				b.Skip("no UDP GSO")
			}
			w.gso = gso
			var batch [batchSize]outDatagram
			for i := range batch {
				batch[i] = outDatagram{buf: GetBuffer(), n: 1200, to: to}
			}
			b.ReportAllocs()
			b.SetBytes(1200)
			n := 0
			for b.Loop() {
				if n++; n == batchSize {
					w.write(batch[:])
					n = 0
				}
			}
		})
	}
}
