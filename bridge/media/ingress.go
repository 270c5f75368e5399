package media

import (
	"encoding/binary"
	"math/bits"

	"github.com/cityjitsi/videobridge/bridge/bwe"
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/receiver"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// Clock rates for the reception statistics' jitter (Opus and every video codec).
const (
	audioClockRate = 48000
	videoClockRate = 90000
	// activityMark bounds how often the "sending audio/video" marks are stored.
	activityMark int64 = 100e6
	// maxNACKBatch bounds the sequence numbers one upstream NACK asks for.
	maxNACKBatch = 64
)

// ingress is the receive state of one endpoint, owned by the socket reader goroutine.
type ingress struct {
	streams map[uint32]*inStream // by primary SSRC (after RTX unwrapping)
	list    []*receiver.Stream   // the same streams, for receiver reports
	twcc    bwe.FeedbackGenerator
	twccOn  bool   // a packet with the transport-wide sequence number arrived
	twccFor uint32 // media SSRC named in the feedback: the newest one seen
	lastRR  int64
	lost    [maxNACKBatch]uint16
	scratch [2*bwe.MaxFeedbackSize + 256]byte
}

// inStream is one incoming primary SSRC.
type inStream struct {
	rs    receiver.Stream
	nack  receiver.NackGenerator // video only (JVB NACKs video only, after RTX unwrapping)
	video bool
}

func (in *ingress) init() { in.streams = map[uint32]*inStream{} }

// stream returns the state of ssrc, creating it on its first packet (the one allocation
// per stream, not per packet).
func (in *ingress) stream(ssrc uint32, video bool) *inStream {
	if s := in.streams[ssrc]; s != nil {
		return s
	}
	rate := uint32(audioClockRate)
	if video {
		rate = videoClockRate
	}
	s := &inStream{rs: receiver.NewStream(ssrc, rate), video: video}
	in.streams[ssrc] = s
	in.list = append(in.list, &s.rs)
	return s
}

// OnRTP implements endpoint.Handler: one decrypted RTP packet from this endpoint, on the
// socket reader goroutine (media-design.md "Ownership").
func (e *Endpoint) OnRTP(b []byte) {
	now := e.p.now()
	e.cin.rtp.Add(1)
	e.cin.bytes.Add(uint64(len(b)))
	v := e.view.Load()
	if v == nil {
		e.cin.drops[DropNotConfigured].Add(1)
		return
	}
	if r := e.ingestRTP(v, b, now); r != DropNone {
		e.cin.drops[r].Add(1)
	}
	e.upstreamRTCP(v.snap, now)
}

// ingestRTP checks, accounts, stores and fans out one packet; it returns why it was dropped.
func (e *Endpoint) ingestRTP(v *view, b []byte, now int64) DropReason {
	var p rtp.Packet
	if p.Parse(b) != rtp.DropNone {
		return DropMalformed
	}
	snap := v.snap
	me := &snap.routes.Endpoints[v.idx]
	e.recordTransportSeq(&p, me, now)
	rt, ok := snap.routes.Lookup(p.SSRC())
	if !ok {
		return DropUnknownSSRC
	}
	sv := &snap.srcs[rt.Source]
	video := sv.rs.Kind == router.KindVideo
	switch {
	case sv.owner != e:
		return DropForeignSSRC
	case me.Visitor:
		return DropVisitor
	case (video && me.ForceMuteVideo) || (!video && me.ForceMuteAudio):
		return DropForceMuted
	}
	primary := sv.rs.SSRCs[rt.Encoding]
	if rt.RTX {
		switch receiver.UnwrapRTX(&p, primary, &me.RTX) {
		case receiver.DropPadding:
			return DropRTXPadding
		case receiver.DropUnknownRTXType:
			return DropUnknownRTXType
		}
	}
	is := e.in.stream(primary, video)
	seq64, ts64, r := is.rs.Receive(p.Seq(), p.Timestamp(), p.Len(), now, rt.RTX)
	switch r {
	case receiver.DropDuplicate:
		return DropDuplicate
	case receiver.DropTooOld:
		return DropTooOld
	}
	if video {
		is.nack.Observe(seq64, now)
		e.nackUpstream(is, snap.fbSSRC, now)
	}
	e.markActivity(video, now)
	if p.PayloadLen() == 0 {
		return DropPadding // JVB drops padding-only packets after their statistics
	}
	buf := packet.Get()
	if !buf.SetBytes(p.Bytes()) {
		buf.Release()
		return DropTooLarge
	}
	codec := me.Codecs[p.PayloadType()]
	fillMeta(buf, &p, sv, me, rt.Encoding, codec, seq64, ts64, now)
	if !video {
		e.audioLevel(buf.AudioLevel, now)
	}
	e.fanOut(sv, buf, codec)
	return DropNone
}

// fillMeta records what ingress learnt of the packet beside its bytes (media-design.md
// packet.Buf), and feeds the source's layer tracking.
func fillMeta(buf *packet.Buf, p *rtp.Packet, sv *srcView, me *router.Endpoint, enc int8, codec router.Codec,
	seq64, ts64 uint64, now int64) {
	buf.Seq64, buf.TS64, buf.Arrival = seq64, ts64, now
	buf.PayloadOffset, buf.PayloadLen = p.HeaderLen(), p.PayloadLen()
	buf.SSRC, buf.PayloadType, buf.Marker, buf.Encoding = sv.rs.SSRCs[enc], p.PayloadType(), p.Marker(), enc
	if sv.rs.Kind == router.KindAudio {
		buf.AudioLevel, _ = receiver.AudioLevel(p, me.Ext.AudioLevel) // -1 without the extension
		return
	}
	if codec != router.CodecVP8 {
		sv.st.layers.Observe(int(enc), now, ts64, 0, 0)
		return
	}
	var d rtp.VP8Descriptor
	if d.Parse(p.Payload()) != rtp.DropNone {
		sv.st.layers.Observe(int(enc), now, ts64, 0, 0)
		return
	}
	buf.Keyframe, buf.StartOfFrame = d.Keyframe, d.S && d.PartID == 0
	buf.VP8 = packet.VP8{PictureID: d.PictureID, TL0PICIDX: d.TL0PICIDX, TID: d.TID,
		HasPictureID: d.PictureIDLen > 0, LongPictureID: d.PictureIDLen == 2, HasTL0PICIDX: d.L, HasTID: d.T,
		LayerSync: d.Y}
	sv.st.layers.ObserveVP8(int(enc), now, ts64, &d)
}

// fanOut hands buf to the workers of the source's subscribers (one queue slot and one
// reference per worker, not per receiver: worker.fan walks the subscribers) and gives up
// ingress's own reference. A full worker queue drops the packet for that worker's
// subscribers only, counted per subscriber.
func (e *Endpoint) fanOut(sv *srcView, buf *packet.Buf, codec router.Codec) {
	ws := e.p.workers
	for m := sv.workers; m != 0; m &= m - 1 {
		w := ws[bits.TrailingZeros64(m)]
		it := fanItem{buf: buf, src: sv, codec: codec}
		buf.Ref()
		if !w.media.TryPush(it) {
			buf.Release()
			w.dropFull(&it)
			continue
		}
		w.ring()
	}
	buf.Release()
}

// recordTransportSeq notes the packet's transport-wide sequence number for the feedback this
// endpoint's congestion controller needs. Every packet counts, RTX probes and packets
// dropped below included: the sender's estimate is about the transport.
func (e *Endpoint) recordTransportSeq(p *rtp.Packet, me *router.Endpoint, now int64) {
	if me.Ext.TransportCC == 0 {
		return
	}
	if d := p.Extension(me.Ext.TransportCC); len(d) >= 2 {
		e.in.twcc.Record(binary.BigEndian.Uint16(d), now, p.Marker())
		e.in.twccOn, e.in.twccFor = true, p.SSRC()
	}
}

// markActivity keeps the "endpoint sending audio/video" marks, stored at most every
// activityMark so that the reader does not write a shared cache line per packet.
func (e *Endpoint) markActivity(video bool, now int64) {
	mark := &e.cin.lastAudio
	if video {
		mark = &e.cin.lastVideo
	}
	if now-mark.Load() >= activityMark {
		mark.Store(now)
	}
}
