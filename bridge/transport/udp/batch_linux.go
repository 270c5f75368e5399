//go:build linux

package udp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The batch I/O calls recvmmsg/sendmmsg directly instead of through x/net's
// ipv4/ipv6.PacketConn.ReadBatch/WriteBatch: x/net allocates a net.UDPAddr and its IP for every
// received datagram and marshals IPv4 destinations as AF_INET, which a dual-stack AF_INET6
// socket rejects. Here the mmsghdr, iovec and sockaddr arrays are allocated once per goroutine
// and addresses are parsed straight into netip.AddrPort: no allocation per batch or datagram.
//
// Both calls are raw syscalls (no entersyscall/exitsyscall). The socket is non-blocking (the
// runtime's poller owns it), so neither call sleeps, but a sendmmsg of 32 datagrams runs for
// 50–150 µs. As an ordinary syscall that is long enough for sysmon to see the P stuck in a
// syscall, hand it off and start a spinning M; measured under the lecture load on one CPU,
// those hand-offs kept sysmon polling every 20 µs and cost ≈ 13 % of the bridge's CPU in
// thread switches. A raw syscall keeps the P: other goroutines of that P wait at most one
// batch, and the other Ps run on.

// batchReader is owned by the reader goroutine.
//
// With UDP_GRO (Options.GRO) the kernel may hand a run of datagrams of one flow, all of one
// size but the last, as a single message with a UDP_GRO control message giving that size: a
// GSO send arriving over loopback or a veth stays one buffer, and a NIC's GRO merges a
// sender's burst. The reader then needs room for 64 KiB per message, so its slots are plain
// 64 KiB buffers instead of pooled MTU ones; segment cuts the message back into datagrams.
type batchReader struct {
	rc     syscall.RawConn
	slots  int                // messages per recvmmsg (≤ batchSize)
	gro    bool               // slots are groBufSize long and carry a UDP_GRO cmsg
	pooled [batchSize]*Buffer // without GRO: the slots' pooled buffers
	bufs   [batchSize][]byte
	hdrs   [batchSize]unix.Mmsghdr
	iovs   [batchSize]unix.Iovec
	names  [batchSize]unix.RawSockaddrInet6 // also large enough for a sockaddr_in
	oob    []byte                           // GRO: groOOBLen bytes per slot
	n      int
	errno  syscall.Errno
	fn     func(fd uintptr) bool // bound once: a method value per call would allocate
}

// groBufSize holds the largest UDP payload, which bounds a coalesced message.
const groBufSize = 1 << 16

// groOOBLen is the control-message space for one UDP_GRO cmsg (an int segment size).
var groOOBLen = unix.CmsgSpace(4)

func newBatchReader(rc syscall.RawConn, _ *net.UDPConn, gro bool, slots int) *batchReader {
	r := &batchReader{rc: rc, gro: gro, slots: slots}
	if gro {
		r.oob = make([]byte, slots*groOOBLen)
	}
	for i := range slots {
		if gro {
			r.bufs[i] = make([]byte, groBufSize)
		} else {
			r.pooled[i] = GetBuffer()
			r.bufs[i] = r.pooled[i][:]
		}
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(len(r.bufs[i]))
		r.hdrs[i].Hdr.Iov = &r.iovs[i]
		r.hdrs[i].Hdr.SetIovlen(1)
		r.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.fn = r.recv
	return r
}

func (r *batchReader) release() {
	for i := range r.slots {
		if r.pooled[i] != nil {
			PutBuffer(r.pooled[i], MTU)
			r.pooled[i] = nil
		}
		r.bufs[i] = nil
		r.iovs[i].Base = nil
	}
}

func (r *batchReader) recv(fd uintptr) bool {
	for i := range r.slots {
		h := &r.hdrs[i]
		h.Hdr.Namelen = unix.SizeofSockaddrInet6
		h.Hdr.Flags = 0
		h.Len = 0
		if r.gro {
			h.Hdr.Control = &r.oob[i*groOOBLen]
			h.Hdr.SetControllen(groOOBLen)
		}
	}
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.slots), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait for readiness in the poller
		}
		r.n, r.errno = int(n), e
		return true
	}
}

// read blocks until at least one message arrived and returns how many did.
func (r *batchReader) read() (int, error) {
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", r.errno)
	}
	return r.n, nil
}

// message returns the i-th message of the last read, its source, the segment size when the
// kernel coalesced several datagrams into it (0 otherwise), and whether the kernel truncated it.
func (r *batchReader) message(i int) (b []byte, from netip.AddrPort, seg int, truncated bool) {
	h := &r.hdrs[i]
	n := min(int(h.Len), len(r.bufs[i]))
	if r.gro {
		seg = groSegmentSize(r.oob[i*groOOBLen:(i+1)*groOOBLen], int(h.Hdr.Controllen))
	}
	return r.bufs[i][:n], parseSockaddr(&r.names[i]), seg, h.Hdr.Flags&unix.MSG_TRUNC != 0
}

// groSegmentSize finds the UDP_GRO control message (linux/udp.h: level SOL_UDP, an int) the
// kernel adds to a coalesced message among the n bytes of control data; 0 when there is none.
func groSegmentSize(oob []byte, n int) int {
	oob = oob[:min(n, len(oob))]
	for len(oob) >= unix.CmsgLen(0) {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.CmsgLen(0) || l > len(oob) {
			return 0
		}
		if h.Level == unix.IPPROTO_UDP && h.Type == unix.UDP_GRO && l >= unix.CmsgLen(4) {
			return int(*(*int32)(unsafe.Pointer(&oob[unix.CmsgLen(0)])))
		}
		oob = oob[min(cmsgAlign(l), len(oob)):]
	}
	return 0
}

// cmsgAlign rounds a control message length up to the next one's alignment.
func cmsgAlign(n int) int { return (n + unix.SizeofPtr - 1) &^ (unix.SizeofPtr - 1) }

// enableGRO sets UDP_GRO on the socket (Linux 5.0+); false when the kernel refuses it.
func enableGRO(rc syscall.RawConn) bool {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1)
	}); cerr != nil {
		return false
	}
	return err == nil
}

func parseSockaddr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order in both sockaddr layouts
	port := uint16(p[0])<<8 | uint16(p[1])
	switch sa.Family {
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port)
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	}
	return netip.AddrPort{}
}

// maxGSOSegments bounds the datagrams merged into one UDP GSO send (the kernel allows 64
// segments and 64 KiB; 32 x 1500 stays under both).
const maxGSOSegments = batchSize

// gsoOOBLen is the control-message space for one UDP_SEGMENT cmsg (a uint16 segment size).
var gsoOOBLen = unix.CmsgSpace(2)

// batchWriter is owned by the writer goroutine. With UDP GSO (Linux 4.18+, environment.md §5:
// about 4x fewer CPU per datagram than sendmmsg alone) a run of queued datagrams to the same
// destination, all of one size except a shorter last one, goes out as one message whose
// iovecs the kernel cuts into datagrams of the first one's size (UDP_SEGMENT cmsg). Mixed
// destinations still share one sendmmsg call.
type batchWriter struct {
	rc       syscall.RawConn
	v6       bool
	gso      bool
	hdrs     [batchSize]unix.Mmsghdr
	iovs     [batchSize]unix.Iovec
	names    [batchSize]unix.RawSockaddrInet6
	oob      [batchSize][]byte
	segs     [batchSize]int // datagrams in each message
	off, cnt int
	n        int
	errno    syscall.Errno
	fn       func(fd uintptr) bool
	gsoSent  int // datagrams sent as GSO segments by the last write
	messages int // messages (a GSO run or a single datagram) the kernel accepted in the last write
}

func newBatchWriter(rc syscall.RawConn, _ *net.UDPConn, v6 bool) *batchWriter {
	w := &batchWriter{rc: rc, v6: v6, gso: gsoSupported(rc)}
	oob := make([]byte, batchSize*gsoOOBLen)
	for i := range w.hdrs {
		w.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		w.oob[i] = oob[i*gsoOOBLen : (i+1)*gsoOOBLen]
	}
	w.fn = w.send
	return w
}

// gsoSupported probes UDP_SEGMENT support: the getsockopt exists exactly on kernels with GSO.
func gsoSupported(rc syscall.RawConn) bool {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		_, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
	}); cerr != nil {
		return false
	}
	return err == nil
}

// gsoRun returns the end of the run of datagrams starting at i that can share one GSO send.
func (w *batchWriter) gsoRun(ds []outDatagram, i int) int {
	j := i + 1
	if !w.gso {
		return j
	}
	size := ds[i].n
	for j < len(ds) && j-i < maxGSOSegments && ds[j].to == ds[i].to &&
		ds[j-1].n == size && ds[j].n <= size && ds[j].n > 0 {
		j++
	}
	return j
}

// write sends ds with as few sendmmsg calls as possible. A message the kernel refuses (the
// call fails on its first message) is skipped and its datagrams counted as failed.
func (w *batchWriter) write(ds []outDatagram) (sent, failed int) {
	nmsg := 0
	w.gsoSent, w.messages = 0, 0
	for i := 0; i < len(ds); {
		j := w.gsoRun(ds, i)
		for k := i; k < j; k++ {
			w.iovs[k].Base = &ds[k].buf[0]
			w.iovs[k].SetLen(ds[k].n)
		}
		h := &w.hdrs[nmsg]
		h.Len = 0
		h.Hdr.Iov = &w.iovs[i]
		h.Hdr.SetIovlen(j - i)
		h.Hdr.Namelen = w.putSockaddr(nmsg, ds[i].to)
		h.Hdr.Control, h.Hdr.Controllen = nil, 0
		if j-i > 1 {
			putSegmentSize(w.oob[nmsg], ds[i].n)
			h.Hdr.Control = &w.oob[nmsg][0]
			h.Hdr.SetControllen(gsoOOBLen)
		}
		w.segs[nmsg] = j - i
		nmsg++
		i = j
	}
	for off := 0; off < nmsg; {
		w.off, w.cnt = off, nmsg-off
		if err := w.rc.Write(w.fn); err != nil {
			for ; off < nmsg; off++ {
				failed += w.segs[off] // socket closed
			}
			break
		}
		if w.errno != 0 || w.n <= 0 {
			if w.errno == unix.EIO && w.segs[off] > 1 {
				w.gso = false // the device cannot segment (no checksum offload): stop using GSO
			}
			failed += w.segs[off]
			off++
			continue
		}
		w.messages += w.n
		for end := off + w.n; off < end; off++ {
			sent += w.segs[off]
			if w.segs[off] > 1 {
				w.gsoSent += w.segs[off]
			}
		}
	}
	for i := range ds {
		w.iovs[i].Base = nil
	}
	return sent, failed
}

// writeOne sends b to `to` at once with a raw sendmsg, waiting for writability if the socket
// buffer is full. It is the control path (Socket.WriteTo): the caller serializes calls.
func (w *batchWriter) writeOne(b []byte, to netip.AddrPort) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	w.iovs[0].Base = &b[0]
	w.iovs[0].SetLen(len(b))
	h := &w.hdrs[0]
	h.Len = 0
	h.Hdr.Iov = &w.iovs[0]
	h.Hdr.SetIovlen(1)
	h.Hdr.Namelen = w.putSockaddr(0, to)
	h.Hdr.Control, h.Hdr.Controllen = nil, 0
	w.off, w.cnt = 0, 1
	err := w.rc.Write(w.fn)
	w.iovs[0].Base = nil
	switch {
	case err != nil:
		return 0, err
	case w.errno != 0:
		return 0, os.NewSyscallError("sendmmsg", w.errno)
	case w.n != 1:
		return 0, os.NewSyscallError("sendmmsg", unix.EIO)
	}
	return len(b), nil
}

// putSegmentSize writes a UDP_SEGMENT control message (linux/udp.h) carrying size.
func putSegmentSize(oob []byte, size int) {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&oob[unix.CmsgLen(0)])) = uint16(size)
}

func (w *batchWriter) send(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[w.off])), uintptr(w.cnt), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // socket buffer full: wait for writability
		}
		w.n, w.errno = int(n), e
		return true
	}
}

// putSockaddr writes the destination in the socket's family and returns its length. An IPv6
// destination on an IPv4 socket gets family 0, which the kernel refuses (counted as failed).
func (w *batchWriter) putSockaddr(i int, to netip.AddrPort) uint32 {
	sa := &w.names[i]
	*sa = unix.RawSockaddrInet6{}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(to.Port()>>8), byte(to.Port())
	if w.v6 {
		sa.Family = unix.AF_INET6
		sa.Addr = to.Addr().As16() // IPv4 becomes v4-mapped, as a dual-stack socket needs
		return unix.SizeofSockaddrInet6
	}
	if a := to.Addr().Unmap(); a.Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		sa4.Addr = a.As4()
	}
	return unix.SizeofSockaddrInet4
}

func isIPv6Socket(rc syscall.RawConn) (bool, error) {
	var v6 bool
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		sa, serr = unix.Getsockname(int(fd))
		_, v6 = sa.(*unix.SockaddrInet6)
	}); err != nil {
		return false, fmt.Errorf("udp: raw control: %w", err)
	}
	if serr != nil {
		return false, fmt.Errorf("udp: getsockname: %w", serr)
	}
	return v6, nil
}

// socketBuffers returns the effective SO_RCVBUF and SO_SNDBUF (the kernel doubles requests and
// caps them at rmem_max/wmem_max, environment.md §5).
func socketBuffers(rc syscall.RawConn) (rcv, snd int) {
	_ = rc.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	return rcv, snd
}
