package media

import (
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/sender"
)

// The fan-out's prefetch pipeline. fan forwards a run of packets to each subscriber in turn.
// At a fan-out of a hundred, a subscriber's egress state has left the core's caches by its
// turn (the sends in between stream the datagrams through them), and perf annotate showed a
// miss on each object of the path, each one waited for in turn: the endpoint, its sender for
// the source, the transport, the SRTP context, the destination, the cipher, the RTX history
// slot. Hints for the subscribers ahead overlap those misses with the current one's work.
// The state is a chain of pointers, so hints go out in stages, one level of the chain per
// stage and each for a subscriber nearer in the order: a stage only follows pointers that an
// earlier stage brought in. A subscriber skipped in between (closed, not subscribed to the
// audio) shortens the time a hint has; it does not make one wrong.
//
// Hints for an endpoint read only what its owning worker (this one) writes, or what Close
// leaves alone (see egress.close), so they need no lock.

// Subscribers ahead of the current one that each stage hints.
const (
	hintLines = 5 // the endpoint's per-packet lines
	hintSlot  = 4 // its sender's slot in the by-source table (a separate array past 8 sources)
	hintRefs  = 3 // what they point to: the source's egSender, the transport's media fields (stage 0)
	hintState = 2 // the sender's head and codec state, the SRTP context and the destination (1)
	hintDeep  = 1 // the RTX history slot, the cipher's key schedule and tables (2)
)

// hintMinFanout is the fan-out (a worker's subscribers of the source) from which fan hints:
// below it the subscribers' state stays cached between packets and the hints would only cost.
const hintMinFanout = 8

// hint issues the stages for the subscribers ahead of subs[k] (the worker's subscribers of
// items' sources, which share them), for every source among items, in one batch.
func (w *worker) hint(subs []*Endpoint, items []fanItem, k int) {
	b := &w.hints
	if j := k + hintLines; j < len(subs) {
		subs[j].prefetchLines(b)
	}
	for i := 0; i < len(items); i = runEnd(items, i) {
		sv := items[i].src
		if j := k + hintSlot; j < len(subs) {
			subs[j].prefetchSlot(sv.idx, b)
		}
		if j := k + hintRefs; j < len(subs) {
			subs[j].prefetchSender(sv.idx, b)
		}
		if j := k + hintState; j < len(subs) {
			subs[j].prefetchSenderHead(sv.idx, prefetchKind(sv.rs.Kind == router.KindAudio, items[i].codec), b)
		}
		if j := k + hintDeep; j < len(subs) {
			subs[j].prefetchHistory(sv.idx, b)
		}
	}
	for stage, ahead := range [...]int{hintRefs, hintState, hintDeep} {
		if j := k + ahead; j < len(subs) && subs[j].pf != nil {
			subs[j].pf.PrefetchSend(stage, b)
		}
	}
	b.Issue()
}

// prefetchLines adds the endpoint's lines that forwarding reads: the head through the
// receiver's rewrite state, the sent counters, the constraints and audio subscription. It
// must not read e: addresses come from offsets (taking a field's address, &e.f, makes the
// compiler load from e to check for nil, a miss that would stall right here).
func (e *Endpoint) prefetchLines(b *prefetch.Batch) {
	p := unsafe.Pointer(e)
	b.Add(p, unsafe.Offsetof(e.out)+unsafe.Offsetof(e.out.rx)+unsafe.Offsetof(e.out.rx.RTXFor))
	cout := unsafe.Offsetof(e.cout)
	b.Add(unsafe.Add(p, cout+unsafe.Offsetof(e.cout.rtp)), unsafe.Offsetof(e.cout.bytes)+8-unsafe.Offsetof(e.cout.rtp))
	b.Add(unsafe.Add(p, unsafe.Offsetof(e.cons)), unsafe.Offsetof(e.audioSub)+8-unsafe.Offsetof(e.cons))
}

// egSenderAt returns the endpoint's sender for the source with index idx: nil when it has
// none yet, and possibly another source's while its table predates the snapshot (refresh
// rebuilds it on the endpoint's turn; a hint for the wrong sender is only wasted).
func (e *Endpoint) egSenderAt(idx int) *egSender {
	if idx < len(e.out.bySrc) {
		return e.out.bySrc[idx]
	}
	return nil
}

// prefetchSlot adds the by-source table's entry for idx: the table is the endpoint's own
// inline array up to 8 sources, a separate allocation past that. It reads the table's header,
// in the lines prefetchLines added.
func (e *Endpoint) prefetchSlot(idx int, b *prefetch.Batch) {
	if t := e.out.bySrc; idx < len(t) {
		b.Add(unsafe.Pointer(&t[idx]), unsafe.Sizeof(t[idx])) // the address only: no load of the entry
	}
}

// prefetchSender adds the endpoint's egSender for the source (its slot is cached by now).
func (e *Endpoint) prefetchSender(idx int, b *prefetch.Batch) {
	if es := e.egSenderAt(idx); es != nil {
		b.Add(unsafe.Pointer(es), unsafe.Sizeof(*es))
	}
}

// prefetchSenderHead adds the sender's head and codec state (its egSender is cached by now).
func (e *Endpoint) prefetchSenderHead(idx int, kind sender.Kind, b *prefetch.Batch) {
	if es := e.egSenderAt(idx); es != nil && es.s != nil {
		es.s.PrefetchHead(kind, b)
	}
}

// prefetchHistory adds the sender's next RTX history slot (its head is cached by now).
func (e *Endpoint) prefetchHistory(idx int, b *prefetch.Batch) {
	if es := e.egSenderAt(idx); es != nil && es.s != nil {
		es.s.PrefetchHistory(b)
	}
}

// prefetchKind is which of a sender's codec states the packets of it use.
func prefetchKind(audio bool, codec router.Codec) sender.Kind {
	switch {
	case audio:
		return sender.KindAudio
	case codec == router.CodecVP8:
		return sender.KindVP8
	}
	return sender.KindOtherVideo
}
