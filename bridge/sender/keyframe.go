package sender

import "sync/atomic"

// Keyframe request limits (media.md §2.6 and §6, JVB's KeyframeRequester): unthrottled PLIs
// make Chrome's encoder collapse (pitfall 6).
const (
	// KeyframeMinInterval is the least time between two requests of one receiver for one
	// source, and between two requests for one source from anyone.
	KeyframeMinInterval int64 = 200e6
	// KeyframeWindow and KeyframeMaxPerWindow: at most 3 requests per 10 s per receiver and
	// source.
	KeyframeWindow       int64 = 10e9
	KeyframeMaxPerWindow       = 3
)

// KeyframeLimiter is the per (receiver × source) limit. The zero value allows the first
// request. It is owned by one goroutine.
type KeyframeLimiter struct {
	times [KeyframeMaxPerWindow]int64 // the last requests allowed, oldest at next
	next  int
	n     int
}

// Allow reports whether a request at now is within the limits, and records it when it is.
func (l *KeyframeLimiter) Allow(now int64) bool {
	if !l.Check(now) {
		return false
	}
	l.Record(now)
	return true
}

// Check reports whether a request at now is within the limits, without recording it.
func (l *KeyframeLimiter) Check(now int64) bool {
	if l.n > 0 {
		last := l.times[(l.next+KeyframeMaxPerWindow-1)%KeyframeMaxPerWindow]
		if now-last < KeyframeMinInterval {
			return false
		}
	}
	return l.n < KeyframeMaxPerWindow || now-l.times[l.next] >= KeyframeWindow
}

// Record notes a request made at now.
func (l *KeyframeLimiter) Record(now int64) {
	l.times[l.next] = now
	l.next = (l.next + 1) % KeyframeMaxPerWindow
	l.n = min(l.n+1, KeyframeMaxPerWindow)
}

// SourceLimiter is the per-source limit, whoever asks: at most one request per
// KeyframeMinInterval. The zero value allows the first request at any now >= 0. Safe for
// concurrent use (every receiver's egress asks).
type SourceLimiter struct {
	next atomic.Int64 // earliest time the next request is allowed
}

// Allow reports whether a request at now may go to the source, and records it when it may.
func (l *SourceLimiter) Allow(now int64) bool {
	for {
		next := l.next.Load()
		if now < next {
			return false
		}
		if l.next.CompareAndSwap(next, now+KeyframeMinInterval) {
			return true
		}
	}
}
