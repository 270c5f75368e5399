package ice

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	pionice "github.com/pion/ice/v4"
)

type sentDatagram struct {
	b  string
	to netip.AddrPort
}

type fakeSender struct {
	mu   sync.Mutex
	sent []sentDatagram
}

func (s *fakeSender) WriteTo(b []byte, to netip.AddrPort) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, sentDatagram{string(b), to})
	return len(b), nil
}

func TestMux(t *testing.T) {
	v4 := netip.MustParseAddrPort("192.0.2.2:10000")
	v6 := netip.MustParseAddrPort("[2001:db8::2]:10000")
	snd := &fakeSender{}
	var notified []netip.AddrPort
	m := NewMux("ufrag", []netip.AddrPort{v4, netip.MustParseAddrPort("192.0.2.3:10000"), v6}, snd,
		func(a netip.AddrPort) { notified = append(notified, a) })

	wantListen := []net.Addr{net.UDPAddrFromAddrPort(v4), net.UDPAddrFromAddrPort(v6)}
	if got := m.GetListenAddresses(); !reflect.DeepEqual(got, wantListen) {
		t.Fatalf("listen %v, want one address per family %v", got, wantListen)
	}
	if _, err := m.GetConn("other", wantListen[0]); !errors.Is(err, ErrUfragMismatch) {
		t.Fatalf("GetConn for another ufrag: %v", err)
	}
	c4, err := m.GetConn("ufrag", wantListen[0])
	if err != nil {
		t.Fatal(err)
	}
	c6, _ := m.GetConn("ufrag", wantListen[1])

	// Datagrams delivered before pion reads are queued per family.
	from4 := netip.MustParseAddrPort("198.51.100.1:5000")
	from6 := netip.MustParseAddrPort("[2001:db8::9]:6000")
	if !m.Deliver([]byte("v4"), from4) || !m.Deliver([]byte("v6"), from6) {
		t.Fatal("deliver refused")
	}
	buf := make([]byte, 100)
	rw := c4.(pionice.AddrPortReaderWriter)
	if n, from, err := rw.ReadFromAddrPort(buf); err != nil || string(buf[:n]) != "v4" || from != from4 {
		t.Fatalf("v4 read %q from %s: %v", buf[:n], from, err)
	}
	if n, from, err := c6.ReadFrom(buf); err != nil || string(buf[:n]) != "v6" || from.String() != from6.String() {
		t.Fatalf("v6 read %q from %s: %v", buf[:n], from, err)
	}

	// A full queue refuses instead of blocking the socket reader.
	for i := range muxQueueLen {
		if !m.Deliver([]byte{byte(i)}, from4) {
			t.Fatalf("deliver %d refused", i)
		}
	}
	if m.Deliver([]byte("x"), from4) {
		t.Fatal("deliver to a full queue accepted")
	}

	// Writes go to the sender, after the onSend hook.
	mapped := netip.AddrPortFrom(netip.AddrFrom16(from4.Addr().As16()), from4.Port())
	if _, err := rw.WriteToAddrPort([]byte("check"), mapped); err != nil {
		t.Fatal(err)
	}
	if want := []sentDatagram{{"check", from4}}; !reflect.DeepEqual(snd.sent, want) || !reflect.DeepEqual(notified, []netip.AddrPort{from4}) {
		t.Fatalf("sent %v notified %v", snd.sent, notified)
	}

	// A passed read deadline unblocks the reader (pion aborts its read loop this way).
	_ = c6.SetDeadline(time.Now().Add(-time.Second))
	if _, _, err := c6.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after deadline: %v", err)
	}

	// After the agent removes its ufrag, the conns are closed; GetConn makes fresh ones.
	m.RemoveConnByUfrag("ufrag")
	if _, _, err := c4.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := c4.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(from4)); err == nil {
		t.Fatal("write after close succeeded")
	}
	c4b, err := m.GetConn("ufrag", wantListen[0])
	if err != nil || c4b == c4 {
		t.Fatalf("GetConn after close: %v (same conn %v)", err, c4b == c4)
	}
	_ = m.Close()
	if m.Deliver([]byte("late"), from4) {
		t.Fatal("deliver after Close accepted")
	}
	if _, err := m.GetConn("ufrag", wantListen[0]); err == nil {
		t.Fatal("GetConn after Close succeeded")
	}
}

func TestToPion(t *testing.T) {
	tests := []struct {
		name string
		in   Candidate
		want string // pion's Marshal of the result
	}{
		{"host", Candidate{Foundation: "1", Component: 1, Priority: 2130706431, Type: TypeHost,
			Addr: netip.MustParseAddr("192.0.2.7"), Port: 50000},
			"1 1 udp 2130706431 192.0.2.7 50000 typ host"},
		{"srflx", Candidate{Foundation: "2", Component: 1, Priority: 1694498815, Type: TypeSrflx,
			Addr: netip.MustParseAddr("203.0.113.7"), Port: 4000, RelAddr: netip.MustParseAddr("10.0.0.5"), RelPort: 10000},
			"2 1 udp 1694498815 203.0.113.7 4000 typ srflx raddr 10.0.0.5 rport 10000"},
		{"ipv6 defaults", Candidate{Priority: 7, Addr: netip.MustParseAddr("2001:db8::1"), Port: 9},
			"0 1 udp 7 2001:db8::1 9 typ host"},
	}
	for _, tt := range tests {
		pc, err := ToPion(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := pc.Marshal(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		if got, want := AddrPortOf(pc), netip.AddrPortFrom(tt.in.Addr, uint16(tt.in.Port)); got != want {
			t.Errorf("%s: AddrPortOf %s, want %s", tt.name, got, want)
		}
	}
	if _, err := ToPion(Candidate{Type: "bogus", Addr: netip.MustParseAddr("192.0.2.1"), Port: 1}); err == nil {
		t.Error("unknown candidate type accepted")
	}
}
