package udp

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestBatchFlush sends more than batchSize datagrams through a caller-owned Batch (an
// automatic flush when full, then Flush) and checks they arrive in order and are counted;
// an Add after Close is a counted DropClosed.
func TestBatchFlush(t *testing.T) {
	s, err := Listen(0, Options{Addr: netip.MustParseAddr("127.0.0.1"), WriteBuffer: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	_ = peer.SetReadBuffer(1 << 20)
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	b := s.NewBatch()
	const total = batchSize + 5
	var want [][]byte
	for i := range total {
		d := rtpDatagram(i, 200+i)
		buf := GetBuffer()
		copy(buf[:], d)
		want = append(want, d)
		if !b.Add(buf, len(d), to) {
			t.Fatalf("Add %d refused", i)
		}
	}
	if b.Len() != total-batchSize {
		t.Fatalf("pending %d after auto-flush, want %d", b.Len(), total-batchSize)
	}
	b.Flush()
	b.Flush() // empty: no send call
	if b.Len() != 0 {
		t.Fatalf("pending %d after Flush", b.Len())
	}
	rb := make([]byte, 2000)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range want {
		m, err := peer.Read(rb)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(rb[:m], want[i]) {
			t.Fatalf("datagram %d: %d bytes, want %d", i, m, len(want[i]))
		}
	}
	st := s.Stats()
	if st.Sent != total || st.SendCalls != 2 || st.Dropped(DropSendError) != 0 {
		t.Fatalf("stats sent %d calls %d send errors %d, want %d, 2, 0", st.Sent, st.SendCalls, st.Dropped(DropSendError), total)
	}
	_ = s.Close()
	if b.Add(GetBuffer(), 10, to) {
		t.Fatal("Add after Close accepted")
	}
	if got := s.Stats().Dropped(DropClosed); got != 1 {
		t.Fatalf("DropClosed %d, want 1", got)
	}
}
