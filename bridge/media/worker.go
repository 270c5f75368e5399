package media

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// maxWorkers bounds the egress workers so that the fan-out can note the workers to wake in
// one uint64.
const maxWorkers = 64

// worker is an egress goroutine shared by a fixed set of endpoints. One goroutine per
// endpoint made ingress wake a goroutine per receiver for every fanned-out packet; a worker
// is woken at most once per packet, however many of its endpoints the packet goes to, and
// then drains their queues in turn. Each endpoint belongs to exactly one worker for its
// life, so its egress state (senders, RTX history, the outgoing SRTP context through
// Transport.WriteRTP) still has a single writer.
type worker struct {
	idx uint
	_   [cacheLine]byte
	// runq is a lock-free stack of the endpoints with queued items (Endpoint.next links
	// them); an endpoint is on it at most once (Endpoint.sched).
	runq atomic.Pointer[Endpoint]
	_    [cacheLine - 8]byte
	// parked is 1 while the worker is about to block or blocked on bell; the producer that
	// sees it resets it and rings.
	parked atomic.Uint32
	_      [cacheLine - 4]byte
	bell   chan struct{}
	// batch collects the datagrams the worker's turns send (nil without a socket): flushed
	// with one sendmmsg when a round of turns ends or it is full, on this goroutine, instead
	// of a hop to the socket's writer goroutine per datagram.
	batch *udp.Batch
}

const cacheLine = 64

// workerCount is the number of egress workers: n when set, else one per P.
func workerCount(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return min(max(n, 1), maxWorkers)
}

// startWorkers starts n egress workers that run until stop is closed; with sock, each
// sends its endpoints' packets in its own batch on sock.
func startWorkers(n int, sock *udp.Socket, stop <-chan struct{}, wg *sync.WaitGroup) []*worker {
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{idx: uint(i), bell: make(chan struct{}, 1)}
		if sock != nil {
			ws[i].batch = sock.NewBatch()
		}
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			w.run(stop)
		}(ws[i])
	}
	return ws
}

// enqueue puts e, whose sched flag the caller has just set, on the run stack.
func (w *worker) enqueue(e *Endpoint) {
	for {
		old := w.runq.Load()
		e.next = old
		if w.runq.CompareAndSwap(old, e) {
			return
		}
	}
}

// ring wakes the worker if it is parked. Dekker with wait: the producer pushes onto runq
// before loading parked, the worker stores parked before its last look at runq, and Go's
// atomics are sequentially consistent, so at least one of them sees the other.
func (w *worker) ring() {
	if w.parked.Load() != 0 && w.parked.CompareAndSwap(1, 0) {
		select {
		case w.bell <- struct{}{}:
		default:
		}
	}
}

// wait parks the worker until an endpoint is scheduled or stop is closed (false). Spurious
// wake-ups are possible.
func (w *worker) wait(stop <-chan struct{}) bool {
	w.parked.Store(1)
	if w.runq.Load() != nil {
		w.parked.Store(0)
		return true
	}
	select {
	case <-w.bell:
		return true
	case <-stop:
		w.parked.Store(0)
		return false
	}
}

// run takes the scheduled endpoints, oldest first, and gives each one turn, until stop.
func (w *worker) run(stop <-chan struct{}) {
	for {
		list := w.runq.Swap(nil)
		if list == nil {
			if !w.wait(stop) {
				return
			}
			continue
		}
		var fifo *Endpoint
		for list != nil {
			next := list.next
			list.next, fifo = fifo, list
			list = next
		}
		for e := fifo; e != nil; {
			next := e.next
			e.next = nil
			// Cleared before the turn looks at the queue: an item pushed after the turn's
			// last Pop finds the flag clear and schedules e again.
			e.sched.Store(0)
			e.egressTurn()
			e = next
		}
		// Before looking for more work (and maybe parking): nothing may wait in the batch.
		if w.batch != nil {
			w.batch.Flush()
		}
	}
}

// schedule puts e on its worker's run stack after an item was pushed onto its queue, unless
// it is there already; it reports whether the worker must be rung.
func (e *Endpoint) schedule() bool {
	if e.w == nil || e.sched.Load() != 0 || !e.sched.CompareAndSwap(0, 1) {
		return false
	}
	e.w.enqueue(e)
	return true
}

// push queues it for e's egress and wakes e's worker if needed; false: the queue is full.
func (e *Endpoint) push(it item) bool {
	if !e.q.TryPush(it) {
		return false
	}
	if e.schedule() {
		e.w.ring()
	}
	return true
}

// ringWorkers wakes the workers whose bits are set in mask (Plane.workers indices).
func (p *Plane) ringWorkers(mask uint64) {
	for i := 0; mask != 0; i++ {
		if mask&1 != 0 {
			p.workers[i].ring()
		}
		mask >>= 1
	}
}

// egressTurn handles up to popBatch of e's items on its worker; with more queued, e goes to
// the back of the run stack so that one busy endpoint does not hold up the others.
func (e *Endpoint) egressTurn() {
	e.egMu.Lock()
	if e.detached {
		e.egMu.Unlock()
		return
	}
	full := e.drainBatch(e.p.now()) == popBatch
	e.egMu.Unlock()
	if full && e.sched.CompareAndSwap(0, 1) {
		e.w.enqueue(e) // the worker itself: it looks at runq again before parking
	}
}
