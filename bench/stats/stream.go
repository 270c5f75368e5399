package stats

import (
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// window is how far behind the newest sequence number a late or retransmitted packet still
// counts as received (and a missing one is not yet final).
const window = 1024

// Loss counts the unique sequence numbers of one stream, from its clear RTP headers.
// A number is lost when it has not arrived by the time it falls window numbers behind the
// newest; Expected and Received count every number up to the newest.
type Loss struct {
	unwrap   rtp.SeqUnwrapper
	started  bool
	first    uint64
	highest  uint64
	received uint64
	dups     uint64
	late     uint64 // arrived after leaving the window: counted neither received nor lost again
	seen     [window / 64]uint64
}

func (l *Loss) bit(s uint64) (int, uint64) { return int(s/64) % len(l.seen), 1 << (s % 64) }

// Record notes the arrival of seq and reports whether it was new (not a duplicate or too late).
func (l *Loss) Record(seq uint16) bool {
	s := l.unwrap.Unwrap(seq)
	if !l.started {
		l.started, l.first, l.highest = true, s, s
		w, m := l.bit(s)
		l.seen[w] |= m
		l.received++
		return true
	}
	if s > l.highest {
		// Clear the bits of the numbers the window moves over.
		for x := l.highest + 1; x <= s && x-l.highest <= window; x++ {
			w, m := l.bit(x)
			l.seen[w] &^= m
		}
		l.highest = s
	} else if l.highest-s >= window || s < l.first {
		l.late++
		return false
	}
	w, m := l.bit(s)
	if l.seen[w]&m != 0 {
		l.dups++
		return false
	}
	l.seen[w] |= m
	l.received++
	return true
}

// Missing reports whether seq is inside the window and has not arrived (for NACKs).
func (l *Loss) Missing(s uint64) bool {
	if !l.started || s > l.highest || l.highest-s >= window || s < l.first {
		return false
	}
	w, m := l.bit(s)
	return l.seen[w]&m == 0
}

// Highest is the newest unwrapped sequence number.
func (l *Loss) Highest() uint64 { return l.highest }

// Expected is the count of sequence numbers from the first to the newest.
func (l *Loss) Expected() uint64 {
	if !l.started {
		return 0
	}
	return l.highest - l.first + 1
}

// Received is the count of unique sequence numbers that arrived.
func (l *Loss) Received() uint64 { return l.received }

// Lost is Expected minus Received (never negative).
func (l *Loss) Lost() uint64 {
	if e := l.Expected(); e > l.received {
		return e - l.received
	}
	return 0
}

// Duplicates and Late count packets that were not new.
func (l *Loss) Duplicates() uint64 { return l.dups }
func (l *Loss) Late() uint64       { return l.late }

// Frames tracks the frames of one forwarded video stream by RTP timestamp and detects freezes
// the way WebRTC's getStats does (freezeCount): a frame interval of at least
// max(3 × the average interval, average + 150 ms).
type Frames struct {
	started   bool
	lastTS    uint32
	last      int64   // arrival of the newest frame's first packet, ns
	avg       float64 // EWMA of frame intervals, ns
	frames    uint64
	freezes   uint64
	frozen    int64 // total ns spent in freezes
	maxFrozen int64
}

// freezeMinFrames is how many intervals establish the average before freezes count.
const freezeMinFrames = 10

// Record notes a packet with RTP timestamp ts that arrived at now (ns). It returns true when the
// packet starts a new frame.
func (f *Frames) Record(ts uint32, now int64) bool {
	if !f.started {
		f.started, f.lastTS, f.last, f.frames = true, ts, now, 1
		return true
	}
	if ts == f.lastTS || int32(ts-f.lastTS) < 0 {
		return false // same frame, or a late packet of an older one
	}
	gap := float64(now - f.last)
	if f.frames > freezeMinFrames {
		if threshold := max(3*f.avg, f.avg+150e6); gap >= threshold {
			f.freezes++
			f.frozen += int64(gap)
			f.maxFrozen = max(f.maxFrozen, int64(gap))
		}
	}
	if f.frames == 1 {
		f.avg = gap
	} else {
		f.avg += (gap - f.avg) / 16
	}
	f.frames++
	f.lastTS, f.last = ts, now
	return true
}

// Since is how long ago (ns before now) the newest frame started; -1 before any frame.
func (f *Frames) Since(now int64) time.Duration {
	if !f.started {
		return -1
	}
	return time.Duration(now - f.last)
}

// FreezeStats is what Frames measured.
type FreezeStats struct {
	Frames   uint64        `json:"frames"`
	Freezes  uint64        `json:"freezes"`
	Frozen   time.Duration `json:"frozen_ns"`
	Longest  time.Duration `json:"longest_ns"`
	AvgFrame time.Duration `json:"avg_frame_interval_ns"`
}

// Stats returns the counters.
func (f *Frames) Stats() FreezeStats {
	return FreezeStats{Frames: f.frames, Freezes: f.freezes, Frozen: time.Duration(f.frozen),
		Longest: time.Duration(f.maxFrozen), AvgFrame: time.Duration(f.avg)}
}

// Jitter is RFC 3550 §6.4.1 interarrival jitter in RTP timestamp units.
type Jitter struct {
	started bool
	transit uint32
	j       float64
	clock   int64
}

// NewJitter returns a jitter estimator for a clock rate in Hz.
func NewJitter(clock int) Jitter { return Jitter{clock: int64(clock)} }

// Record notes a packet with RTP timestamp ts arriving at now (ns).
func (j *Jitter) Record(ts uint32, now int64) {
	sec, frac := now/1e9, now%1e9
	arrival := uint32(sec*j.clock + frac*j.clock/1e9) // wraps like RTP timestamps do
	transit := arrival - ts
	if j.started {
		d := int32(transit - j.transit)
		if d < 0 {
			d = -d
		}
		j.j += (float64(d) - j.j) / 16
	}
	j.started, j.transit = true, transit
}

// Value is the current jitter in RTP timestamp units, as an RR carries it.
func (j *Jitter) Value() uint32 { return uint32(j.j) }
