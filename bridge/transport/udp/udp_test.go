package udp

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// stunMsg builds a STUN Binding request with the given attributes (type, value) in order.
func stunMsg(cookie uint32, attrs ...any) []byte {
	b := make([]byte, stunHeaderLen)
	binary.BigEndian.PutUint16(b[0:2], 0x0001)
	binary.BigEndian.PutUint32(b[4:8], cookie)
	for i := 0; i+1 < len(attrs); i += 2 {
		typ, val := attrs[i].(int), []byte(attrs[i+1].(string))
		b = binary.BigEndian.AppendUint16(b, uint16(typ))
		b = binary.BigEndian.AppendUint16(b, uint16(len(val)))
		b = append(b, val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)-stunHeaderLen))
	return b
}

func TestStunUsername(t *testing.T) {
	const priority, software = 0x0024, 0x8022
	tests := []struct {
		name string
		b    []byte
		user string
		ok   bool
	}{
		{"username first", stunMsg(stunMagicCookie, stunAttrUser, "jvb:abc:remote"), "jvb:abc:remote", true},
		{"after padded attrs", stunMsg(stunMagicCookie, software, "pion", priority, "abcde", stunAttrUser, "a:b"), "a:b", true},
		{"no username", stunMsg(stunMagicCookie, priority, "abcd"), "", false},
		{"no magic cookie (RFC 3489)", stunMsg(0x01020304, stunAttrUser, "a:b"), "", false},
		{"too short", []byte{0, 1, 0, 0}, "", false},
		{"length beyond datagram", func() []byte {
			b := stunMsg(stunMagicCookie, stunAttrUser, "a:b")
			binary.BigEndian.PutUint16(b[2:4], 400)
			return b
		}(), "", false},
		{"length not multiple of 4", func() []byte {
			b := stunMsg(stunMagicCookie, stunAttrUser, "a:b")
			binary.BigEndian.PutUint16(b[2:4], 6)
			return b
		}(), "", false},
		{"attribute overruns body", func() []byte {
			b := stunMsg(stunMagicCookie, stunAttrUser, "a:b")
			binary.BigEndian.PutUint16(b[22:24], 200)
			return b
		}(), "", false},
		{"not stun (first bits)", append([]byte{0x80}, stunMsg(stunMagicCookie, stunAttrUser, "a:b")[1:]...), "", false},
	}
	for _, tt := range tests {
		user, ok := stunUsername(tt.b)
		if string(user) != tt.user || ok != tt.ok {
			t.Errorf("%s: got %q,%v want %q,%v", tt.name, user, ok, tt.user, tt.ok)
		}
	}
}

type nopHandler struct{ id int }

func (*nopHandler) HandleDatagram(rtp.Kind, []byte, netip.AddrPort, int64) {}

func TestRoute(t *testing.T) {
	h1, h2 := &nopHandler{1}, &nopHandler{2}
	a1 := netip.MustParseAddrPort("192.0.2.10:5000")
	a2 := netip.MustParseAddrPort("[2001:db8::1]:6000")
	tbl := &routeTable{
		ufrags: map[string]Handler{"jvb:abc": h1, "u2": h2},
		addrs:  map[netip.AddrPort]Handler{a1: h1},
	}
	rtpPkt := append([]byte{0x80, 111}, make([]byte, 30)...)
	rtcpPkt := append([]byte{0x81, 201}, make([]byte, 6)...)
	dtlsPkt := append([]byte{22, 0xfe, 0xfd}, make([]byte, 20)...)
	tests := []struct {
		name   string
		b      []byte
		from   netip.AddrPort
		want   Handler
		reason DropReason
	}{
		{"garbage", []byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, a1, nil, DropUnknownKind},
		{"empty", nil, a1, nil, DropUnknownKind},
		{"stun by ufrag", stunMsg(stunMagicCookie, stunAttrUser, "u2:remote"), a2, h2, DropNone},
		{"stun ufrag containing colon", stunMsg(stunMagicCookie, stunAttrUser, "jvb:abc:remote"), a2, h1, DropNone},
		{"stun unknown ufrag from bound addr", stunMsg(stunMagicCookie, stunAttrUser, "zz:remote"), a1, nil, DropUnknownUfrag},
		{"stun username without colon", stunMsg(stunMagicCookie, stunAttrUser, "u2"), a1, nil, DropUnknownUfrag},
		{"stun response by address", stunMsg(stunMagicCookie), a1, h1, DropNone},
		{"stun response unknown address", stunMsg(stunMagicCookie), a2, nil, DropNoRoute},
		{"rtp bound", rtpPkt, a1, h1, DropNone},
		{"rtcp bound", rtcpPkt, a1, h1, DropNone},
		{"dtls bound", dtlsPkt, a1, h1, DropNone},
		{"rtp unknown address", rtpPkt, a2, nil, DropNoRoute},
	}
	for _, tt := range tests {
		h, reason := tbl.route(rtp.Classify(tt.b), tt.b, tt.from)
		if h != tt.want || reason != tt.reason {
			t.Errorf("%s: got %v,%s want %v,%s", tt.name, h, reason, tt.want, tt.reason)
		}
	}
}

// recordingHandler copies what it receives.
type recordingHandler struct {
	mu   sync.Mutex
	got  [][]byte
	from []netip.AddrPort
	kind []rtp.Kind
}

func (r *recordingHandler) HandleDatagram(k rtp.Kind, b []byte, from netip.AddrPort, now int64) {
	if now == 0 {
		panic("no receive time")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, bytes.Clone(b))
	r.from = append(r.from, from)
	r.kind = append(r.kind, k)
}

func (r *recordingHandler) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func rtpDatagram(seq int, size int) []byte {
	b := make([]byte, size)
	b[0], b[1] = 0x80, 96
	binary.BigEndian.PutUint16(b[2:4], uint16(seq))
	return b
}

// TestSocketLoopback sends bursts through the real socket in both directions, on an IPv4
// socket and on a dual-stack one (IPv4 arrives v4-mapped and must be routed unmapped).
func TestSocketLoopback(t *testing.T) {
	for _, bind := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), {}} {
		t.Run("bind="+bind.String(), func(t *testing.T) {
			s, err := Listen(0, Options{Addr: bind, ReadBuffer: 1 << 20, WriteBuffer: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			peerAddr := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			h := &recordingHandler{}
			s.BindAddr(peerAddr, h)
			to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), s.LocalAddr().Port()))

			const n = 100
			var want [][]byte
			for i := range n {
				d := rtpDatagram(i, 100+i)
				want = append(want, d)
				if _, err := peer.WriteToUDP(d, to); err != nil {
					t.Fatal(err)
				}
			}
			waitUntil(t, "all datagrams received", func() bool { return h.count() == n })
			h.mu.Lock()
			if !reflect.DeepEqual(h.got, want) {
				t.Errorf("received datagrams differ from sent")
			}
			for i := range h.from {
				if h.from[i] != peerAddr || h.kind[i] != rtp.KindRTP {
					t.Fatalf("datagram %d from %s kind %s, want %s rtp", i, h.from[i], h.kind[i], peerAddr)
				}
			}
			h.mu.Unlock()

			for i := range n {
				buf := GetBuffer()
				copy(buf[:], want[i])
				if !s.Enqueue(buf, len(want[i]), peerAddr) {
					t.Fatalf("enqueue %d dropped", i)
				}
			}
			rb := make([]byte, 2000)
			_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			for i := range n {
				m, from, err := peer.ReadFromUDPAddrPort(rb)
				if err != nil {
					t.Fatalf("read %d: %v", i, err)
				}
				if !bytes.Equal(rb[:m], want[i]) || from.Port() != s.LocalAddr().Port() {
					t.Fatalf("datagram %d from %s differs", i, from)
				}
			}
			// The writer counts a batch after sendmmsg returns, so the peer can read the last
			// datagrams a moment before Sent reaches n.
			st := s.Stats()
			for deadline := time.Now().Add(2 * time.Second); st.Sent < n && time.Now().Before(deadline); st = s.Stats() {
				time.Sleep(time.Millisecond)
			}
			if st.Received != n || st.Sent != n || st.RecvCalls == 0 || st.SendCalls == 0 || st.SendCalls > n ||
				st.SentMessages == 0 || st.SentMessages > n {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestSocketDrops(t *testing.T) {
	s, err := Listen(0, Options{Addr: netip.MustParseAddr("127.0.0.1"), SendQueue: 4})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	to := net.UDPAddrFromAddrPort(s.LocalAddr())
	h := &recordingHandler{}
	if err := s.RegisterUfrag("bridge", h); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterUfrag("bridge", &nopHandler{}); err == nil {
		t.Fatal("duplicate ufrag registered")
	}
	for _, d := range [][]byte{
		{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},      // unknown kind
		rtpDatagram(1, 200),                                // no route
		stunMsg(stunMagicCookie, stunAttrUser, "other:x"),  // unknown ufrag
		rtpDatagram(2, MTU+100),                            // truncated
		stunMsg(stunMagicCookie, stunAttrUser, "bridge:x"), // delivered
	} {
		if _, err := peer.WriteToUDP(d, to); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "drops counted", func() bool {
		st := s.Stats()
		return st.Dropped(DropUnknownKind) == 1 && st.Dropped(DropNoRoute) == 1 &&
			st.Dropped(DropUnknownUfrag) == 1 && st.Dropped(DropTruncated) == 1 && h.count() == 1
	})
	s.UnregisterUfrag("bridge", h)
	if _, err := peer.WriteToUDP(stunMsg(stunMagicCookie, stunAttrUser, "bridge:x"), to); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "unregistered ufrag dropped", func() bool { return s.Stats().Dropped(DropUnknownUfrag) == 2 })

	a := netip.MustParseAddrPort("127.0.0.1:9")
	if !s.BindAddrIfFree(a, h) || s.BindAddrIfFree(a, &nopHandler{}) || s.Owner(a) != Handler(h) {
		t.Fatal("BindAddrIfFree did not keep the first owner")
	}
	s.UnbindAddr(a, &nopHandler{})
	if s.Owner(a) != Handler(h) {
		t.Fatal("UnbindAddr by a non-owner removed the route")
	}
	s.Unregister(h)
	if s.Owner(a) != nil {
		t.Fatal("Unregister left a route")
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Enqueue(GetBuffer(), 10, a) {
		t.Fatal("Enqueue after Close succeeded")
	}
	if _, err := s.WriteTo([]byte{1}, a); err == nil {
		t.Fatal("WriteTo after Close succeeded")
	}
	if got := s.Stats().Dropped(DropClosed); got != 1 {
		t.Fatalf("closed drops %d", got)
	}
}

// TestBatchWriterGSO writes one batch: a burst of equal-size datagrams (the last shorter) to
// one peer, a burst to another, and a single datagram to the first. With UDP GSO each burst
// is one message; either way every datagram arrives with its own size, in order.
func TestBatchWriterGSO(t *testing.T) {
	s, err := Listen(0, Options{Addr: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var peers [2]*net.UDPConn
	for i := range peers {
		if peers[i], err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		defer peers[i].Close()
	}
	var ds []outDatagram
	var want [2][][]byte
	add := func(p, seq, size int) {
		d := rtpDatagram(seq, size)
		buf := GetBuffer()
		copy(buf[:], d)
		want[p] = append(want[p], d)
		ds = append(ds, outDatagram{buf: buf, n: size, to: peers[p].LocalAddr().(*net.UDPAddr).AddrPort()})
	}
	for i := range 10 {
		add(0, i, map[bool]int{true: 333, false: 1000}[i == 9])
	}
	for i := range 5 {
		add(1, i, 500)
	}
	add(0, 10, 1000)
	w := newBatchWriter(s.rc, s.conn, s.v6)
	sent, failed := w.write(ds)
	if sent != len(ds) || failed != 0 {
		t.Fatalf("sent %d failed %d of %d", sent, failed, len(ds))
	}
	if wantGSO := map[bool]int{true: 15, false: 0}[w.gso]; w.gsoSent != wantGSO {
		t.Fatalf("GSO segments %d, want %d (gso %v)", w.gsoSent, wantGSO, w.gso)
	}
	// With GSO: the burst of 10, the burst of 5 and the single one.
	if wantMsgs := map[bool]int{true: 3, false: len(ds)}[w.gso]; w.messages != wantMsgs {
		t.Fatalf("messages %d, want %d (gso %v)", w.messages, wantMsgs, w.gso)
	}
	rb := make([]byte, 4000)
	for p, c := range peers {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for i := range want[p] {
			m, err := c.Read(rb)
			if err != nil {
				t.Fatalf("peer %d read %d: %v", p, i, err)
			}
			if !bytes.Equal(rb[:m], want[p][i]) {
				t.Fatalf("peer %d datagram %d: %d bytes, want %d", p, i, m, len(want[p][i]))
			}
		}
	}
	t.Logf("GSO supported: %v", w.gso)
}

// TestDeliverSegments checks how a received message is cut: GRO segments become datagrams,
// and what no datagram of MTU size could be is dropped as truncated, per datagram.
func TestDeliverSegments(t *testing.T) {
	s := &Socket{}
	s.routes.Store(emptyRoutes)
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	tests := []struct {
		name      string
		size, seg int
		sizes     []int // datagrams delivered
		truncated uint64
		gro       uint64 // datagrams counted as coalesced
	}{
		{"single", 1000, 0, []int{1000}, 0, 0},
		{"segment not smaller", 1000, 1200, []int{1000}, 0, 0},
		{"three, last short", 2500, 1000, []int{1000, 1000, 500}, 0, 3},
		{"exact segments", 2400, 1200, []int{1200, 1200}, 0, 2},
		{"single over MTU", MTU + 1, 0, nil, 1, 0},
		{"segments over MTU", 3200, 1600, nil, 2, 2},
	}
	for _, tt := range tests {
		h := &recordingHandler{}
		s.BindAddr(from, h)
		before, groBefore := s.stats.drops[DropTruncated].Load(), s.stats.groReceived.Load()
		b := rtpDatagram(0, tt.size)
		n := s.deliver(b, from, tt.seg, 1)
		var sizes []int
		for _, g := range h.got {
			sizes = append(sizes, len(g))
		}
		if n != len(tt.sizes) || !reflect.DeepEqual(sizes, tt.sizes) {
			t.Errorf("%s: delivered %d %v, want %v", tt.name, n, sizes, tt.sizes)
		}
		if got := s.stats.drops[DropTruncated].Load() - before; got != tt.truncated {
			t.Errorf("%s: truncated %d, want %d", tt.name, got, tt.truncated)
		}
		if got := s.stats.groReceived.Load() - groBefore; got != tt.gro {
			t.Errorf("%s: GRO-received %d, want %d", tt.name, got, tt.gro)
		}
	}
}
