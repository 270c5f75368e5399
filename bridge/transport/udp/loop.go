package udp

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"go.uber.org/zap"
)

// readLoop is the socket's only reader: it owns the receive batch and calls handlers
// synchronously, so a handler's receive state needs no lock.
func (s *Socket) readLoop() {
	defer s.wg.Done()
	r := newBatchReader(s.rc, s.conn, s.gro, s.readSlots)
	defer r.release()
	for {
		n, err := r.read()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("media socket read failed", zap.Error(err))
			// A persistent error must not spin the core; one short pause bounds the rate.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.stats.recvCall.Add(1)
		// One clock read per batch: receive times within a batch differ by microseconds.
		now := time.Now().UnixNano()
		delivered := 0
		for i := range n {
			b, from, seg, truncated := r.message(i)
			if truncated {
				s.stats.drops[DropTruncated].Add(1)
				continue
			}
			delivered += s.deliver(b, from, seg, now)
		}
		s.stats.received.Add(uint64(delivered))
	}
}

// deliver dispatches one received message: a single datagram, or (seg > 0) datagrams of seg
// bytes that UDP GRO coalesced, the last possibly shorter. It returns how many a handler took.
func (s *Socket) deliver(b []byte, from netip.AddrPort, seg int, now int64) int {
	if seg <= 0 || seg >= len(b) {
		if len(b) > MTU {
			s.stats.drops[DropTruncated].Add(1)
			return 0
		}
		if s.dispatch(b, from, now) {
			return 1
		}
		return 0
	}
	count := (len(b) + seg - 1) / seg
	s.stats.groReceived.Add(uint64(count))
	if seg > MTU {
		s.stats.drops[DropTruncated].Add(uint64(count))
		return 0
	}
	delivered := 0
	for off := 0; off < len(b); off += seg {
		end := min(off+seg, len(b))
		// The capacity ends with the datagram: a handler appending in place must not
		// overwrite the next one.
		if s.dispatch(b[off:end:end], from, now) {
			delivered++
		}
	}
	return delivered
}

// dispatch routes one datagram; it reports whether a handler took it.
func (s *Socket) dispatch(b []byte, from netip.AddrPort, now int64) bool {
	kind := rtp.Classify(b)
	h, reason := s.routes.Load().route(kind, b, from)
	if h == nil {
		s.stats.drops[reason].Add(1)
		return false
	}
	h.HandleDatagram(kind, b, from, now)
	return true
}

// writeLoop is the socket's only batched writer: it drains up to batchSize queued datagrams
// per sendmmsg call and returns their buffers to the pool.
func (s *Socket) writeLoop() {
	defer s.wg.Done()
	w := newBatchWriter(s.rc, s.conn, s.v6)
	var batch [batchSize]outDatagram
	for {
		select {
		case batch[0] = <-s.sendq:
		case <-s.done:
			return
		}
		k := 1
	fill:
		for k < batchSize {
			select {
			case batch[k] = <-s.sendq:
				k++
			default:
				break fill
			}
		}
		sent, failed := w.write(batch[:k])
		s.stats.sendCall.Add(1)
		s.stats.sent.Add(uint64(sent))
		s.stats.messages.Add(uint64(w.messages))
		if w.gsoSent > 0 {
			s.stats.gsoSent.Add(uint64(w.gsoSent))
		}
		if failed > 0 {
			s.stats.drops[DropSendError].Add(uint64(failed))
		}
		for i := range k {
			PutBuffer(batch[i].buf, batch[i].n)
			batch[i] = outDatagram{}
		}
	}
}
