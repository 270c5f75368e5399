// Package udp owns the bridge's single media UDP socket (JVB: videobridge.ice.udp.port, 10000):
// batched receive (recvmmsg) on one reader goroutine, RFC 7983 demultiplexing to endpoints by
// ICE ufrag or remote address, and batched send (sendmmsg): from caller-owned Batches (the
// media egress workers) or from one writer goroutine fed by a bounded queue. It is a data-plane package: no lock and no allocation per datagram, drops
// counted by reason, never logged per packet.
package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"
)

// Defaults.
const (
	// batchSize is the number of datagrams per recvmmsg/sendmmsg call (environment.md §5: 32
	// messages per call amortise the syscall; more gains little).
	batchSize = 32
	// DefaultSendQueue is the send queue length in datagrams (JVB: 1024-packet queues).
	DefaultSendQueue = 1024
)

// Sentinel errors.
var (
	ErrUfragInUse = errors.New("udp: ufrag already registered")
	ErrClosed     = errors.New("udp: socket closed")
)

// Options configure Listen.
type Options struct {
	// Addr is the local address to bind. The zero value binds all addresses, dual-stack
	// (one AF_INET6 socket that also receives IPv4) when the host has IPv6.
	Addr netip.Addr
	// ReadBuffer and WriteBuffer are SO_RCVBUF/SO_SNDBUF requests in bytes (0: OS default).
	// The kernel caps them at net.core.rmem_max/wmem_max; the effective values are logged.
	ReadBuffer, WriteBuffer int
	// SendQueue is the send queue length in datagrams (0: DefaultSendQueue).
	SendQueue int
	// GRO asks the kernel for UDP_GRO (Linux 5.0+): a run of datagrams of one flow may arrive
	// as one message, which the reader cuts back into datagrams. The kernel then does its
	// per-packet receive work once per run (a GSO send over loopback or veth is not even
	// segmented). The reader's slots grow to 64 KiB each. Ignored where unsupported.
	GRO bool
	// ReadBatch is the number of messages per recvmmsg call (0 or more than 32: 32).
	ReadBatch int
	// Logger receives start-up and error logs (nil: no logs).
	Logger *zap.Logger
}

// Socket is the shared media socket. All methods are safe for concurrent use.
type Socket struct {
	conn  *net.UDPConn
	rc    syscall.RawConn
	local netip.AddrPort
	v6    bool // the socket is AF_INET6: sockaddrs are sockaddr_in6, IPv4 is v4-mapped
	log   *zap.Logger
	// gro: UDP_GRO is on; readSlots: messages per recvmmsg.
	gro       bool
	readSlots int

	// routes is the demux snapshot read by the reader goroutine; mu serializes writers.
	routes atomic.Pointer[routeTable]
	mu     sync.Mutex

	// ctl sends WriteTo's datagrams, one at a time under ctlMu (control traffic only).
	ctl   *batchWriter
	ctlMu sync.Mutex

	sendq     chan outDatagram
	done      chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup

	stats counters
}

// outDatagram is one queued send: the first n bytes of buf, to the given address.
type outDatagram struct {
	buf *Buffer
	n   int
	to  netip.AddrPort
}

// Listen binds the media socket on port (0: an ephemeral port, for tests) and starts its
// reader and writer goroutines.
func Listen(port int, opts Options) (*Socket, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("udp: invalid port %d", port)
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("component", "udp"))
	laddr := &net.UDPAddr{Port: port}
	if opts.Addr.IsValid() {
		laddr.IP = opts.Addr.AsSlice()
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("udp: listen on port %d: %w", port, err)
	}
	s := &Socket{conn: conn, log: log, done: make(chan struct{})}
	if err := s.setup(opts); err != nil {
		_ = conn.Close()
		return nil, err
	}
	q := opts.SendQueue
	if q <= 0 {
		q = DefaultSendQueue
	}
	s.sendq = make(chan outDatagram, q)
	s.routes.Store(emptyRoutes)
	s.wg.Add(2)
	go s.readLoop()
	go s.writeLoop()
	return s, nil
}

func (s *Socket) setup(opts Options) error {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("udp: raw conn: %w", err)
	}
	s.rc = rc
	s.local = s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if s.v6, err = isIPv6Socket(rc); err != nil {
		return err
	}
	s.ctl = newBatchWriter(rc, s.conn, s.v6)
	if opts.ReadBuffer > 0 {
		if err := s.conn.SetReadBuffer(opts.ReadBuffer); err != nil {
			return fmt.Errorf("udp: set read buffer: %w", err)
		}
	}
	if opts.WriteBuffer > 0 {
		if err := s.conn.SetWriteBuffer(opts.WriteBuffer); err != nil {
			return fmt.Errorf("udp: set write buffer: %w", err)
		}
	}
	s.readSlots = opts.ReadBatch
	if s.readSlots <= 0 || s.readSlots > batchSize {
		s.readSlots = batchSize
	}
	if opts.GRO {
		s.gro = enableGRO(rc)
	}
	rcv, snd := socketBuffers(rc)
	s.log.Info("media socket listening", zap.Stringer("addr", s.local), zap.Bool("dual_stack", s.v6),
		zap.Bool("gro", s.gro),
		zap.Int("requested_rcvbuf", opts.ReadBuffer), zap.Int("effective_rcvbuf", rcv),
		zap.Int("requested_sndbuf", opts.WriteBuffer), zap.Int("effective_sndbuf", snd))
	return nil
}

// LocalAddr returns the bound address (unspecified address when bound to all).
func (s *Socket) LocalAddr() netip.AddrPort { return s.local }

// Close stops the reader and writer goroutines and closes the socket. Queued datagrams are
// discarded. It waits for both goroutines to exit.
func (s *Socket) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		err = s.conn.Close()
		s.wg.Wait()
		for {
			select {
			case d := <-s.sendq:
				PutBuffer(d.buf, d.n)
			default:
				return
			}
		}
	})
	return err
}

// RegisterUfrag routes STUN messages whose USERNAME starts with "ufrag:" to h.
func (s *Socket) RegisterUfrag(ufrag string, h Handler) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.routes.Load()
	if _, ok := t.ufrags[ufrag]; ok {
		return fmt.Errorf("%w: %q", ErrUfragInUse, ufrag)
	}
	s.routes.Store(t.withUfrag(ufrag, h))
	return nil
}

// UnregisterUfrag removes the ufrag route if it belongs to h.
func (s *Socket) UnregisterUfrag(ufrag string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.routes.Load(); t.ufrags[ufrag] == h {
		s.routes.Store(t.withUfrag(ufrag, nil))
	}
}

// BindAddr routes datagrams from addr (other than STUN naming a ufrag) to h, replacing any
// previous owner: the latest endpoint to authenticate an address owns it.
func (s *Socket) BindAddr(addr netip.AddrPort, h Handler) {
	addr = normalize(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.routes.Load()
	if t.addrs[addr] == h {
		return
	}
	s.routes.Store(t.withAddrs(func(m map[netip.AddrPort]Handler) { m[addr] = h }))
}

// BindAddrIfFree binds addr to h only when no endpoint owns it, and reports whether h owns it
// afterwards.
func (s *Socket) BindAddrIfFree(addr netip.AddrPort, h Handler) bool {
	addr = normalize(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.routes.Load()
	if owner, ok := t.addrs[addr]; ok {
		return owner == h
	}
	s.routes.Store(t.withAddrs(func(m map[netip.AddrPort]Handler) { m[addr] = h }))
	return true
}

// UnbindAddr removes the address route if it belongs to h.
func (s *Socket) UnbindAddr(addr netip.AddrPort, h Handler) {
	addr = normalize(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.routes.Load(); t.addrs[addr] == h {
		s.routes.Store(t.withAddrs(func(m map[netip.AddrPort]Handler) { delete(m, addr) }))
	}
}

// Owner returns the handler bound to addr, or nil. Lock-free.
func (s *Socket) Owner(addr netip.AddrPort) Handler { return s.routes.Load().addrs[normalize(addr)] }

// Unregister removes every route (ufrags and addresses) that belongs to h.
func (s *Socket) Unregister(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.routes.Load()
	nt := &routeTable{ufrags: make(map[string]Handler, len(t.ufrags)), addrs: make(map[netip.AddrPort]Handler, len(t.addrs))}
	for k, v := range t.ufrags {
		if v != h {
			nt.ufrags[k] = v
		}
	}
	for k, v := range t.addrs {
		if v != h {
			nt.addrs[k] = v
		}
	}
	s.routes.Store(nt)
}

// WriteTo sends b to addr at once, bypassing the queue. It is meant for the low-rate control
// traffic (STUN checks, DTLS records), whose callers expect a synchronous net.PacketConn
// write; media goes through a Batch or Enqueue. The send is a raw syscall like the batches'
// (batch_linux.go): an ordinary one wakes the runtime's sysmon thread whenever the process
// was idle, and sysmon then polls every 20 µs for a millisecond — with a hundred endpoints'
// ICE consent checks that cost ≈ 5 % of the bridge's CPU on one core.
func (s *Socket) WriteTo(b []byte, addr netip.AddrPort) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	s.ctlMu.Lock()
	n, err := s.ctl.writeOne(b, addr)
	s.ctlMu.Unlock()
	if err != nil {
		s.stats.drops[DropSendError].Add(1)
		return n, fmt.Errorf("udp: write to %s: %w", addr, err)
	}
	s.stats.sent.Add(1)
	s.stats.messages.Add(1)
	return n, nil
}

// Enqueue hands the first n bytes of buf to the writer goroutine for sending to addr and
// transfers ownership of buf: it is returned to the pool after sending, or at once when the
// queue is full (a counted DropQueueFull; the function then returns false). Never blocks.
func (s *Socket) Enqueue(buf *Buffer, n int, addr netip.AddrPort) bool {
	if s.closed.Load() {
		PutBuffer(buf, n)
		s.stats.drops[DropClosed].Add(1)
		return false
	}
	select {
	case s.sendq <- outDatagram{buf: buf, n: n, to: addr}:
		return true
	default:
		PutBuffer(buf, n)
		s.stats.drops[DropQueueFull].Add(1)
		return false
	}
}

// normalize maps v4-mapped IPv6 to IPv4 and drops zones, the form used as route keys.
func normalize(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
}
