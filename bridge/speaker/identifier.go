// Package speaker identifies a conference's dominant speaker from RFC 6464 audio levels, the
// way JVB does (jitsi-utils DominantSpeakerIdentification, an adaptation of Volfin & Cohen,
// "Dominant Speaker Identification for Multipoint Videoconferencing"; media.md §2.9).
//
// It is pure and clock-injected: every call takes now (nanoseconds, any monotonic origin) and
// nothing reads the clock or starts a goroutine.
//
// Concurrency model:
//   - Speaker.Level runs on the media path (one goroutine per Speaker at a time, normally the
//     endpoint's ingress). It only stores into a per-speaker lock-free ring: no lock, no
//     allocation. Identifier.Level does the same after a map lookup in an atomically
//     published snapshot.
//   - Add, Remove, Decide and Current may be called from any goroutine; a mutex that Level
//     never touches serializes them. Decide drains the rings, so all algorithm state is
//     advanced by the goroutine that holds the mutex.
package speaker

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Timers and defaults (media.md §6 "Speech").
const (
	// DecisionInterval is how often the caller should run Decide.
	DecisionInterval = 300 * time.Millisecond
	// LevelIdleTimeout: a speaker without a level for this long is assumed silent and gets a
	// synthetic level 0 for every further 40 ms (done lazily by Decide).
	LevelIdleTimeout = 40 * time.Millisecond
	// DefaultRecentSpeakersCount is recent-speakers-count.
	DefaultRecentSpeakersCount = 10
	// DefaultSilenceTimeout applies when silence detection is enabled.
	DefaultSilenceTimeout = 3 * time.Second
)

// Config holds the speech-activity settings.
type Config struct {
	RecentSpeakersCount int           // previous speakers reported; 0 means 10
	SilenceDetection    bool          // enable-silence-detection; off by default, as in JVB
	SilenceTimeout      time.Duration // 0 means 3 s
}

// Decision is the outcome of Decide: what DominantSpeakerEndpointChangeEvent carries.
type Decision struct {
	Dominant string   // "" until someone has spoken
	Previous []string // previousSpeakers: most recent first, without Dominant; never nil
	Silence  bool     // silence detection: Dominant is the last speaker, nobody speaks now
	Changed  bool     // Dominant or Silence differs from the previous Decision
}

// Identifier is one conference's dominant speaker identification.
type Identifier struct {
	silenceMs int64 // immutable after New

	snapshot atomic.Pointer[map[string]*Speaker] // copy-on-write id → Speaker for Identifier.Level

	mu         sync.Mutex // guards every field below
	speakers   []*Speaker // in Add order; the first active one is nominated when none dominates
	byID       map[string]*Speaker
	dominant   *Speaker
	silence    bool
	floorSince int64 // ms since which the dominant's long score is at the floor; -1 if not
	recent     *RecentSpeakers
	active     []*Speaker // scratch for Decide
}

// New returns an Identifier with cfg's settings (zero values mean JVB's defaults).
func New(cfg Config) *Identifier {
	if cfg.RecentSpeakersCount <= 0 {
		cfg.RecentSpeakersCount = DefaultRecentSpeakersCount
	}
	if cfg.SilenceTimeout <= 0 {
		cfg.SilenceTimeout = DefaultSilenceTimeout
	}
	id := &Identifier{
		byID:       make(map[string]*Speaker),
		floorSince: -1,
		recent:     NewRecentSpeakers(cfg.RecentSpeakersCount),
	}
	if cfg.SilenceDetection {
		id.silenceMs = cfg.SilenceTimeout.Milliseconds()
	}
	id.publish()
	return id
}

// Add registers an endpoint and returns its Speaker handle; adding an id twice returns the
// same handle. The speaker takes part in decisions from its first level on.
func (id *Identifier) Add(endpointID string) *Speaker {
	id.mu.Lock()
	defer id.mu.Unlock()
	if s, ok := id.byID[endpointID]; ok {
		return s
	}
	s := &Speaker{id: endpointID}
	s.h.reset()
	id.speakers = append(id.speakers, s)
	id.byID[endpointID] = s
	id.publish()
	return s
}

// Remove forgets an endpoint. It reports whether the announced state changed (the dominant
// speaker left or the recent-speakers list shrank), in which case JVB broadcasts a new
// DominantSpeakerEndpointChangeEvent; Current gives its content. When the dominant speaker
// leaves, the most recent remaining speaker becomes dominant, which is also whom JVB's message
// names then (the front of its recent-speakers list). A removed Speaker's Level is a no-op.
func (id *Identifier) Remove(endpointID string) bool {
	id.mu.Lock()
	defer id.mu.Unlock()
	s, ok := id.byID[endpointID]
	if !ok {
		return false
	}
	delete(id.byID, endpointID)
	for i, x := range id.speakers {
		if x == s {
			id.speakers = append(id.speakers[:i], id.speakers[i+1:]...)
			break
		}
	}
	id.publish()
	changed := id.recent.Remove(endpointID)
	if s == id.dominant {
		id.dominant = id.byID[id.recent.Front()] // nil when nobody else has been dominant
		id.silence = false
		id.floorSince = -1
		changed = true
	}
	return changed
}

// Level is Speaker.Level by endpoint id, for callers without a handle. Unknown ids are ignored.
func (id *Identifier) Level(endpointID string, level int, now int64) {
	if s := (*id.snapshot.Load())[endpointID]; s != nil {
		s.Level(level, now)
	}
}

// Current returns the present state without advancing the algorithm (Changed is false): what
// a newly connected endpoint is told.
func (id *Identifier) Current() Decision {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.decision(false)
}

// Decide runs one decision round; call it every DecisionInterval. It consumes the levels
// recorded since the last round, scores every active speaker and lets challengers compete
// with the dominant speaker.
func (id *Identifier) Decide(now int64) Decision {
	nowMs := now / 1e6
	id.mu.Lock()
	defer id.mu.Unlock()
	id.active = id.active[:0]
	for _, s := range id.speakers {
		s.drain(nowMs)
		if s.h.seen && nowMs-s.h.lastMs > speakerIdleMs && s != id.dominant {
			s.h.reset()
		}
		if s.h.seen {
			s.h.evaluate()
			id.active = append(id.active, s)
		}
	}
	prev, prevSilence := id.dominant, id.silence
	if next := id.choose(); next != nil && next != id.dominant {
		id.dominant = next
		id.recent.Promote(next.id)
		id.floorSince = -1
	}
	id.updateSilence(nowMs)
	return id.decision(id.dominant != prev || id.silence != prevSilence)
}

// choose returns the speaker that should dominate after this round (the current one when
// nobody challenges successfully), or nil when nobody has spoken yet.
func (id *Identifier) choose() *Speaker {
	switch len(id.active) {
	case 0:
		return id.dominant
	case 1:
		return id.active[0] // a lone speaker surely dominates
	}
	dom, winner := id.dominant, id.dominant
	if dom == nil || !dom.h.seen {
		// JVB nominates an arbitrary speaker and lets the others challenge it at once.
		dom, winner = id.active[0], id.active[0]
	}
	// Several successful challengers compete by their medium-term relative activity.
	best := c2Threshold
	for _, s := range id.active {
		if s == dom {
			continue
		}
		if c2, ok := challenges(s.h.scores, dom.h.scores); ok && c2 > best {
			best, winner = c2, s
		}
	}
	return winner
}

// updateSilence implements optional silence detection: the dominant speaker's long score at
// the floor for longer than SilenceTimeout means nobody is speaking.
func (id *Identifier) updateSilence(nowMs int64) {
	if id.silenceMs == 0 || id.dominant == nil || id.dominant.h.scores[2] > minScore {
		id.floorSince = -1
		id.silence = false
		return
	}
	if id.floorSince < 0 {
		id.floorSince = nowMs
	}
	id.silence = nowMs-id.floorSince > id.silenceMs
}

func (id *Identifier) decision(changed bool) Decision {
	d := Decision{Silence: id.silence, Changed: changed}
	if id.dominant != nil {
		d.Dominant = id.dominant.id
	}
	d.Previous = id.recent.Previous(d.Dominant)
	return d
}

// publish stores a fresh copy of byID for lock-free lookups. Called with mu held.
func (id *Identifier) publish() {
	m := maps.Clone(id.byID)
	id.snapshot.Store(&m)
}
