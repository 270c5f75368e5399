package sender

import (
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/selector"
)

// DropReason says why a packet was not sent. The selector's reasons come first with their
// own values (a selector.DropReason converts directly); the sender's own follow.
type DropReason uint8

// The sender's own drop reasons.
const (
	DropNone DropReason = 0
	// DropRewrite: the stored packet could not be rewritten (it does not parse, or the result
	// does not fit a datagram).
	DropRewrite DropReason = DropReason(selector.NumDropReasons) + iota
	// DropNotInHistory: a NACKed packet is not (or no longer) in the RTX history.
	DropNotInHistory
	// DropRetransmittedRecently: a NACKed packet was (re)sent within the receiver's RTT
	// (RetransmitDue).
	DropRetransmittedRecently
	dropReasonCount
)

// NumDropReasons sizes counter arrays indexed by DropReason.
const NumDropReasons = int(dropReasonCount)

// String returns a snake_case name for metrics.
func (r DropReason) String() string {
	switch {
	case int(r) < selector.NumDropReasons:
		return selector.DropReason(r).String()
	case r == DropRewrite:
		return "rewrite"
	case r == DropNotInHistory:
		return "not_in_history"
	case r == DropRetransmittedRecently:
		return "retransmitted_recently"
	}
	return "unknown"
}

// scheme is the projection a video sender currently uses.
type scheme uint8

const (
	schemeNone scheme = iota
	schemeVP8
	schemeGeneric
)

// Input describes the source of a packet as the egress side knows it from the routing
// snapshot.
type Input struct {
	Codec router.Codec
	// SrcExt are the source owner's header extension ids (to read what is kept).
	SrcExt router.Extensions
	// PadTo, when longer than the packet's payload, is the payload length the sent packet
	// is padded to (RFC 3550 RTP padding), so that a frame's packets have one size. A
	// packet that carries padding already is sent as it is.
	PadTo int
}

// Sender is one source as sent to one receiver. The zero value is not usable: use New.
type Sender struct {
	// The fields every packet reads or writes share the first cache line: at a large
	// fan-out each receiver's sender is cold when the next packet reaches it.
	video     bool
	scheme    scheme
	ssrc, rtx uint32 // outgoing SSRC (video: the primary) and its FID RTX partner (0: none)
	target    selector.Layer
	rtxSeq    uint16 // bridge-owned RTX sequence numbers, from 1 (media.md §2.5)
	packets   uint32 // RTP packets sent on ssrc, for the SR counts (RFC 3550 §6.4.1)
	octets    uint32 // their payload octets
	// lastSeq is the outgoing sequence number of the newest packet put into the history:
	// PrefetchHistory hints the slot after it.
	lastSeq uint16

	audio   selector.AudioState
	vp8     selector.VP8State
	generic selector.GenericState
	hist    history
	kf      KeyframeLimiter
}

// New returns the sender of a source: video is its kind, ssrc the SSRC it goes out on (the
// first SIM SSRC for video in classic mode; the source's own for audio) and rtx that SSRC's
// FID partner (0: none). A video sender starts suspended, as a JVB receiver does before its
// first constraints.
func New(video bool, ssrc, rtx uint32) *Sender {
	s := &Sender{video: video, ssrc: ssrc, rtx: rtx, target: selector.Suspended}
	s.vp8.SetTarget(selector.Suspended)
	s.generic.SetTarget(selector.Suspended)
	return s
}

// SetSSRCs changes the outgoing SSRCs (the source's signaling changed).
func (s *Sender) SetSSRCs(ssrc, rtx uint32) { s.ssrc, s.rtx = ssrc, rtx }

// SSRC returns the outgoing SSRC.
func (s *Sender) SSRC() uint32 { return s.ssrc }

// RTXSSRC returns the outgoing RTX SSRC (0: none).
func (s *Sender) RTXSSRC() uint32 { return s.rtx }

// SetTarget sets the layer this receiver should get (video only).
func (s *Sender) SetTarget(l selector.Layer) {
	s.target = l
	s.vp8.SetTarget(l)
	s.generic.SetTarget(l)
}

// Target returns the layer set last.
func (s *Sender) Target() selector.Layer { return s.target }

// Current returns the encoding being forwarded, or -1 when none is. The keyframe this
// receiver asks for (its PLI) is one of that encoding.
func (s *Sender) Current() int8 {
	switch s.scheme {
	case schemeVP8:
		return s.vp8.Current()
	case schemeGeneric:
		if !s.generic.Target().IsSuspended() {
			return s.generic.Target().Encoding
		}
	}
	return -1
}

// Forward decides the fate of b for this receiver and, when it is sent, rewrites it into
// rx's scratch buffer and returns that (valid until rx's next use). Forward takes over the
// caller's reference to b: it keeps it in the RTX history (video) or releases it. kf asks the
// caller to request a keyframe from the source (throttled by the caller).
func (s *Sender) Forward(b *packet.Buf, in *Input, rx *Receiver, now int64) (out []byte, r DropReason, kf bool) {
	info := packetInfo(b, in.Codec == router.CodecVP8)
	var d selector.Decision
	vp8 := false
	if !s.video {
		d = selector.DecideAudio(&s.audio, &info)
	} else {
		vp8 = in.Codec == router.CodecVP8 && b.VP8.HasPictureID
		d = s.decideVideo(vp8, &info)
	}
	if !d.Forward {
		b.Release()
		return nil, DropReason(d.Reason), d.RequestKeyframe
	}
	n := s.render(b, &d, vp8, in, rx, now)
	if n == 0 {
		b.Release()
		return nil, DropRewrite, d.RequestKeyframe
	}
	if in.PadTo > b.PayloadLen && b.PayloadOffset+b.PayloadLen == b.N {
		n = pad(rx.scratch().out[:], n, in.PadTo-b.PayloadLen)
	}
	s.packets++
	s.octets += uint32(b.PayloadLen)
	if s.video {
		s.hist.put(b, &d, vp8, now)
		s.lastSeq = d.Seq
	} else {
		b.Release()
	}
	return rx.scratch().out[:n], DropNone, d.RequestKeyframe
}

// decideVideo runs the projection for the packet's scheme. A change of scheme (the sender
// switched codec) continues the receiver's sequence numbers and timestamps (JVB's RtpState
// hand-over between projection contexts).
func (s *Sender) decideVideo(vp8 bool, info *selector.PacketInfo) selector.Decision {
	want := schemeGeneric
	if vp8 {
		want = schemeVP8
	}
	if s.scheme != want {
		switch {
		case s.scheme == schemeVP8:
			s.generic = selector.GenericState{}
			s.generic.ContinueFrom(s.vp8.RTPState())
		case s.scheme == schemeGeneric:
			s.vp8 = selector.VP8State{}
			s.vp8.ContinueFrom(s.generic.RTPState())
		}
		s.vp8.SetTarget(s.target)
		s.generic.SetTarget(s.target)
		s.scheme = want
	}
	if vp8 {
		return selector.DecideVP8(&s.vp8, info)
	}
	return selector.DecideGeneric(&s.generic, info)
}

// packetInfo is the selector's view of what ingress stored with the packet. keyframes says
// whether ingress can detect keyframes of the packet's codec (VP8 only, for now).
func packetInfo(b *packet.Buf, keyframes bool) selector.PacketInfo {
	p := selector.PacketInfo{
		Encoding: b.Encoding, ExtSeq: b.Seq64, ExtTS: b.TS64, Arrival: b.Arrival, Marker: b.Marker,
		PayloadLen: b.PayloadLen, Keyframe: b.Keyframe, KeyframeKnown: keyframes,
		StartOfFrame: b.StartOfFrame,
		VP8: selector.VP8Info{
			HasPictureID: b.VP8.HasPictureID, LongPictureID: b.VP8.LongPictureID, PictureID: b.VP8.PictureID,
			HasTL0PICIDX: b.VP8.HasTL0PICIDX, TL0PICIDX: b.VP8.TL0PICIDX, HasTID: b.VP8.HasTID, TID: b.VP8.TID,
			LayerSync: b.VP8.LayerSync,
		},
	}
	if b.AudioLevel >= 0 {
		p.AudioLevel, p.HasAudioLevel = uint8(b.AudioLevel), true
	}
	if p.Encoding < 0 {
		p.Encoding = 0
	}
	return p
}

// Retransmit answers a NACK from the receiver for seq (a sequence number it was sent): the
// packet from the RTX history, rewritten as it was sent, as RTX on the receiver's RTX payload
// type and the FID SSRC with the bridge's own RTX sequence number; without a negotiated RTX
// payload type or RTX SSRC, the packet as it was sent (media.md §2.5). A packet (re)sent
// within the receiver's RTT (rx.RTT) is not sent again (RetransmitDue).
func (s *Sender) Retransmit(seq uint16, in *Input, rx *Receiver, now int64) ([]byte, DropReason) {
	h := s.hist.get(seq)
	if h == nil {
		return nil, DropNotInHistory
	}
	if !RetransmitDue(since(h.sent, now), rx.RTT) {
		return nil, DropRetransmittedRecently
	}
	d := selector.Decision{Forward: true, Seq: h.seq, Timestamp: h.ts, PictureID: h.pic, TL0PICIDX: h.tl0, Marker: h.marker}
	n := s.render(h.b, &d, h.vp8, in, rx, now)
	if n == 0 {
		return nil, DropRewrite
	}
	rtxPT := rx.RTXFor[h.b.PayloadType&0x7f]
	if rtxPT == 0 || s.rtx == 0 {
		h.sent = msTime(now)
		return rx.scratch().out[:n], DropNone
	}
	var p rtp.Packet
	sc := rx.scratch()
	if p.Parse(sc.out[:n]) != rtp.DropNone {
		return nil, DropRewrite
	}
	s.rtxSeq++
	m := p.WrapRTX(sc.tmp[:], s.rtx, rtxPT, s.rtxSeq)
	if m == 0 {
		return nil, DropRewrite
	}
	h.sent = msTime(now)
	return sc.tmp[:m], DropNone
}

// TranslateSR translates a sender report of the source's encoding enc for this receiver
// (media.md §2.7): the sender SSRC becomes the outgoing SSRC, the RTP time is shifted by the
// projection, and the counts become what this receiver was sent. ok is false when the SR must
// not be forwarded: nothing was sent yet, or (video) enc is not the encoding being sent.
func (s *Sender) TranslateSR(enc int8, si rtp.SenderInfo) (rtp.SenderInfo, bool) {
	if s.packets == 0 {
		return si, false
	}
	ts, ok := si.RTPTime, true
	switch {
	case !s.video:
	case s.scheme == schemeVP8:
		ts, ok = s.vp8.MapSRTimestamp(enc, si.RTPTime)
	case s.scheme == schemeGeneric:
		ts, ok = s.generic.MapSRTimestamp(enc, si.RTPTime)
	default:
		ok = false
	}
	if !ok {
		return si, false
	}
	si.SSRC, si.RTPTime, si.PacketCount, si.OctetCount = s.ssrc, ts, s.packets, s.octets
	return si, true
}

// RequestKeyframe reports whether this receiver may ask the source for a keyframe at now:
// within its own limit (KeyframeLimiter) and the source's (src, shared by every receiver).
// A request held back by the source's limit does not use up the receiver's.
//
// JVB shortens the per-receiver interval to RTT + 10 ms when that is less than 200 ms
// (media.md §2.6), but the per-source limit of one request per 200 ms still holds, so the
// shorter interval never lets a request through: it is left out.
func (s *Sender) RequestKeyframe(now int64, src *SourceLimiter) bool {
	if !s.kf.Check(now) || !src.Allow(now) {
		return false
	}
	s.kf.Record(now)
	return true
}

// Close releases the packets held in the RTX history.
func (s *Sender) Close() { s.hist.clear() }

// ExpireHistory releases the RTX history when its newest packet was sent HistoryIdle or more
// before now, and reports whether it did. The sender stays usable: the history fills again
// with the next packet.
func (s *Sender) ExpireHistory(now int64) bool {
	h := s.hist.get(s.lastSeq)
	if h == nil || since(h.sent, now) < HistoryIdle {
		return false
	}
	s.hist.clear()
	return true
}

// Kind is which codec state of a sender its packets use, for PrefetchHead.
type Kind uint8

// Kinds of packets.
const (
	KindAudio      Kind = iota
	KindVP8             // VP8 with picture IDs: the VP8 projection
	KindOtherVideo      // another video codec: the generic projection
)

// PrefetchHead adds to b the cache lines Forward reads first, for an egress worker that
// forwards to many receivers in turn (at a large fan-out each sender is cold by its turn):
// the head and the state of kind. It reads nothing of s, whose lines are not cached yet
// (offsets instead of field addresses: &s.f would make the compiler load from s).
func (s *Sender) PrefetchHead(kind Kind, b *prefetch.Batch) {
	p := unsafe.Pointer(s)
	switch kind {
	case KindAudio:
		b.Add(p, unsafe.Offsetof(s.audio)+unsafe.Sizeof(s.audio))
	case KindVP8: // the head, then the VP8 state after the audio state (one range: a line more)
		b.Add(p, unsafe.Offsetof(s.vp8)+unsafe.Sizeof(s.vp8))
	default:
		b.Add(p, unsafe.Offsetof(s.audio))
		b.Add(unsafe.Add(p, unsafe.Offsetof(s.generic)), unsafe.Sizeof(s.generic))
	}
}

// PrefetchHistory adds to b the RTX history slot the next video packet takes. It reads the
// head: issue it after PrefetchHead's hints had time to arrive.
func (s *Sender) PrefetchHistory(b *prefetch.Batch) {
	if s.video {
		b.Add(unsafe.Pointer(&s.hist.e[(s.lastSeq+1)&(HistorySize-1)]), unsafe.Sizeof(histEntry{}))
	}
}
