//go:build !linux

package udp

import (
	"net"
	"net/netip"
	"syscall"
)

// Portable fallback without recvmmsg/sendmmsg: one datagram per call. Production runs on
// Linux; this keeps the package building elsewhere.

type batchReader struct {
	conn *net.UDPConn
	buf  *Buffer
	n    int
	from netip.AddrPort
}

func newBatchReader(_ syscall.RawConn, conn *net.UDPConn, _ bool, _ int) *batchReader {
	return &batchReader{conn: conn, buf: GetBuffer()}
}

func (r *batchReader) release() { PutBuffer(r.buf, MTU) }

func (r *batchReader) read() (int, error) {
	n, from, err := r.conn.ReadFromUDPAddrPort(r.buf[:])
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	return 1, nil
}

func (r *batchReader) message(int) ([]byte, netip.AddrPort, int, bool) {
	return r.buf[:r.n], r.from, 0, false
}

func enableGRO(syscall.RawConn) bool { return false }

type batchWriter struct {
	conn     *net.UDPConn
	v6       bool
	gso      bool // always false: no GSO here
	gsoSent  int  // always 0
	messages int  // one per datagram sent
}

func newBatchWriter(_ syscall.RawConn, conn *net.UDPConn, v6 bool) *batchWriter {
	return &batchWriter{conn: conn, v6: v6}
}

func (w *batchWriter) write(ds []outDatagram) (sent, failed int) {
	defer func() { w.messages = sent }()
	for _, d := range ds {
		to := d.to
		if w.v6 && to.Addr().Is4() {
			to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
		}
		if _, err := w.conn.WriteToUDPAddrPort(d.buf[:d.n], to); err != nil {
			failed++
			continue
		}
		sent++
	}
	return sent, failed
}

// writeOne sends b to `to` at once (Socket.WriteTo).
func (w *batchWriter) writeOne(b []byte, to netip.AddrPort) (int, error) {
	if w.v6 && to.Addr().Is4() {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	}
	return w.conn.WriteToUDPAddrPort(b, to)
}

func isIPv6Socket(_ syscall.RawConn) (bool, error) { return false, nil }

func socketBuffers(syscall.RawConn) (int, int) { return 0, 0 }
