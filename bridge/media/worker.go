package media

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/sender"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// maxWorkers bounds the egress workers so that the fan-out can note the workers to wake in
// one uint64.
const maxWorkers = 64

// worker is an egress goroutine shared by a fixed set of endpoints. One goroutine per
// endpoint made ingress wake a goroutine per receiver for every fanned-out packet; a worker
// is woken at most once per packet, however many of its endpoints the packet goes to. Each
// endpoint belongs to exactly one worker for its life, so its egress state (senders, RTX
// history, the outgoing SRTP context through Transport.WriteRTP) still has a single writer.
//
// Media reaches a worker once per packet, not once per receiver: ingress pushes one fanItem
// onto the worker's media queue and the worker walks the source's subscribers that it owns
// (fan). Queueing a descriptor per receiver cost ingress a queue slot, a scheduling CAS and a
// cold cache line per receiver, and the worker a turn per receiver (≈ 7 % of the bridge's
// CPU at a fan-out of 100). The endpoints' own queues carry the rest (RTCP, NACKs, keyframe
// requests, SRs, snapshot refreshes), handled in turns (egressTurn).
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
	// media holds the packets to forward to this worker's endpoints, in arrival order.
	media *packet.Queue[fanItem]
	clock func() int64
	// popped holds the packets of the current round.
	popped [mediaBatch]fanItem
	// scratch is where the worker's endpoints' packets are rendered (sender.Receiver.Scratch).
	scratch sender.Scratch
	// batch collects the datagrams the worker's turns send (nil without a socket): flushed
	// with one sendmmsg when a round of turns ends or it is full, on this goroutine, instead
	// of a hop to the socket's writer goroutine per datagram.
	batch *udp.Batch
	// hints collects the fan-out's prefetch hints (hint.go).
	hints prefetch.Batch
}

// fanItem is one packet of a source for the subscribers of src that a worker owns.
type fanItem struct {
	buf   *packet.Buf
	src   *srcView // in the snapshot the packet arrived under
	codec router.Codec
	// padTo is the payload length the packet is padded to on egress (0: none), set for the
	// round by framePads. It lives here, not in buf, because buf is shared with other
	// workers.
	padTo int32
}

const (
	// workerQueue is the capacity of a worker's media queue: packets, not packets × receivers.
	workerQueue = 4096
	// mediaBatch bounds the packets a worker forwards before it gives the endpoints' own
	// queues (RTCP, NACKs) a turn.
	mediaBatch = 32
)

const cacheLine = 64

// workerCount is the number of egress workers: n when set, else one per P.
func workerCount(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return min(max(n, 1), maxWorkers)
}

// newWorkers returns n egress workers that take the time from clock; with sock, each sends
// its endpoints' packets in its own batch on sock. start runs them until stop is closed
// (without start, tests drive them with round).
func newWorkers(n int, sock *udp.Socket, clock func() int64) []*worker {
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{idx: uint(i), bell: make(chan struct{}, 1), clock: clock,
			media: packet.NewQueue[fanItem](workerQueue)}
		if sock != nil {
			ws[i].batch = sock.NewBatch()
		}
	}
	return ws
}

func startWorkers(ws []*worker, stop <-chan struct{}, wg *sync.WaitGroup) {
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(stop)
		}()
	}
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

// ring wakes the worker if it is parked. Dekker with wait: the producer pushes onto runq or
// the media queue before loading parked, the worker stores parked before its last look at
// both, and Go's atomics are sequentially consistent, so at least one of them sees the other.
func (w *worker) ring() {
	if w.parked.Load() != 0 && w.parked.CompareAndSwap(1, 0) {
		select {
		case w.bell <- struct{}{}:
		default:
		}
	}
}

// wait parks the worker until work is queued or stop is closed (false). Spurious wake-ups
// are possible.
func (w *worker) wait(stop <-chan struct{}) bool {
	w.parked.Store(1)
	if w.runq.Load() != nil || w.media.Ready() {
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

// run handles rounds until stop, parking when a round found nothing to do.
func (w *worker) run(stop <-chan struct{}) {
	for {
		if !w.round() && !w.wait(stop) {
			return
		}
	}
}

// round forwards up to mediaBatch queued packets, then gives each scheduled endpoint one
// turn, oldest first, and sends what they produced; it reports whether there was any work.
func (w *worker) round() bool {
	did := false
	now := w.clock()
	n := 0
	for ; n < mediaBatch; n++ {
		it, ok := w.media.Pop()
		if !ok {
			break
		}
		w.popped[n] = it
	}
	// Runs of one source's packets (a video frame's burst) go to each subscriber back to
	// back, so that its datagrams leave in one UDP GSO send (batch_linux.go) and its egress
	// state is loaded once per run, not per packet. Sources with the same subscribers (one
	// owner's audio and video) go to each subscriber together, video first: the audio packet,
	// shorter, can end the video's GSO send instead of costing a message of its own.
	w.group(n)
	framePads(w.popped[:n])
	for i := 0; i < n; {
		subs := w.popped[i].src.subsOf(w)
		j := i + 1
		for j < n && sameList(w.popped[j].src.subsOf(w), subs) {
			j++
		}
		w.fan(w.popped[i:j], subs, now)
		i = j
		did = true
	}
	clear(w.popped[:n])
	list := w.runq.Swap(nil)
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
		did = true
	}
	// Before looking for more work (and maybe parking): nothing may wait in the batch.
	if w.batch != nil {
		w.batch.Flush()
	}
	return did
}

// group reorders the round's packets popped[:n]: by subscriber list (sources sharing one are
// adjacent), video sources before audio ones within a list, then by source; each in order of
// first arrival. The sort is stable, so each source's packets keep their order.
func (w *worker) group(n int) {
	if n < 2 {
		return
	}
	var lists [mediaBatch]**Endpoint
	var srcs [mediaBatch]*srcView
	nl, ns := 0, 0
	rank := func(v **Endpoint, s *srcView) uint32 {
		audio := uint32(0)
		if s.rs.Kind == router.KindAudio {
			audio = 1
		}
		return uint32(firstSeen(&lists, &nl, v))<<16 | audio<<8 | uint32(firstSeen(&srcs, &ns, s))
	}
	var keys [mediaBatch]uint32
	for i := range n {
		keys[i] = rank(listID(w.popped[i].src.subsOf(w)), w.popped[i].src)
	}
	for i := 1; i < n; i++ { // insertion sort: n ≤ 32, usually already in order
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
			w.popped[j], w.popped[j-1] = w.popped[j-1], w.popped[j]
		}
	}
}

// firstSeen returns v's rank among the first n values of seen, in order of first appearance,
// appending it when new (at most mediaBatch values: one per packet of a round).
func firstSeen[T comparable](seen *[mediaBatch]T, n *int, v T) int {
	for i := range *n {
		if seen[i] == v {
			return i
		}
	}
	seen[*n] = v
	*n++
	return *n - 1
}

// listID identifies a subscriber list by its backing array (internSubs makes equal lists of
// one owner's sources share one); nil for an empty list.
func listID(l []*Endpoint) **Endpoint {
	if len(l) == 0 {
		return nil
	}
	return unsafe.SliceData(l)
}

// sameList reports whether a and b are the same list (shared, not just equal).
func sameList(a, b []*Endpoint) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(b))
}

// fan forwards items, the round's packets of sources sharing the subscriber list subs (w's
// own), grouped by source in arrival order: to each subscriber in turn, every source's run
// back to back. Each subscriber gets its own references; the queue's are given up at the end.
func (w *worker) fan(items []fanItem, subs []*Endpoint, now int64) {
	hints := len(subs) >= hintMinFanout
	for k, dst := range subs {
		if hints {
			w.hint(subs, items, k)
		}
		if !dst.closed.Load() {
			dst.forwardRuns(items, now)
		}
	}
	for i := range items {
		items[i].buf.Release()
	}
}

// runEnd returns the end of the run of one source's packets that starts at items[i].
func runEnd(items []fanItem, i int) int {
	j := i + 1
	for j < len(items) && items[j].src == items[i].src {
		j++
	}
	return j
}

// forwardRuns forwards items (runs of one source's packets each) to e on e's worker, in one
// turn of e's egress, unless Close has taken it over.
func (e *Endpoint) forwardRuns(items []fanItem, now int64) {
	e.egMu.Lock()
	if !e.detached {
		e.refresh()
		for i := 0; i < len(items); {
			j := runEnd(items, i)
			sv := items[i].src
			// Signaled sources are all regular: the bridge generates no synthetic audio yet.
			if sv.rs.Kind == router.KindAudio && !e.audioSub.Load().allows(sv.rs.Name, false) {
				e.cin.drops[DropAudioNotSubscribed].Add(uint64(j - i))
			} else {
				for ; i < j; i++ {
					items[i].buf.Ref() // Forward takes this one over
					e.forward(&items[i], now)
				}
			}
			i = j
		}
		e.publishForwarded()
	}
	e.egMu.Unlock()
}

// dropFull counts a packet that the worker's full media queue refused, for each of that
// worker's subscribers.
func (w *worker) dropFull(it *fanItem) {
	for _, dst := range it.src.subsOf(w) {
		dst.cin.drops[DropQueueFull].Add(1)
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
