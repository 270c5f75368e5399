package selector

// On an encoding switch the new encoding has its own timestamp space, so the
// projection continues from the last timestamp sent: one 30 fps frame
// interval (3000 ticks of the 90 kHz video clock) per 33 ms elapsed since the
// last frame sent, at least one (JVB createLayerSwitchProjection).
const (
	tsPerFrame       = 3000
	frameIntervalNs  = 33_000_000
	picIDMask        = 0x7fff
	keyframeGroupWin = 300_000_000 // JVB VP8QualityFilter MIN_KEY_FRAME_WAIT
)

// outState is the continuity of what one receiver has been sent for one
// source, kept across switches, suspension and resumption. Values are
// extended (never wrap) and truncated only in the Decision.
type outState struct {
	started  bool  // seq, ts and at are valid
	picValid bool  // pic and tl0 are valid (VP8)
	end      bool  // the newest frame sent had its last packet (marker) sent
	enc      int8  // encoding of the newest frame sent; -1 when unknown
	tl0      uint8 // TL0PICIDX of the newest frame sent
	seq      uint64
	ts       uint64 // timestamp of the newest frame sent
	pic      uint64 // picture ID of the newest frame sent
	at       int64  // arrival of the first packet sent of the newest frame
}

// anchorSeq is the output sequence number of the first packet after a
// switch: the next one, leaving one more as a gap when the previous frame
// was not sent whole, so that the decoder knows it was incomplete (JVB).
func (o *outState) anchorSeq(in uint64) uint64 {
	switch {
	case !o.started:
		return in
	case o.end:
		return o.seq + 1
	}
	return o.seq + 2
}

// anchorTS is the output timestamp of the first frame after a switch. When
// the same encoding resumes with the offset it had (tsOff) and that keeps
// time moving forward, the offset is kept, as JVB's generic projection does:
// the receiver then sees the source's own timing. Otherwise the timestamp
// advances one frame interval per 33 ms since the last frame sent.
func (o *outState) anchorTS(p *PacketInfo, tsOff uint64) uint64 {
	if !o.started {
		return p.ExtTS
	}
	if p.Encoding == o.enc {
		if ts := p.ExtTS - tsOff; int64(ts-o.ts) > 0 {
			return ts
		}
	}
	n := (p.Arrival - o.at) / frameIntervalNs
	if n < 1 {
		n = 1
	}
	return o.ts + uint64(n)*tsPerFrame
}

func (o *outState) rtpState() RTPState {
	return RTPState{Valid: o.started, Seq: uint16(o.seq), Timestamp: uint32(o.ts), Arrival: o.at}
}

// continueFrom seeds o from a previous projection. Picture IDs start afresh:
// the previous projection had none to continue.
func (o *outState) continueFrom(r RTPState) {
	if !r.Valid {
		*o = outState{enc: -1}
		return
	}
	*o = outState{started: true, end: true, enc: -1, seq: uint64(r.Seq), ts: uint64(r.Timestamp), at: r.Arrival}
}

// sentPacket records a forwarded packet whose frame is identified by its
// output timestamp (schemes without picture IDs).
func (o *outState) sentPacket(p *PacketInfo, seq, ts uint64) {
	if !o.started || int64(seq-o.seq) > 0 {
		o.seq = seq
	}
	switch {
	case !o.started || int64(ts-o.ts) > 0:
		o.ts, o.at, o.end, o.enc = ts, p.Arrival, p.Marker, p.Encoding
	case ts == o.ts:
		o.end = o.end || p.Marker
	}
	o.started = true
}
