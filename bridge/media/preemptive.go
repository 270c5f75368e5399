package media

import (
	"time"

	"github.com/cityjitsi/videobridge/bridge/router"
)

// preemptiveMargin is added to the pre-emptive keyframe delay (JVB: 10 ms).
const preemptiveMargin = 10 * time.Millisecond

// PreemptiveKeyframeDelay is how long to wait before asking e, the new dominant speaker, for
// a keyframe (media.md §2.6): the longest RTT of the conference's other endpoints less e's
// own, plus preemptiveMargin, so that the keyframe reaches the farthest receiver about when
// its switch to the new speaker does. An unknown RTT counts as 0, as in JVB; a result of 0 or
// less means at once. (JVB truncates it to whole milliseconds; this keeps nanoseconds.)
func (e *Endpoint) PreemptiveKeyframeDelay() time.Duration {
	var farthest int64
	for _, o := range e.conf.endpointList() {
		if o != e {
			farthest = max(farthest, o.rtt.Load())
		}
	}
	return preemptiveDelay(e.rtt.Load(), farthest)
}

func preemptiveDelay(sender, farthestReceiver int64) time.Duration {
	return time.Duration(farthestReceiver-sender) + preemptiveMargin
}

// RequestKeyframe asks e for a keyframe of its first video source's first encoding: PLI, or
// FIR where it signaled no PLI. It has no requesting receiver, so no receiver's limit applies;
// the source's own (one request per 200 ms, whoever asks) does (media.md §2.6), so that the
// receivers' requests after their switch do not make a second keyframe at once. JVB sends it
// on the first primary SSRC the endpoint signaled, audio included; a video one is what
// helps. It reports whether a request was queued: false for a closed endpoint, one without
// video, or within the source's limit.
func (e *Endpoint) RequestKeyframe() bool {
	v := e.view.Load()
	if v == nil || e.closed.Load() {
		return false
	}
	for i := range v.snap.srcs {
		sv := &v.snap.srcs[i]
		if sv.owner != e || sv.rs.Kind != router.KindVideo || len(sv.rs.SSRCs) == 0 {
			continue
		}
		if !sv.st.kf.Allow(e.p.now()) {
			e.cout.keyframesThrottled.Add(1)
			return false
		}
		return sv.askOwner(sv.rs.SSRCs[0])
	}
	return false
}

// RTT returns the endpoint's round-trip time from its reception reports (0: not measured).
func (e *Endpoint) RTT() time.Duration { return time.Duration(e.rtt.Load()) }
