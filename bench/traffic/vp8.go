package traffic

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// Encoding is one simulcast encoding.
type Encoding struct {
	Width, Height int
	Bitrate       int // bits per second of VP8 data
	FPS           float64
}

// JitsiSimulcast is lib-jitsi-meet's default VP8 simulcast for a 720p camera (media.md §5):
// scaleResolutionDownBy 4/2/1 and maxBitrate 200k/500k/1.5M, all at 30 fps.
func JitsiSimulcast() []Encoding {
	return []Encoding{
		{Width: 320, Height: 180, Bitrate: 200_000, FPS: 30},
		{Width: 640, Height: 360, Bitrate: 500_000, FPS: 30},
		{Width: 1280, Height: 720, Bitrate: 1_500_000, FPS: 30},
	}
}

// VideoConfig configures a simulcast video source. Zero fields take the defaults below.
type VideoConfig struct {
	Encodings []Encoding
	// KeyframeInterval is the periodic keyframe interval (default 3 s).
	KeyframeInterval time.Duration
	// KeyframeFactor is a keyframe's size over the average frame size (default 6: a 720p
	// keyframe at 1.5 Mbps is about 37 kB, in Chrome's usual 30-60 kB range).
	KeyframeFactor float64
	// SizeJitter is the relative spread of frame sizes, uniform ±SizeJitter (default 0.15).
	SizeJitter float64
	// MinKeyframeGap delays requested keyframes to at least this long after the previous one
	// (default 300 ms), as an encoder does not restart on every PLI of a burst.
	MinKeyframeGap time.Duration
	Seed           uint64
}

func (c *VideoConfig) defaults() {
	if len(c.Encodings) == 0 {
		c.Encodings = JitsiSimulcast()
	}
	if c.KeyframeInterval <= 0 {
		c.KeyframeInterval = 3 * time.Second
	}
	if c.KeyframeFactor <= 0 {
		c.KeyframeFactor = 6
	}
	if c.SizeJitter < 0 || c.SizeJitter >= 1 {
		c.SizeJitter = 0
	} else if c.SizeJitter == 0 {
		c.SizeJitter = 0.15
	}
	if c.MinKeyframeGap <= 0 {
		c.MinKeyframeGap = 300 * time.Millisecond
	}
}

// Frame is one encoded VP8 frame of one encoding.
type Frame struct {
	Encoding  int
	Number    uint32        // frame index within the encoding
	Time      time.Duration // capture time since the source started
	Timestamp uint32        // RTP timestamp (90 kHz)
	Keyframe  bool
	TID       uint8 // temporal layer
	Sync      bool  // VP8 Y bit: depends only on TL0
	NonRef    bool  // VP8 N bit: no frame references it (TL2)
	PictureID uint16
	TL0PICIDX uint8
	Size      int // bytes of VP8 data: payload header and partitions, without descriptor
	Width     int
	Height    int
}

// l1t3 is the 4-frame temporal pattern of libwebrtc's 3-layer VP8 (TL0 TL2 TL1 TL2) with the
// frame size weight of each position. libwebrtc splits the rate 40/20/40 % over TL0/TL1/TL2;
// TL0 and TL1 run at 7.5 fps and TL2 at 15 fps, so per 4 frames of average size A the TL0 frame
// gets 1.6 A and the three others 0.8 A each.
var l1t3 = [4]struct {
	tid    uint8
	sync   bool
	weight float64
}{
	{0, false, 1.6},
	{2, true, 0.8},
	{1, true, 0.8},
	{2, false, 0.8},
}

type encState struct {
	number    uint32
	sinceKey  int // frames since the last keyframe
	pictureID uint16
	tl0       uint8
	lastKey   time.Duration
	keyWanted bool
	tsBase    uint32
}

// Video is a simulcast VP8 source. It is owned by one goroutine.
type Video struct {
	cfg      VideoConfig
	enc      []encState
	rng      *rand.Rand
	started  bool
	deltaMul []float64 // per encoding: scale that keeps deltas + keyframes on the target rate
}

// NewVideo returns a source whose first frame (a keyframe on every encoding) is captured at
// time 0.
func NewVideo(cfg VideoConfig) *Video {
	cfg.defaults()
	v := &Video{cfg: cfg, enc: make([]encState, len(cfg.Encodings)),
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	for i, e := range cfg.Encodings {
		v.enc[i].pictureID = uint16(v.rng.IntN(1 << 15))
		v.enc[i].tl0 = uint8(v.rng.IntN(256))
		v.enc[i].tsBase = v.rng.Uint32()
		v.enc[i].keyWanted = true
		// One keyframe of K average frames per interval of n frames: deltas carry n-K frames'
		// worth of bytes over n-1 frames, so the interval's total stays n average frames.
		n := v.cfg.KeyframeInterval.Seconds() * e.FPS
		m := 1.0
		if k := v.cfg.KeyframeFactor; n > k+1 {
			m = (n - k) / (n - 1)
		}
		v.deltaMul = append(v.deltaMul, m)
	}
	return v
}

// Encodings returns the configured encodings.
func (v *Video) Encodings() []Encoding { return v.cfg.Encodings }

// RequestKeyframe asks for a keyframe on encoding e (a PLI or FIR for its SSRC). It is produced
// with the next frame at least MinKeyframeGap after the previous keyframe.
func (v *Video) RequestKeyframe(e int) {
	if e >= 0 && e < len(v.enc) {
		v.enc[e].keyWanted = true
	}
}

// frameTime is the capture time of frame k at fps.
func frameTime(k uint32, fps float64) time.Duration {
	return time.Duration(float64(k) * float64(time.Second) / fps)
}

// Due appends to out every frame captured at or before now, in capture order per encoding.
func (v *Video) Due(now time.Duration, out []Frame) []Frame {
	for e := range v.enc {
		fps := v.cfg.Encodings[e].FPS
		for {
			at := frameTime(v.enc[e].number, fps)
			if at > now {
				break
			}
			out = append(out, v.next(e, at))
		}
	}
	return out
}

func (v *Video) next(e int, at time.Duration) Frame {
	s := &v.enc[e]
	enc := v.cfg.Encodings[e]
	key := s.number == 0 || at-s.lastKey >= v.cfg.KeyframeInterval ||
		(s.keyWanted && at-s.lastKey >= v.cfg.MinKeyframeGap)
	if key {
		s.sinceKey = 0
		s.lastKey = at
		s.keyWanted = false
	}
	pos := l1t3[s.sinceKey%len(l1t3)]
	avg := float64(enc.Bitrate) / 8 / enc.FPS
	jitter := 1 + v.cfg.SizeJitter*(2*v.rng.Float64()-1)
	var size float64
	if key {
		size = avg * v.cfg.KeyframeFactor * jitter
	} else {
		size = avg * pos.weight * v.deltaMul[e] * jitter
	}
	if pos.tid == 0 {
		s.tl0++
	}
	f := Frame{
		Encoding: e, Number: s.number, Time: at,
		Timestamp: rtpTimestamp(s.tsBase, at, ClockVideo),
		Keyframe:  key, TID: pos.tid, Sync: key || pos.sync, NonRef: pos.tid == 2,
		PictureID: s.pictureID, TL0PICIDX: s.tl0,
		Size:  max(int(size+0.5), vp8KeyHeaderLen),
		Width: enc.Width, Height: enc.Height,
	}
	s.number++
	s.sinceKey++
	s.pictureID = (s.pictureID + 1) & 0x7fff
	return f
}

// VP8 packetization constants.
const (
	// vp8DescLen is the payload descriptor this package writes (RFC 7741 §4.2): X, then
	// I/L/T, 15-bit picture ID, TL0PICIDX, TID/Y.
	vp8DescLen = 6
	// vp8KeyHeaderLen is the VP8 payload header of a keyframe: 3-byte frame tag, start code,
	// width and height (RFC 6386 §9.1).
	vp8KeyHeaderLen = 10
	vp8TagLen       = 3
	// VP8Overhead is every video packet's bytes besides the frame data.
	VP8Overhead = HeaderLen + vp8DescLen + StampLen
	// vp8MaxData is the frame data one packet carries.
	vp8MaxData = MaxPacket - VP8Overhead
)

// VP8Packets is the number of packets a frame of size bytes is split into.
func VP8Packets(size int) int {
	return max(1, (size+vp8MaxData-1)/vp8MaxData)
}

// chunk returns the offset and length of packet i's share of size bytes split over n packets
// of equal size, off by at most one byte, the larger ones last: libwebrtc's
// RtpPacketizer::SplitAboutEqually. A receiver of a frame therefore sees two packet sizes,
// which is what UDP GSO on the bridge's side has to cope with (a GSO run is equal-size
// segments plus at most one shorter last one).
func chunk(size, i, n int) (off, l int) {
	base, extra := size/n, size%n
	small := n - extra
	off = i*base + max(0, i-small)
	l = base
	if i >= small {
		l++
	}
	return off, l
}

// WriteVP8 writes packet i of n (n = VP8Packets(f.Size)) of frame f on stream st into dst,
// which must hold MaxPacket bytes, and advances st.Seq. The marker bit ends the frame; the
// stamp carries sender and encoding; its send time is left for the sender (PutSentNs).
func WriteVP8(dst []byte, st *RTPStream, f *Frame, i, n int, sender uint32) (int, Offsets) {
	writeFixed(dst, i == n-1, st.PT, st.Seq, f.Timestamp, st.SSRC)
	st.Seq++
	o := writeVideoExt(dst)
	p := dst[HeaderLen:]
	p[0] = 0x80 // X
	if f.NonRef {
		p[0] |= 0x20 // N
	}
	if i == 0 {
		p[0] |= 0x10 // S, partition 0
	}
	p[1] = 0x80 | 0x40 | 0x20 // I, L, T
	p[2] = 0x80 | byte(f.PictureID>>8)
	p[3] = byte(f.PictureID)
	p[4] = f.TL0PICIDX
	p[5] = f.TID << 6
	if f.Sync {
		p[5] |= 0x20 // Y
	}
	_, l := chunk(f.Size, i, n)
	data := p[vp8DescLen : vp8DescLen+l]
	clear(data)
	if i == 0 {
		writeVP8Header(data, f)
	}
	pl := len(data) + vp8DescLen + StampLen
	flags := uint8(0)
	if f.Keyframe {
		flags = FlagKeyframe
	}
	Stamp{Sender: sender, Stream: StreamVideo0 + uint8(f.Encoding), Flags: flags, Frame: f.Number}.Put(p[:pl])
	return HeaderLen + pl, o
}

// writeVP8Header writes the VP8 payload header (RFC 6386 §9.1) at the start of a frame's data:
// the frame tag (P=0 for a keyframe, version 0, show_frame, first partition size) and, on a
// keyframe, the start code 9d 01 2a with width and height, which the bridge reads to learn the
// encoding's real height (media.md §2.4).
func writeVP8Header(data []byte, f *Frame) {
	first := min(f.Size/4, 1<<19-1)
	tag := uint32(first)<<5 | 1<<4 // show_frame
	if !f.Keyframe {
		tag |= 1 // P: interframe
	}
	data[0], data[1], data[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if !f.Keyframe || len(data) < vp8KeyHeaderLen {
		return
	}
	data[3], data[4], data[5] = 0x9d, 0x01, 0x2a
	binary.LittleEndian.PutUint16(data[6:], uint16(f.Width)&0x3fff)
	binary.LittleEndian.PutUint16(data[8:], uint16(f.Height)&0x3fff)
}
