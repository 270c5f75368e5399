package xmpp

import (
	"math/rand/v2"
	"time"
)

// Reconnect and MUC re-join delays: start at 1 s (JVB's fixed reconnect delay), double on each
// consecutive failure up to 30 s so that a bridge fleet does not hammer a Prosody that is down,
// and jitter so that bridges restarted together do not reconnect in lockstep.
const (
	defaultBackoffMin = time.Second
	defaultBackoffMax = 30 * time.Second
)

// nextBackoff returns the delay after d: min when d is below min, else 2d capped at max.
func nextBackoff(d, minDelay, maxDelay time.Duration) time.Duration {
	if d < minDelay {
		return minDelay
	}
	if d >= maxDelay/2 {
		return maxDelay
	}
	return 2 * d
}

// jitter spreads d over [0.75d, 1.25d) using r in [0, 1).
func jitter(d time.Duration, r float64) time.Duration {
	return time.Duration(float64(d) * (0.75 + 0.5*r))
}

// jittered is jitter with a random r.
func jittered(d time.Duration) time.Duration { return jitter(d, rand.Float64()) }
