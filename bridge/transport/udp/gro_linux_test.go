//go:build linux

package udp

import (
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"golang.org/x/sys/unix"
)

// capHandler records datagrams and counts those (other than a lone 700-byte one, which owns
// the rest of its buffer) whose capacity reaches past their end.
type capHandler struct {
	recordingHandler
	mu      sync.Mutex
	overCap int
}

func (c *capHandler) HandleDatagram(k rtp.Kind, b []byte, from netip.AddrPort, now int64) {
	if cap(b) != len(b) && len(b) != 700 {
		c.mu.Lock()
		c.overCap++
		c.mu.Unlock()
	}
	c.recordingHandler.HandleDatagram(k, b, from, now)
}

// TestSocketGRO sends GSO bursts over loopback to a socket with UDP_GRO: each burst arrives as
// one message and must come out as the original datagrams, in order, each with its own size
// and a capacity that ends with it.
func TestSocketGRO(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	rx, err := Listen(0, Options{Addr: lo, GRO: true, ReadBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if !rx.gro {
		t.Fatal("UDP_GRO refused (Linux 5.0+ has it)")
	}
	tx, err := Listen(0, Options{Addr: lo})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	h := &capHandler{}
	rx.BindAddr(tx.LocalAddr(), h)
	to := netip.AddrPortFrom(lo, rx.LocalAddr().Port())

	var ds []outDatagram
	var want [][]byte
	add := func(seq, size int) {
		d := rtpDatagram(seq, size)
		d[size-1] = byte(seq) // the tail tells datagrams apart
		buf := GetBuffer()
		copy(buf[:], d)
		want = append(want, d)
		ds = append(ds, outDatagram{buf: buf, n: size, to: to})
	}
	for i := range 10 {
		add(i, map[bool]int{true: 333, false: 1200}[i == 9])
	}
	for i := 10; i < 15; i++ {
		add(i, 500)
	}
	w := newBatchWriter(tx.rc, tx.conn, tx.v6)
	if sent, failed := w.write(ds); sent != len(ds) || failed != 0 {
		t.Fatalf("sent %d failed %d of %d", sent, failed, len(ds))
	}
	if !w.gso {
		t.Fatal("UDP GSO unsupported")
	}
	add(15, 700) // alone: not coalesced
	if _, err := tx.WriteTo(want[15], to); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "all datagrams received", func() bool { return h.count() == len(want) })
	h.recordingHandler.mu.Lock()
	if !reflect.DeepEqual(h.got, want) {
		t.Errorf("received datagrams differ from sent")
	}
	h.recordingHandler.mu.Unlock()
	if h.overCap != 0 {
		t.Errorf("%d datagrams handed with capacity beyond their end", h.overCap)
	}
	st := rx.Stats()
	if st.Received != 16 || st.GROReceived != 15 {
		t.Errorf("received %d (want 16), GRO %d (want 15: the two bursts)", st.Received, st.GROReceived)
	}
}

// TestGROSegmentSize reads the segment size among the control messages of a receive.
func TestGROSegmentSize(t *testing.T) {
	msg := func(level, typ int32, v int32) []byte {
		b := make([]byte, unix.CmsgSpace(4))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = level, typ
		h.SetLen(unix.CmsgLen(4))
		*(*int32)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = v
		return b
	}
	gro := msg(unix.IPPROTO_UDP, unix.UDP_GRO, 1200)
	tos := msg(unix.IPPROTO_IP, unix.IP_TOS, 0)
	tests := []struct {
		name string
		oob  []byte
		n    int
		want int
	}{
		{"UDP_GRO", gro, len(gro), 1200},
		{"after another message", append(append([]byte{}, tos...), gro...), len(tos) + len(gro), 1200},
		{"another message only", tos, len(tos), 0},
		{"none", gro, 0, 0},
		{"cut short", gro, unix.CmsgLen(0), 0},
	}
	for _, tt := range tests {
		if got := groSegmentSize(tt.oob, tt.n); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
