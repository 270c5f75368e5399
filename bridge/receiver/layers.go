package receiver

import (
	"sync/atomic"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// MaxEncodings is the number of simulcast encodings tracked per source.
// lib-jitsi-meet sends three; one more leaves room without costing much.
const MaxEncodings = 4

const (
	// ActiveTimeout is how long an encoding counts as active after its
	// last packet. Chrome stops and restarts simulcast layers when short
	// of bandwidth (environment.md §6); a second is several frames even at
	// the 7.5 fps of the lowest temporal layer.
	ActiveTimeout int64 = 1e9
	// publishEvery limits the atomic stores of the last-packet time: the
	// reader's view is at most this stale, far below ActiveTimeout.
	publishEvery int64 = 10e6
	// rateWindow is the frame-rate measurement window.
	rateWindow int64 = 1e9
)

// encodingState is ingress's own view of one encoding.
type encodingState struct {
	seen        bool
	published   int64 // last value stored in the shared lastPacket
	lastTS      uint64
	windowStart int64
	frames      uint32
}

// shared is what egress goroutines read.
type shared struct {
	// lastPacket is the arrival time (ns) of a recent packet, stored at
	// most every publishEvery; meaningful once seen is set.
	lastPacket atomic.Int64
	seen       atomic.Bool
	// size is width<<16 | height of the newest keyframe with a size; 0
	// when none was seen.
	size atomic.Uint32
	// fps is the number of frames in the last complete rateWindow.
	fps atomic.Uint32
}

// Layers tracks the simulcast encodings of one video source: which are
// arriving, the resolution of each (from its keyframes) and its frame rate.
// JVB starts from signaled heights (180, 360, 720 by encoding order) and
// corrects them from VP8 keyframes (media.md §2.4); Fill does the same
// over the caller's defaults.
//
// Observe is called by the ingress goroutine that owns the source; Active,
// Size, FrameRate and Fill may be called from any goroutine.
type Layers struct {
	own [MaxEncodings]encodingState
	pub [MaxEncodings]shared
}

// Observe records a packet of encoding (the index in the SIM group) with
// unwrapped timestamp ts64 arriving at now. width and height are the frame
// size when the packet starts a keyframe that carries one, 0 otherwise.
// Encodings outside 0..MaxEncodings-1 are ignored.
func (l *Layers) Observe(encoding int, now int64, ts64 uint64, width, height uint16) {
	if encoding < 0 || encoding >= MaxEncodings {
		return
	}
	e, p := &l.own[encoding], &l.pub[encoding]
	first := !e.seen
	if first {
		// The window counts frames in (start, end]: the first frame opens
		// it and is not in it, like the frame that closes each later one.
		e.seen, e.windowStart, e.lastTS = true, now, ts64
	} else if ts64 > e.lastTS {
		e.lastTS = ts64
		e.frames++
	}
	if elapsed := now - e.windowStart; elapsed >= rateWindow {
		// Packets sample the window's end, so it lasts a little more than
		// rateWindow: scale to frames per second, rounded.
		p.fps.Store(uint32((int64(e.frames)*1e9 + elapsed/2) / elapsed))
		e.windowStart, e.frames = now, 0
	}
	if first || now-e.published >= publishEvery {
		e.published = now
		p.lastPacket.Store(now)
		if first {
			p.seen.Store(true)
		}
	}
	if width != 0 && height != 0 {
		if sz := uint32(width)<<16 | uint32(height); p.size.Load() != sz {
			p.size.Store(sz)
		}
	}
}

// ObserveVP8 is Observe with the size from a parsed VP8 payload descriptor
// (set on the first packet of a keyframe, RFC 6386 §9.1).
func (l *Layers) ObserveVP8(encoding int, now int64, ts64 uint64, d *rtp.VP8Descriptor) {
	l.Observe(encoding, now, ts64, d.Width, d.Height)
}

// Active reports whether a packet of encoding arrived within ActiveTimeout
// before now.
func (l *Layers) Active(encoding int, now int64) bool {
	if encoding < 0 || encoding >= MaxEncodings {
		return false
	}
	p := &l.pub[encoding]
	return p.seen.Load() && now-p.lastPacket.Load() < ActiveTimeout
}

// Size returns the width and height of encoding's newest keyframe, 0 and 0
// when none was seen.
func (l *Layers) Size(encoding int) (width, height uint16) {
	if encoding < 0 || encoding >= MaxEncodings {
		return 0, 0
	}
	sz := l.pub[encoding].size.Load()
	return uint16(sz >> 16), uint16(sz)
}

// Height is the smaller dimension of encoding's newest keyframe, the
// "height" of JVB's constraints, which treats portrait video by its width;
// 0 when unknown.
func (l *Layers) Height(encoding int) int {
	w, h := l.Size(encoding)
	return int(min(w, h))
}

// FrameRate is the rate of frames (distinct timestamps) per second of
// encoding over the last complete measurement window of about a second, 0
// before one was measured. It keeps its value when
// the encoding stops: read it together with Active.
func (l *Layers) FrameRate(encoding int) int {
	if encoding < 0 || encoding >= MaxEncodings {
		return 0
	}
	return int(l.pub[encoding].fps.Load())
}

// Fill writes, for each encoding i < len(heights), whether it is active at
// now into active[i] (when i < len(active)) and its measured height into
// heights[i] when known, keeping the caller's value (the signaled default)
// otherwise. It is the input selector.TargetEncoding takes.
func (l *Layers) Fill(now int64, heights []int, active []bool) {
	for i := range heights {
		if h := l.Height(i); h != 0 {
			heights[i] = h
		}
		if i < len(active) {
			active[i] = l.Active(i, now)
		}
	}
}
