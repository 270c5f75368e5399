package packet

import (
	"sync/atomic"
	"time"
)

// Queue is a bounded lock-free ring for many producers and one consumer,
// after Dmitry Vyukov's bounded MPMC queue: every slot carries a sequence
// number that says whose turn it is, so producers claim a slot with one CAS
// on the tail and publish it with one store, and the consumer needs no
// atomic read-modify-write at all. The capacity is a power of two.
//
// It is the egress queue of an endpoint: the socket reader goroutine (and
// the RTCP path) push descriptors, the endpoint's egress goroutine pops
// them. TryPush never blocks; a full queue is the caller's counted drop
// (ARCHITECTURE.md packet-path rule 5).
//
// A consumer with nothing to do parks in Wait. The doorbell is a channel of
// capacity 1 that a producer signals only when the consumer has announced
// that it is parking, so the hot path costs one atomic load, not a channel
// operation per packet.
type Queue[T any] struct {
	_ [cacheLine]byte
	// tail is the next position producers claim (CAS by producers).
	tail atomic.Uint64
	_    [cacheLine - 8]byte
	// head is the next position to pop; only the consumer touches it.
	head uint64
	_    [cacheLine - 8]byte
	// parked is 1 while the consumer is in Wait (or about to block there);
	// the producer that sees it resets it to 0 and rings bell.
	parked atomic.Uint32
	_      [cacheLine - 4]byte

	mask  uint64
	slots []slot[T]
	bell  chan struct{}
}

const cacheLine = 64

type slot[T any] struct {
	// seq is pos when the slot is free for the producer of position pos,
	// and pos+1 once that producer has published its value.
	seq atomic.Uint64
	val T
}

// NewQueue returns a queue holding at least capacity items (rounded up to a
// power of two, minimum 2).
func NewQueue[T any](capacity int) *Queue[T] {
	n := 2
	for n < capacity {
		n <<= 1
	}
	q := &Queue[T]{mask: uint64(n - 1), slots: make([]slot[T], n), bell: make(chan struct{}, 1)}
	for i := range q.slots {
		q.slots[i].seq.Store(uint64(i))
	}
	return q
}

// Cap is the number of items the queue holds when full.
func (q *Queue[T]) Cap() int { return len(q.slots) }

// TryPush appends v and reports true, or reports false at once when the
// queue is full. Safe for any number of concurrent producers.
func (q *Queue[T]) TryPush(v T) bool {
	pos := q.tail.Load()
	for {
		s := &q.slots[pos&q.mask]
		seq := s.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if !q.tail.CompareAndSwap(pos, pos+1) {
				pos = q.tail.Load()
				continue
			}
			s.val = v
			s.seq.Store(pos + 1)
			// Dekker with Wait: the consumer stores parked before its last
			// look at the slot, we load parked after publishing, and Go's
			// atomics are sequentially consistent, so at least one of us
			// sees the other.
			if q.parked.Load() != 0 && q.parked.CompareAndSwap(1, 0) {
				select {
				case q.bell <- struct{}{}:
				default:
				}
			}
			return true
		case d < 0:
			// The slot still holds the value from one lap ago: full.
			return false
		default:
			// Another producer claimed pos; catch up.
			pos = q.tail.Load()
		}
	}
}

// Pop removes and returns the oldest published item, or reports false when
// there is none. Only one goroutine may call Pop and Wait.
//
// An item whose producer has claimed its slot but not yet published it
// blocks the items behind it until it is published; a consumer that then
// Waits is woken by that publication.
func (q *Queue[T]) Pop() (T, bool) {
	var zero T
	s := &q.slots[q.head&q.mask]
	if s.seq.Load() != q.head+1 {
		return zero, false
	}
	v := s.val
	s.val = zero // drop the reference so the GC is not kept from anything
	s.seq.Store(q.head + q.mask + 1)
	q.head++
	return v, true
}

// Len is the number of items claimed by producers and not yet popped; an
// approximation while producers are running. Only the consumer may call it
// (it reads the consumer's position without synchronization); the consumer
// can publish it as a gauge.
func (q *Queue[T]) Len() int {
	n := int64(q.tail.Load() - q.head)
	return int(min(max(n, 0), int64(len(q.slots))))
}

// ready reports whether Pop would return an item.
func (q *Queue[T]) ready() bool {
	return q.slots[q.head&q.mask].seq.Load() == q.head+1
}

// Wait blocks the consumer until an item may be ready, wake fires or stop is
// closed, and reports false only for stop. It returns at once when an item is
// ready. A nil wake never fires; pass a timer's channel to bound the wait.
// Spurious wake-ups are possible: the caller pops until Pop reports false and
// then waits again.
func (q *Queue[T]) Wait(stop <-chan struct{}, wake <-chan time.Time) bool {
	if q.ready() {
		return true
	}
	q.parked.Store(1)
	if q.ready() {
		q.parked.Store(0)
		return true
	}
	select {
	case <-q.bell:
		return true
	case <-wake:
		q.parked.Store(0)
		return true
	case <-stop:
		q.parked.Store(0)
		return false
	}
}

// Ready reports whether Pop would return an item. Only the consumer may call it. Unlike
// Len, it does not count an item whose producer has claimed a slot but not yet published
// it: a consumer about to park must not spin on one (the producer wakes it after publishing).
func (q *Queue[T]) Ready() bool { return q.ready() }
