package client

import (
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/bench/stats"
)

// Counters are an endpoint's running totals. Every field is an atomic written by the goroutine
// that owns the event (reader or run loop) and read by the harness's sampler.
type Counters struct {
	RTPSent, RTPSentBytes, RTCPSent  atomic.Uint64
	RTPRecv, RTPRecvBytes, RTCPRecv  atomic.Uint64
	AudioRecv, VideoRecv, RTXRecv    atomic.Uint64
	Sampled, DecryptErrors           atomic.Uint64
	VerifyErrors, Malformed          atomic.Uint64
	NotReady                         atomic.Uint64 // media before SRTP keys
	InducedRecvLoss, InducedSendLoss atomic.Uint64
	NACKSent, NACKedSeqs, Recovered  atomic.Uint64
	PLISent, TWCCSent, RRSent        atomic.Uint64
	NACKRecv, RTXSent, RTXMissed     atomic.Uint64
	PLIRecv, KeyframesSent, TWCCRecv atomic.Uint64
	SendQueueDrops                   atomic.Uint64 // the socket's send queue was full
}

// Totals is a plain copy of Counters.
type Totals struct {
	RTPSent, RTPSentBytes, RTCPSent  uint64
	RTPRecv, RTPRecvBytes, RTCPRecv  uint64
	AudioRecv, VideoRecv, RTXRecv    uint64
	Sampled, DecryptErrors           uint64
	VerifyErrors, Malformed          uint64
	NotReady                         uint64
	InducedRecvLoss, InducedSendLoss uint64
	NACKSent, NACKedSeqs, Recovered  uint64
	PLISent, TWCCSent, RRSent        uint64
	NACKRecv, RTXSent, RTXMissed     uint64
	PLIRecv, KeyframesSent, TWCCRecv uint64
	SendQueueDrops                   uint64
}

// Add sums o into t.
func (t *Totals) Add(o Totals) {
	t.RTPSent += o.RTPSent
	t.RTPSentBytes += o.RTPSentBytes
	t.RTCPSent += o.RTCPSent
	t.RTPRecv += o.RTPRecv
	t.RTPRecvBytes += o.RTPRecvBytes
	t.RTCPRecv += o.RTCPRecv
	t.AudioRecv += o.AudioRecv
	t.VideoRecv += o.VideoRecv
	t.RTXRecv += o.RTXRecv
	t.Sampled += o.Sampled
	t.DecryptErrors += o.DecryptErrors
	t.VerifyErrors += o.VerifyErrors
	t.Malformed += o.Malformed
	t.NotReady += o.NotReady
	t.InducedRecvLoss += o.InducedRecvLoss
	t.InducedSendLoss += o.InducedSendLoss
	t.NACKSent += o.NACKSent
	t.NACKedSeqs += o.NACKedSeqs
	t.Recovered += o.Recovered
	t.PLISent += o.PLISent
	t.TWCCSent += o.TWCCSent
	t.RRSent += o.RRSent
	t.NACKRecv += o.NACKRecv
	t.RTXSent += o.RTXSent
	t.RTXMissed += o.RTXMissed
	t.PLIRecv += o.PLIRecv
	t.KeyframesSent += o.KeyframesSent
	t.TWCCRecv += o.TWCCRecv
	t.SendQueueDrops += o.SendQueueDrops
}

func (c *Counters) load() Totals {
	return Totals{
		RTPSent: c.RTPSent.Load(), RTPSentBytes: c.RTPSentBytes.Load(), RTCPSent: c.RTCPSent.Load(),
		RTPRecv: c.RTPRecv.Load(), RTPRecvBytes: c.RTPRecvBytes.Load(), RTCPRecv: c.RTCPRecv.Load(),
		AudioRecv: c.AudioRecv.Load(), VideoRecv: c.VideoRecv.Load(), RTXRecv: c.RTXRecv.Load(),
		Sampled: c.Sampled.Load(), DecryptErrors: c.DecryptErrors.Load(),
		VerifyErrors: c.VerifyErrors.Load(), Malformed: c.Malformed.Load(), NotReady: c.NotReady.Load(),
		InducedRecvLoss: c.InducedRecvLoss.Load(), InducedSendLoss: c.InducedSendLoss.Load(),
		NACKSent: c.NACKSent.Load(), NACKedSeqs: c.NACKedSeqs.Load(), Recovered: c.Recovered.Load(),
		PLISent: c.PLISent.Load(), TWCCSent: c.TWCCSent.Load(), RRSent: c.RRSent.Load(),
		NACKRecv: c.NACKRecv.Load(), RTXSent: c.RTXSent.Load(), RTXMissed: c.RTXMissed.Load(),
		PLIRecv: c.PLIRecv.Load(), KeyframesSent: c.KeyframesSent.Load(), TWCCRecv: c.TWCCRecv.Load(),
		SendQueueDrops: c.SendQueueDrops.Load(),
	}
}

// Interval is what Snapshot hands over: totals so far, and the latency samples and loss
// accounting since the previous Snapshot.
type Interval struct {
	Totals
	AudioLatency, VideoLatency stats.Histogram
	// Expected and Received count unique sequence numbers of forwarded media streams (RTX
	// excluded) since the first packet of each stream, for loss = 1 - Received/Expected.
	Expected, Received uint64
	Freezes            uint64
	RTT                time.Duration // latest, senders only
}

// Snapshot copies the totals and moves the latency samples since the last call into iv
// (iv's histograms are overwritten).
func (c *Client) Snapshot(iv *Interval) {
	iv.Totals = c.counter.load()
	c.mu.Lock()
	iv.AudioLatency = c.latency.audio
	iv.VideoLatency = c.latency.video
	c.latency.audio.Reset()
	c.latency.video.Reset()
	iv.Expected, iv.Received, iv.Freezes = 0, 0, 0
	for _, s := range c.rs.streams {
		if s.kind == KindRTX {
			continue
		}
		iv.Expected += s.loss.Expected()
		iv.Received += s.loss.Received()
		iv.Freezes += s.frames.Stats().Freezes
	}
	iv.RTT = c.rs.rttLast
	c.mu.Unlock()
}

// StreamStats is the final account of one received stream.
type StreamStats struct {
	SSRC          uint32
	Kind          Kind
	Sender        uint32
	Known         bool
	Encoding      int // of an RTX stream's primary, or the registry's for video
	Packets       uint64
	Bytes         uint64
	Expected      uint64
	Received      uint64
	Lost          uint64
	Late, Dups    uint64
	Frames        stats.FreezeStats
	Layers        [4]uint64 // verified samples per encoding received
	NACKed        uint64
	Recovered     uint64
	Unrecoverable uint64
	Jitter        uint32
	// SinceLastFrame is how long before the call the newest frame arrived (video; -1 none).
	SinceLastFrame time.Duration
}

// Streams returns every received stream's account.
func (c *Client) Streams() []StreamStats {
	now := time.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]StreamStats, 0, len(c.rs.streams))
	for _, s := range c.rs.streams {
		out = append(out, StreamStats{
			SSRC: s.ssrc, Kind: s.kind, Sender: s.origin.Sender, Known: s.known, Encoding: s.origin.Encoding,
			Packets: s.packets, Bytes: s.bytes, Expected: s.loss.Expected(), Received: s.loss.Received(),
			Lost: s.loss.Lost(), Late: s.loss.Late(), Dups: s.loss.Duplicates(), Frames: s.frames.Stats(),
			Layers: s.layers, NACKed: s.nacked, Recovered: s.recovered, Unrecoverable: s.unrecoverable,
			Jitter: s.jitter.Value(), SinceLastFrame: s.frames.Since(now),
		})
	}
	return out
}

// RTTHistogram returns the RTT samples a sender measured from the bridge's RRs.
func (c *Client) RTTHistogram() stats.Histogram {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rs.rtt
}
