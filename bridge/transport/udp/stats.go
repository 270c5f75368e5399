package udp

import "sync/atomic"

// counters are the socket's statistics. Each is written with atomic adds, mostly by the single
// reader or writer goroutine, so the adds are uncontended.
type counters struct {
	received atomic.Uint64 // datagrams delivered to a handler
	sent     atomic.Uint64 // datagrams the kernel accepted
	recvCall atomic.Uint64 // recvmmsg calls that returned data
	sendCall atomic.Uint64 // sendmmsg/sendto calls
	gsoSent  atomic.Uint64 // datagrams sent as UDP GSO segments (included in sent)
	messages atomic.Uint64 // messages sent: a GSO run or a single datagram each
	// groReceived counts datagrams that arrived coalesced by UDP GRO (delivered or dropped).
	groReceived atomic.Uint64
	drops       [numDropReasons]atomic.Uint64
}

// Stats is a snapshot of the socket counters.
type Stats struct {
	Received, Sent       uint64
	RecvCalls, SendCalls uint64
	// GSOSent counts the datagrams (of Sent) that left as UDP GSO segments; SentMessages
	// the messages they all left in (a GSO run or a single datagram each): the kernel's send
	// path costs mostly per message.
	GSOSent, SentMessages uint64
	// GROReceived counts the datagrams that arrived coalesced by UDP GRO.
	GROReceived uint64
	// Drops counts datagrams by DropReason (index DropNone is unused).
	Drops [numDropReasons]uint64
}

// Dropped returns the count for one reason.
func (s Stats) Dropped(r DropReason) uint64 {
	if int(r) < len(s.Drops) {
		return s.Drops[r]
	}
	return 0
}

// Stats returns a snapshot of the counters.
func (s *Socket) Stats() Stats {
	st := Stats{
		Received: s.stats.received.Load(), Sent: s.stats.sent.Load(),
		RecvCalls: s.stats.recvCall.Load(), SendCalls: s.stats.sendCall.Load(),
		GSOSent: s.stats.gsoSent.Load(), SentMessages: s.stats.messages.Load(), GROReceived: s.stats.groReceived.Load(),
	}
	for i := range st.Drops {
		st.Drops[i] = s.stats.drops[i].Load()
	}
	return st
}
