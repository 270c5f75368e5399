package receiver

// Bridge-generated NACKs toward a video sender (media.md §2.6, JVB's
// RetransmissionRequester; §6 "NACK retry").
const (
	// NackInterval is the time between two requests for the same packet.
	NackInterval int64 = 150e6
	// NackMaxTries is the number of requests per packet before giving up.
	NackMaxTries = 10
	// NackMaxJump is the forward jump in sequence numbers at which the
	// generator forgets its state instead of asking for everything between:
	// such a gap is a restart or a long outage, not loss worth repairing.
	NackMaxJump = 100
	// NackCapacity bounds the packets tracked at once; when a new gap
	// overflows it, the oldest missing packets are given up.
	NackCapacity = 256
)

type nackEntry struct {
	seq   uint64 // unwrapped sequence number
	last  int64  // time of the last request; meaningful when tries > 0
	tries uint8
	live  bool // still missing and not given up
}

// NackGenerator tracks the missing sequence numbers of one video SSRC and
// says which to request, and when. Entries sit in a ring in ascending
// sequence order (new gaps are always above everything seen), so a late
// arrival is found by binary search and the memory is bounded.
//
// The zero value is ready to use. It is owned by the ingress goroutine.
type NackGenerator struct {
	ring    [NackCapacity]nackEntry
	head, n int // the entries in ring order are ring[(head+i)%NackCapacity], i < n
	live    int
	highest uint64
	started bool
	// nextDue is the earliest time an entry is due; valid when live > 0.
	nextDue int64

	requested, recovered, gaveUp uint64
}

// Observe records the arrival of the packet with unwrapped sequence number
// seq64 at now. A number above the highest seen opens a gap of missing
// packets, due at once; a jump of NackMaxJump or more resets the state. A
// number below it is a late arrival, retransmitted or reordered, and stops
// the requests for it.
func (g *NackGenerator) Observe(seq64 uint64, now int64) {
	switch {
	case !g.started:
		g.started, g.highest = true, seq64
	case seq64 > g.highest:
		if seq64-g.highest >= NackMaxJump {
			g.Reset()
			g.started = true
		} else {
			for s := g.highest + 1; s < seq64; s++ {
				g.push(s, now)
			}
		}
		g.highest = seq64
	default:
		g.remove(seq64)
	}
}

// Reset forgets everything, as after a source restart.
func (g *NackGenerator) Reset() {
	g.head, g.n, g.live, g.started = 0, 0, 0, false
}

func (g *NackGenerator) push(seq uint64, now int64) {
	if g.n == NackCapacity {
		if g.ring[g.head].live {
			g.live--
			g.gaveUp++
		}
		g.head = (g.head + 1) % NackCapacity
		g.n--
	}
	g.ring[(g.head+g.n)%NackCapacity] = nackEntry{seq: seq, live: true}
	g.n++
	if g.live == 0 || now < g.nextDue {
		g.nextDue = now
	}
	g.live++
}

// remove marks seq64 as received if it is being requested.
func (g *NackGenerator) remove(seq64 uint64) {
	if g.live == 0 {
		return
	}
	// Binary search for the first entry with seq >= seq64.
	lo, hi := 0, g.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if g.ring[(g.head+mid)%NackCapacity].seq < seq64 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == g.n {
		return
	}
	e := &g.ring[(g.head+lo)%NackCapacity]
	if e.seq != seq64 || !e.live {
		return
	}
	e.live = false
	g.live--
	g.recovered++
	g.trim()
}

// trim drops dead entries from the front.
func (g *NackGenerator) trim() {
	for g.n > 0 && !g.ring[g.head].live {
		g.head = (g.head + 1) % NackCapacity
		g.n--
	}
	if g.n == 0 {
		g.head = 0
	}
}

// Due appends to out the sequence numbers to request at now: new gaps at
// once, then every NackInterval, at most NackMaxTries times each, in
// ascending order (what rtp.AppendNACK packs best). It appends at most
// cap(out)-len(out) numbers, so it never allocates; the others stay due for
// the next call.
func (g *NackGenerator) Due(now int64, out []uint16) []uint16 {
	return due(g, now, out)
}

// due is Due for any element type, so that tests can see unwrapped numbers.
func due[T uint16 | uint64](g *NackGenerator, now int64, out []T) []T {
	if g.live == 0 || now < g.nextDue {
		return out
	}
	next := int64(1<<63 - 1)
	for i := 0; i < g.n; i++ {
		e := &g.ring[(g.head+i)%NackCapacity]
		if !e.live {
			continue
		}
		if e.tries > 0 && now-e.last < NackInterval {
			next = min(next, e.last+NackInterval)
			continue
		}
		if len(out) == cap(out) {
			next = now // still due: no room this time
			continue
		}
		out = append(out, T(e.seq))
		g.requested++
		e.tries++
		e.last = now
		if e.tries >= NackMaxTries {
			e.live = false
			g.live--
			g.gaveUp++
			continue
		}
		next = min(next, now+NackInterval)
	}
	g.nextDue = next
	g.trim()
	return out
}

// NextDue returns when Due will next have something to request, and false
// when nothing is missing; the owner can arm its timer with it.
func (g *NackGenerator) NextDue() (int64, bool) {
	return g.nextDue, g.live > 0
}

// Missing is the number of packets currently being requested.
func (g *NackGenerator) Missing() int { return g.live }

// NackStats counts requests for metrics.
type NackStats struct {
	Requested uint64 // sequence numbers put in NACKs, retries included
	Recovered uint64 // missing packets that arrived later
	GaveUp    uint64 // missing packets dropped after NackMaxTries or for room
}

// Stats returns the counters.
func (g *NackGenerator) Stats() NackStats {
	return NackStats{Requested: g.requested, Recovered: g.recovered, GaveUp: g.gaveUp}
}
