package ice

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	"github.com/pion/transport/v5/deadline"
)

// muxQueueLen bounds the datagrams queued for one agent connection before pion's candidate
// goroutine reads them. Only STUN and DTLS pass here (media never does), and both retransmit,
// so a short queue that drops when full is enough.
const muxQueueLen = 64

// ErrUfragMismatch means pion asked a Mux for a connection of another agent.
var ErrUfragMismatch = errors.New("ice: mux ufrag mismatch")

// PacketSender is the socket side of a Mux (udp.Socket.WriteTo).
type PacketSender interface {
	WriteTo(b []byte, to netip.AddrPort) (int, error)
}

// Mux is one endpoint's implementation of pion's ice.UDPMux over the shared media socket.
// The socket demultiplexes STUN by ufrag and DTLS by remote address to the endpoint, which
// hands them to Deliver; pion's agent reads them from the per-family connection that GetConn
// returned and writes through PacketSender. One Mux serves one agent (one local ufrag), so no
// ufrag table is needed here: the socket already routed by ufrag.
type Mux struct {
	ufrag  string
	listen []net.Addr // at most one *net.UDPAddr per address family
	send   PacketSender
	onSend func(netip.AddrPort)

	conns  [2]atomic.Pointer[muxConn] // [0] IPv4, [1] IPv6; replaced by GetConn after a close
	mu     sync.Mutex                 // serializes GetConn, RemoveConnByUfrag and Close
	closed atomic.Bool
}

// NewMux returns the mux for the agent with local ufrag. listen holds the local address per
// family that pion's host candidates will carry (only the first IPv4 and first IPv6 are used:
// every local candidate reads the same socket, so one per family is enough to pair with any
// remote candidate). onSend, if set, is called with every destination before a send.
func NewMux(ufrag string, listen []netip.AddrPort, send PacketSender, onSend func(netip.AddrPort)) *Mux {
	m := &Mux{ufrag: ufrag, send: send, onSend: onSend}
	var have [2]bool
	for _, ap := range listen {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		f := family(ap.Addr())
		if have[f] || !ap.IsValid() {
			continue
		}
		have[f] = true
		m.listen = append(m.listen, net.UDPAddrFromAddrPort(ap))
		m.conns[f].Store(m.newConn(net.UDPAddrFromAddrPort(ap)))
	}
	return m
}

func family(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 0
	}
	return 1
}

// Deliver queues a copy of the datagram b from the given address for the agent. It is called
// on the socket reader goroutine and never blocks; false means no connection of that family
// exists or its queue is full (the caller counts the drop).
func (m *Mux) Deliver(b []byte, from netip.AddrPort) bool {
	if m.closed.Load() || len(b) > udp.MTU {
		return false
	}
	c := m.conns[family(from.Addr())].Load()
	if c == nil {
		return false
	}
	return c.deliver(b, from)
}

// GetConn implements pion ice.UDPMux.
func (m *Mux) GetConn(ufrag string, addr net.Addr) (net.PacketConn, error) {
	if ufrag != m.ufrag {
		return nil, fmt.Errorf("%w: %q", ErrUfragMismatch, ufrag)
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("ice: mux address %v is not UDP", addr)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed.Load() {
		return nil, io.ErrClosedPipe
	}
	f := family(ua.AddrPort().Addr())
	c := m.conns[f].Load()
	if c == nil || c.isClosed() {
		c = m.newConn(ua)
		m.conns[f].Store(c)
	}
	return c, nil
}

// RemoveConnByUfrag implements pion ice.UDPMux: the agent is closing.
func (m *Mux) RemoveConnByUfrag(ufrag string) {
	if ufrag != m.ufrag {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.conns {
		if c := m.conns[i].Load(); c != nil {
			_ = c.Close()
		}
	}
}

// GetListenAddresses implements pion ice.UDPMux.
func (m *Mux) GetListenAddresses() []net.Addr { return m.listen }

// Close implements io.Closer: it closes both connections; later deliveries are refused.
func (m *Mux) Close() error {
	m.closed.Store(true)
	m.RemoveConnByUfrag(m.ufrag)
	return nil
}

func (m *Mux) newConn(local *net.UDPAddr) *muxConn {
	return &muxConn{
		mux: m, local: local, queue: make(chan inDatagram, muxQueueLen),
		done: make(chan struct{}), readDeadline: deadline.New(),
	}
}

type inDatagram struct {
	buf  *udp.Buffer
	n    int
	from netip.AddrPort
}

// muxConn is the net.PacketConn pion's candidate reads and writes. It also implements pion's
// AddrPortReaderWriter so that pion's read loop uses netip.AddrPort and does not allocate.
type muxConn struct {
	mux          *Mux
	local        *net.UDPAddr
	queue        chan inDatagram
	done         chan struct{}
	closeOnce    sync.Once
	readDeadline *deadline.Deadline
}

func (c *muxConn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *muxConn) deliver(b []byte, from netip.AddrPort) bool {
	if c.isClosed() {
		return false
	}
	buf := udp.GetBuffer()
	n := copy(buf[:], b)
	select {
	case c.queue <- inDatagram{buf: buf, n: n, from: from}:
		return true
	default:
		udp.PutBuffer(buf, n)
		return false
	}
}

// ReadFromAddrPort blocks until a datagram is delivered, the read deadline passes or the
// connection is closed.
func (c *muxConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-c.queue:
		n := copy(b, d.buf[:d.n])
		udp.PutBuffer(d.buf, d.n)
		return n, d.from, nil
	case <-c.done:
		return 0, netip.AddrPort{}, net.ErrClosed
	case <-c.readDeadline.Done():
		return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
	}
}

func (c *muxConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

func (c *muxConn) WriteToAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if c.isClosed() {
		return 0, io.ErrClosedPipe
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	if c.mux.onSend != nil {
		c.mux.onSend(to)
	}
	return c.mux.send.WriteTo(b, to)
}

func (c *muxConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("ice: write to non-UDP address %v", addr)
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// Close stops reads and writes and frees queued datagrams.
func (c *muxConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		for {
			select {
			case d := <-c.queue:
				udp.PutBuffer(d.buf, d.n)
			default:
				return
			}
		}
	})
	return nil
}

func (c *muxConn) LocalAddr() net.Addr { return c.local }

func (c *muxConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *muxConn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Set(t)
	return nil
}

// SetWriteDeadline is a no-op: writes go straight to the socket and never block for long.
func (c *muxConn) SetWriteDeadline(time.Time) error { return nil }
