package speaker

import (
	"math"
	"sync/atomic"
)

// ringSize is the capacity of a speaker's lock-free level queue. Decide drains it every
// 300 ms, about 15 levels at 20 ms ptime; 64 leaves room for a late timer and 10 ms ptime.
// One slot is kept as a guard against the producer overwriting what the consumer is reading,
// so up to ringSize-1 levels survive between two drains, more than the 50-level history.
const (
	ringSize = 64
	ringMask = ringSize - 1
)

// Speaker is one endpoint's audio level input, returned by Identifier.Add. The media path
// keeps it and calls Level for every audio packet, with no map lookup and no lock.
type Speaker struct {
	id string

	// Producer side: only the goroutine calling Level writes these. lastMs is private to it;
	// written and ring are read by Decide, hence atomic (a store publishes the slot).
	lastMs  int64         // time of the newest accepted level; older ones are late (JVB drops them)
	written atomic.Uint64 // levels published so far; slot i%ringSize holds level i
	ring    [ringSize]atomic.Uint64

	// Consumer side, guarded by the owning Identifier's mu.
	h history
}

// ID is the endpoint id the speaker was added with.
func (s *Speaker) ID() string { return s.id }

// Level records the audio level of one packet: 127 minus the RFC 6464 -dBov value, so higher
// is louder (media.md §2.8); values outside 0..127 are clamped. now is nanoseconds on the
// caller's clock. Levels older than the newest one are ignored, as in JVB.
//
// Level must not be called concurrently for the same Speaker; if the calling goroutine ever
// changes, the handover must be synchronized (a channel, a mutex). It never allocates or blocks.
func (s *Speaker) Level(level int, now int64) {
	ms := now / 1e6
	if ms < 0 {
		ms = 0
	}
	if ms < s.lastMs {
		return
	}
	s.lastMs = ms
	level = min(max(level, 0), maxLevel)
	i := s.written.Load()
	s.ring[i&ringMask].Store(uint64(ms)<<7 | uint64(level))
	s.written.Store(i + 1) // publishes the slot
}

// drain moves the levels published since the last drain into the history, then pushes the
// synthetic silence of an idle speaker up to nowMs. Called with the Identifier's mu held.
func (s *Speaker) drain(nowMs int64) {
	w := s.written.Load()
	start := s.h.read
	if w-start > ringSize-1 {
		// The consumer fell behind and the oldest slots were overwritten. What is lost
		// would have left the 50-level history anyway.
		start = w - (ringSize - 1)
	}
	for j := start; j < w; j++ {
		v := s.ring[j&ringMask].Load()
		s.h.real(int64(v>>7), uint8(v&0x7f))
	}
	s.h.read = w
	s.h.idleUntil(nowMs)
}

// history is the consumer-side state of one speaker (jitsi-utils DominantSpeakerIdentification
// .Speaker), advanced only by Decide.
type history struct {
	read      uint64 // ring index of the next level to drain
	seen      bool   // at least one real level: the speaker takes part in decisions
	lastMs    int64  // time of the newest real level
	idleZeros int64  // synthetic zeros pushed since lastMs

	levels [historyLength]uint8 // newest first

	// Noise floor. 0 means not yet known (level 0 is what a muted source sends).
	minLevel       uint8
	nextMinLevel   uint8
	nextMinWindowN int

	scores scores
}

// real appends a level received at tMs. Levels out of order (only possible after an overrun)
// are dropped like JVB's late levels.
func (h *history) real(tMs int64, level uint8) {
	if h.seen && tMs < h.lastMs {
		return
	}
	h.idleUntil(tMs)
	h.push(level)
	h.updateMinLevel(level)
	h.seen = true
	h.lastMs = tMs
	h.idleZeros = 0
}

// idleUntil pushes the zeros JVB's 40 ms idle task would have pushed by tMs. That task runs
// every LEVEL_IDLE_TIMEOUT and pushes a 0 for each speaker whose last level is more than
// 40 ms old, so a gap of g ms holds about g/40 − 1 synthetic zeros. Ordinary 20 ms packets
// never produce one; a muted or DTX speaker decays toward silence at about 25 levels per second.
func (h *history) idleUntil(tMs int64) {
	if !h.seen {
		return
	}
	due := (tMs-h.lastMs)/levelIdleMs - 1
	if due <= h.idleZeros {
		return
	}
	n := min(due-h.idleZeros, historyLength)
	h.idleZeros = due
	for range n {
		h.push(0)
	}
}

func (h *history) push(level uint8) {
	copy(h.levels[1:], h.levels[:historyLength-1])
	h.levels[0] = level
}

// updateMinLevel tracks the speaker's noise floor: any lower non-zero level replaces it at
// once, while higher levels feed a candidate minimum over 750 levels, after which the floor
// rises to the geometric mean of the old floor and the candidate (a slow rise on purpose).
func (h *history) updateMinLevel(level uint8) {
	switch {
	case level == 0:
		return
	case h.minLevel == 0 || level < h.minLevel:
		h.minLevel = level
		h.nextMinLevel = 0
		h.nextMinWindowN = 0
	case h.nextMinLevel == 0:
		h.nextMinLevel = level
		h.nextMinWindowN = 1
	default:
		h.nextMinLevel = min(h.nextMinLevel, level)
		h.nextMinWindowN++
		if h.nextMinWindowN >= minLevelWindow {
			// Truncated like JVB's (byte) cast of the double.
			h.minLevel = uint8(math.Sqrt(float64(h.minLevel) * float64(h.nextMinLevel)))
			h.nextMinLevel = 0
			h.nextMinWindowN = 0
		}
	}
}

// evaluate recomputes the scores from the history. JVB recomputes a score only when its input
// changed; the scores are pure functions of the history, so recomputing always is equivalent.
func (h *history) evaluate() {
	h.scores = scoresOf(activity(&h.levels, h.minLevel))
}

// reset forgets everything but the ring cursor, as JVB does when it drops an idle speaker.
func (h *history) reset() {
	*h = history{read: h.read, scores: scores{minScore, minScore, minScore}}
}
