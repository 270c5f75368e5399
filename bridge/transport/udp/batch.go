package udp

import "net/netip"

// Batch is a send batch owned by one caller goroutine (an egress worker): datagrams added
// during the caller's turn leave in one sendmmsg call (with UDP GSO for runs to one
// destination) on the caller's own goroutine when it calls Flush. Handing each datagram to
// the writer goroutine instead costs a channel hop and a wake-up per batch, which under load
// was most of the send path's CPU. A Batch is not safe for concurrent use, but any number of
// Batches (and the writer goroutine) may send on the socket at once: each sendmmsg is one
// system call on the shared fd.
type Batch struct {
	s  *Socket
	w  *batchWriter
	ds [batchSize]outDatagram
	n  int
}

// NewBatch returns an empty batch on s. It allocates; create one per goroutine and reuse it.
func (s *Socket) NewBatch() *Batch {
	return &Batch{s: s, w: newBatchWriter(s.rc, s.conn, s.v6)}
}

// Add appends the first n bytes of buf, to addr, and transfers ownership of buf as Enqueue
// does: it is returned to the pool after the send, or at once (returning false, a counted
// DropClosed) when the socket is closed. A full batch is flushed first. Never blocks for
// long: a full socket buffer makes the flush wait for writability, as the writer would.
func (b *Batch) Add(buf *Buffer, n int, addr netip.AddrPort) bool {
	if b.s.closed.Load() {
		PutBuffer(buf, n)
		b.s.stats.drops[DropClosed].Add(1)
		return false
	}
	if b.n == len(b.ds) {
		b.Flush()
	}
	b.ds[b.n] = outDatagram{buf: buf, n: n, to: addr}
	b.n++
	return true
}

// Len returns the number of datagrams waiting for Flush.
func (b *Batch) Len() int { return b.n }

// Flush sends the added datagrams, counts them (Sent, GSOSent, DropSendError) and returns
// their buffers to the pool. A no-op on an empty batch.
func (b *Batch) Flush() {
	if b.n == 0 {
		return
	}
	s := b.s
	sent, failed := b.w.write(b.ds[:b.n])
	s.stats.sendCall.Add(1)
	s.stats.sent.Add(uint64(sent))
	s.stats.messages.Add(uint64(b.w.messages))
	if b.w.gsoSent > 0 {
		s.stats.gsoSent.Add(uint64(b.w.gsoSent))
	}
	if failed > 0 {
		s.stats.drops[DropSendError].Add(uint64(failed))
	}
	for i := range b.n {
		PutBuffer(b.ds[i].buf, b.ds[i].n)
		b.ds[i] = outDatagram{}
	}
	b.n = 0
}
