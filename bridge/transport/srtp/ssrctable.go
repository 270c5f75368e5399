package srtp

const (
	hotSSRCs = 8    // SSRCs scanned inline before the map: audio, video, RTX and some spare
	maxSSRCs = 4096 // hard bound on tracked SSRCs per context
	// staleTicks: a hot slot that has not protected a packet for this many packets of the
	// context may be handed to an SSRC from the map. Far above the number of SSRCs a receiver
	// interleaves, so active streams never push each other out.
	staleTicks = 4096
)

// Where find located an SSRC: a hot slot index (≥ 0), or one of these.
const (
	slotCold = -1 // in the map
	slotNew  = -2 // not tracked yet
)

// ssrcTable holds per-SSRC state of one context: the outbound ROCs (rocTable) and the inbound
// receive state of SRTP and of SRTCP (replayTable). The first hotSSRCs SSRCs are scanned
// linearly in keys (one cache line) instead of pion's map of pointers; the rest go to a map.
// A map SSRC takes over a hot slot that has been idle for staleTicks packets, so SSRCs of
// departed senders do not keep the hot slots forever, yet more than hotSSRCs interleaved
// active SSRCs never churn (they simply cost one map lookup).
//
// Looking up (find) and recording a packet (keep) are separate steps, so that the inbound side
// creates and moves state only for packets that authenticated.
type ssrcTable[T any] struct {
	n     int32  // hot slots in use
	probe int32  // next hot slot checked for staleness
	tick  uint32 // packets kept, wraps
	keys  [hotSSRCs]uint32
	slots [hotSSRCs]ssrcSlot[T]
	cold  map[uint32]*T
}

// ssrcSlot is a hot SSRC's state and the tick of its last packet.
type ssrcSlot[T any] struct {
	used uint32
	v    T
}

// find returns ssrc's state and where it lives, or nil and slotNew; nothing changes.
func (t *ssrcTable[T]) find(ssrc uint32) (*T, int) {
	for i := range t.n {
		if t.keys[i] == ssrc {
			return &t.slots[i].v, int(i)
		}
	}
	if p, ok := t.cold[ssrc]; ok {
		return p, slotCold
	}
	return nil, slotNew
}

// full reports whether the table tracks maxSSRCs already (no new SSRC fits).
func (t *ssrcTable[T]) full() bool { return t.size() >= maxSSRCs }

// keep records a packet of ssrc, whose state p find returned at slot, and returns where the
// state lives from now on: a new SSRC gets a zero state (in a hot slot while there is one
// free); a map SSRC may take over the next probed hot slot if that one is stale.
func (t *ssrcTable[T]) keep(ssrc uint32, p *T, slot int) *T {
	t.tick++
	switch {
	case slot >= 0:
		t.slots[slot].used = t.tick
		return p
	case slot == slotNew && t.n < hotSSRCs:
		i := t.n
		t.n++
		t.keys[i] = ssrc
		t.slots[i] = ssrcSlot[T]{used: t.tick}
		return &t.slots[i].v
	case slot == slotNew:
		p = new(T) // once per SSRC beyond the hot slots
		if t.cold == nil {
			t.cold = make(map[uint32]*T)
		}
		t.cold[ssrc] = p
	}
	return t.promote(ssrc, p)
}

// promote moves the map SSRC ssrc (state p) into the next probed hot slot if that one has been
// idle for staleTicks packets; the slot's SSRC moves to the map, reusing p's storage.
func (t *ssrcTable[T]) promote(ssrc uint32, p *T) *T {
	i := t.probe
	t.probe = (t.probe + 1) % hotSSRCs
	s := &t.slots[i]
	if t.tick-s.used < staleTicks {
		return p
	}
	delete(t.cold, ssrc)
	v := *p
	*p = s.v
	t.cold[t.keys[i]] = p
	t.keys[i] = ssrc
	*s = ssrcSlot[T]{used: t.tick, v: v}
	return &s.v
}

// size returns the number of SSRCs tracked.
func (t *ssrcTable[T]) size() int { return int(t.n) + len(t.cold) }
