package media

import (
	"time"

	"github.com/cityjitsi/videobridge/bridge/router"
)

// preemptiveMargin is added to the pre-emptive keyframe delay (JVB: 10 ms).
const preemptiveMargin = 10 * time.Millisecond

// PreemptiveKeyframeDelay is how long to wait before asking endpoint id, the new dominant
// speaker, for a keyframe (media.md §2.6): the longest RTT of the other endpoints less its
// own, plus preemptiveMargin, so that the keyframe reaches the farthest receiver about when
// its switch to the new speaker does. An unknown RTT counts as 0, as in JVB; a result of 0
// or less means at once.
func (c *Conference) PreemptiveKeyframeDelay(id string) time.Duration {
	var sender, farthest int64
	for _, e := range c.endpointList() {
		if e.id == id {
			sender = e.rtt.Load()
		} else {
			farthest = max(farthest, e.rtt.Load())
		}
	}
	return preemptiveDelay(sender, farthest)
}

func preemptiveDelay(sender, farthestReceiver int64) time.Duration {
	return time.Duration(farthestReceiver-sender) + preemptiveMargin
}

// RequestKeyframe asks endpoint id for a keyframe of its first video source's first
// encoding, outside the per-receiver and per-source limits (JVB's requests without a
// requester, such as the pre-emptive one, bypass them): PLI, or FIR where it signaled no PLI.
// It reports whether a request was queued: false for an unknown endpoint or one without
// video.
func (c *Conference) RequestKeyframe(id string) bool {
	c.mu.Lock()
	e := c.eps[id]
	c.mu.Unlock()
	if e == nil || e.closed.Load() {
		return false
	}
	v := e.view.Load()
	if v == nil {
		return false
	}
	for i := range v.snap.srcs {
		sv := &v.snap.srcs[i]
		if sv.owner != e || sv.rs.Kind != router.KindVideo || len(sv.rs.SSRCs) == 0 {
			continue
		}
		if !e.push(item{kind: itemPLI, ssrc: sv.rs.SSRCs[0], fir: !sv.pli}) {
			e.cin.drops[DropRTCPQueueFull].Add(1)
			return false
		}
		return true
	}
	return false
}

// RTT returns the endpoint's round-trip time from its reception reports (0: not measured).
func (e *Endpoint) RTT() time.Duration { return time.Duration(e.rtt.Load()) }
