package selector

// VP8State is the projection of one VP8 source onto one receiver: simulcast
// encodings, each with VP8 temporal layers, forwarded on one SSRC (the
// primary SSRC of the SIM group, media.md §2.3) with one continuous sequence
// number, timestamp, picture ID and TL0PICIDX space (§2.4, pitfalls 4-6).
//
// The zero value is ready: suspended, nothing sent. It is not safe for
// concurrent use; the endpoint's egress goroutine owns it.
type VP8State struct {
	target    Layer
	hasTarget bool
	fwd       bool // an encoding is being forwarded: cur is valid
	cur       int8
	// needsKeyframe is JVB's VP8QualityFilter flag: set when the target
	// encoding changes, cleared by any keyframe (the request is fulfilled even
	// if the keyframe cannot be used), set again when a switch looks possible
	// outside a keyframe group.
	needsKeyframe bool
	groupSet      bool
	groupAt       int64 // arrival of the first keyframe of the latest keyframe group

	out    outState
	seq    seqMap
	frames frameRing // recent frames of the encoding being forwarded
	tsOff  uint64    // input - output timestamp of the encoding being forwarded
	picOff uint64    // input - output picture ID for the next new frame
	tl0Off uint8     // input - output TL0PICIDX of the encoding being forwarded
}

// SetTarget sets the layer the receiver should get. A changed target
// encoding makes the state ask for a keyframe, unless it is the encoding
// already forwarded (JVB asks on every change; asking only when a switch is
// needed saves the sender needless keyframes). A suspended target takes
// effect on the next packet: setting the old target back before any packet
// arrived resumes without a keyframe.
func (s *VP8State) SetTarget(l Layer) {
	if l.IsSuspended() {
		l = Suspended
	}
	if s.hasTarget && l == s.target {
		return
	}
	if !s.hasTarget || l.Encoding != s.target.Encoding {
		s.needsKeyframe = !l.IsSuspended() && (!s.fwd || l.Encoding != s.cur)
	}
	s.target, s.hasTarget = l, true
}

// Target returns the layer set by SetTarget, Suspended before the first call.
func (s *VP8State) Target() Layer {
	if !s.hasTarget {
		return Suspended
	}
	return s.target
}

// Current returns the encoding being forwarded, or -1 when none is.
func (s *VP8State) Current() int8 {
	if !s.fwd {
		return -1
	}
	return s.cur
}

// RTPState returns what was sent last, to continue from in another scheme.
func (s *VP8State) RTPState() RTPState { return s.out.rtpState() }

// ContinueFrom makes the next packet sent continue the sequence numbers and
// timestamps of a previous projection (JVB's RtpState on a context switch).
// Picture IDs start from the source's own.
func (s *VP8State) ContinueFrom(r RTPState) { s.out.continueFrom(r) }

// MapSRTimestamp translates the RTP timestamp of a sender report from the
// SSRC of encoding enc. ok is false when the report must not be forwarded:
// JVB forwards SRs only of the encoding the newest forwarded frame came from.
func (s *VP8State) MapSRTimestamp(enc int8, ts uint32) (uint32, bool) {
	if !s.out.picValid || enc != s.out.enc {
		return 0, false
	}
	return ts - uint32(s.tsOff), true
}

// DecideVP8 decides the fate of one packet of the source and updates s. The
// rules are JVB's VP8QualityFilter:
//   - encodings switch only on a keyframe of an encoding at or below the
//     target; keyframes of several encodings within 300 ms form one group,
//     inside which the filter may still move up to the best one that fits;
//   - while a switch is pending, the current encoding goes on: only its TL0
//     frames when it is above the target, all its frames when below;
//   - on the target encoding, frames with a TID up to the target TID pass,
//     unless a lower-layer frame they reference was dropped;
//   - a suspended target drops everything; resuming needs a keyframe.
func DecideVP8(s *VP8State, p *PacketInfo) Decision {
	if !s.hasTarget || s.target.IsSuspended() {
		s.fwd = false
		return Decision{Reason: DropSuspended}
	}
	var d Decision
	if s.fwd && p.Encoding == s.cur {
		d = s.current(p)
	} else {
		d = s.other(p)
	}
	// JVB also asks while it has never sent anything; here, while nothing
	// is forwarded (which includes after a suspension).
	d.RequestKeyframe = s.needsKeyframe || !s.fwd
	return d
}

// other handles a packet of an encoding that is not being forwarded: only a
// keyframe can make it the forwarded one.
func (s *VP8State) other(p *PacketInfo) Decision {
	if p.Keyframe && p.Encoding >= 0 {
		if s.acceptKeyframe(p.Encoding, p.Arrival) {
			return s.anchor(p)
		}
		return Decision{Reason: DropNotTargetEncoding}
	}
	if s.fwd && s.outOfGroup(p.Arrival) && s.canSwitchTo(p.Encoding) {
		// JVB: another encoding is flowing that would bring us closer to the
		// target, and no keyframe group is under way: ask again.
		s.needsKeyframe = true
	}
	if !s.fwd || p.Encoding == s.target.Encoding {
		return Decision{Reason: DropWaitingKeyframe}
	}
	return Decision{Reason: DropNotTargetEncoding}
}

// current handles a packet of the encoding being forwarded.
func (s *VP8State) current(p *PacketInfo) Decision {
	r, inOrder := s.seq.classify(p.ExtSeq)
	if r != DropNone {
		if r == DropTooOld && p.ExtTS > s.frames.newest().ts {
			// Old sequence number, new timestamp: the source restarted its
			// sequence numbers. A stale retransmission has an old timestamp.
			return s.restart(p, r)
		}
		return Decision{Reason: r}
	}
	s.seq.see(p.ExtSeq, inOrder)
	if p.PayloadLen == 0 {
		return s.drop(p, inOrder, DropPadding)
	}
	f, r := s.frameOf(p, inOrder)
	switch {
	case f == nil && r == DropInconsistent && (inOrder || p.ExtTS > s.frames.newest().ts):
		// A new sequence number with an old timestamp, or the reverse: the
		// source restarted its numbering (a late packet that does not fit
		// between its neighbours is just dropped).
		s.seq.drop(p.ExtSeq, inOrder)
		return s.restart(p, r)
	case f == nil:
		return s.drop(p, inOrder, r)
	case !f.accepted:
		return s.drop(p, inOrder, f.reason)
	}
	return s.emit(p, f)
}

// restart re-anchors the forwarded encoding on a keyframe when the source's
// numbering jumped (sequence numbers or timestamps went back); without a
// keyframe it drops the packet and asks for one.
func (s *VP8State) restart(p *PacketInfo, r DropReason) Decision {
	if p.Keyframe && s.acceptKeyframe(p.Encoding, p.Arrival) {
		return s.anchor(p)
	}
	s.needsKeyframe = true
	return Decision{Reason: r}
}

func (s *VP8State) drop(p *PacketInfo, inOrder bool, r DropReason) Decision {
	s.seq.drop(p.ExtSeq, inOrder)
	return Decision{Reason: r}
}

// frameOf finds or creates the frame of p (seen in the sequence window) and
// its decision. Frames are identified by timestamp; a new frame must come
// with a new sequence number and an old frame with an old one.
func (s *VP8State) frameOf(p *PacketInfo, inOrder bool) (*frame, DropReason) {
	i, found := s.frames.find(p.ExtTS)
	n := s.frames.len()
	switch {
	case found && (!inOrder || i == n-1):
		return s.frames.at(i), DropNone
	case found:
		return nil, DropInconsistent
	case i == n && inOrder:
		return s.newFrame(p), DropNone
	case i == n || inOrder:
		return nil, DropInconsistent
	case i == 0:
		return nil, DropTooOld
	}
	return s.lateFrame(p, i)
}

// newFrame decides a frame newer than all known ones and remembers it.
func (s *VP8State) newFrame(p *PacketInfo) *frame {
	nw := s.frames.newest()
	pic := nw.pic + 1 // synthesized when absent or not newer (7-bit wrap after long loss)
	if p.VP8.HasPictureID {
		if d := picDelta(&p.VP8, nw.pic); d > 0 {
			pic = nw.pic + uint64(d)
		}
	}
	f := frame{ts: p.ExtTS, pic: pic, outPic: pic - s.picOff, tid: tidOf(p), keyframe: p.Keyframe}
	f.accepted, f.reason = s.filter(p, &f, s.frames.len()-1)
	if !f.accepted {
		// Collapse the picture ID of a dropped frame, so that the receiver
		// sees no missing frame (Chrome waits for missing picture IDs).
		s.picOff++
	}
	return s.frames.push(f)
}

// lateFrame decides a frame first seen after a newer one (reordering, or a
// whole frame recovered by retransmission) and slots it in between its
// neighbours. Its picture ID counts back from the next known frame.
func (s *VP8State) lateFrame(p *PacketInfo, i int) (*frame, DropReason) {
	if !p.VP8.HasPictureID {
		return nil, DropTooOld
	}
	prev, next := s.frames.at(i-1), s.frames.at(i)
	d := picDelta(&p.VP8, next.pic)
	if d >= 0 || uint64(-d) >= next.pic-prev.pic {
		return nil, DropInconsistent
	}
	back := uint64(-d)
	f := frame{ts: p.ExtTS, pic: next.pic - back, outPic: next.outPic - back, tid: tidOf(p), keyframe: p.Keyframe}
	f.accepted, f.reason = s.filter(p, &f, i-1)
	fp := s.frames.insert(i, f)
	if fp == nil {
		return nil, DropTooOld
	}
	return fp, DropNone
}

// filter is the quality filter for a frame of the encoding being forwarded;
// prev is the ring index of the frame before it.
func (s *VP8State) filter(p *PacketInfo, f *frame, prev int) (bool, DropReason) {
	if f.keyframe {
		if !s.acceptKeyframe(s.cur, p.Arrival) {
			return false, DropNotTargetEncoding
		}
		return true, DropNone
	}
	switch t := s.target; {
	case s.cur > t.Encoding && f.tid > 0:
		// Pending downswitch: lower the frame rate until the keyframe.
		return false, DropTemporalAboveTarget
	case s.cur == t.Encoding && int8(f.tid) > t.Temporal:
		return false, DropTemporalAboveTarget
	}
	if f.tid > 0 && !s.decodable(f, prev) {
		return false, DropUndecodable
	}
	return true, DropNone
}

// decodable is JVB's checkDecodability: assuming temporal nesting, a TL>0
// frame references the nearest earlier frame of its own or a lower layer,
// and is decodable when that one was forwarded. A gap in the known history
// gives the benefit of the doubt.
func (s *VP8State) decodable(f *frame, prev int) bool {
	want := f.pic
	for j := prev; j >= 0; j-- {
		pf := s.frames.at(j)
		if pf.pic+1 != want {
			return true
		}
		if pf.keyframe || pf.tid <= f.tid {
			return pf.accepted
		}
		want = pf.pic
	}
	return true
}

// acceptKeyframe decides whether a keyframe of encoding e may become (or,
// for the current encoding, stay) the forwarded encoding. Like JVB's
// VP8QualityFilter.acceptKeyframe it takes a keyframe at or below the target,
// which may be the only one to come (the sender may send low quality only),
// and never one above it (a lower keyframe must follow in the group), and
// any keyframe fulfils the keyframe request. Inside a keyframe group the
// rules are JVB's: move up towards the target, or down to it. Outside a
// group JVB takes any keyframe at or below the target, even one below a
// current encoding that already is at or below the target; here such a
// keyframe is refused, as inside a group, so that a keyframe of a lower
// layer alone (a sender answering a PLI on that layer only) does not pull a
// receiver away from the layer it should get.
func (s *VP8State) acceptKeyframe(e int8, at int64) bool {
	s.needsKeyframe = false
	if s.outOfGroup(at) {
		s.groupAt, s.groupSet = at, true
	}
	tgt := s.target.Encoding
	if e > tgt {
		return false
	}
	return !s.fwd || e >= s.cur || s.cur > tgt
}

func (s *VP8State) outOfGroup(at int64) bool {
	return !s.groupSet || at-s.groupAt > keyframeGroupWin
}

// canSwitchTo is JVB's isPossibleToSwitch.
func (s *VP8State) canSwitchTo(e int8) bool {
	tgt := s.target.Encoding
	switch {
	case e < 0:
		return false
	case e > s.cur && s.cur < tgt:
		return true
	}
	return e < s.cur && s.cur > tgt
}

// anchor starts forwarding p's encoding at p, a keyframe: the output
// continues from the last packet, frame, picture and TL0PICIDX sent.
func (s *VP8State) anchor(p *PacketInfo) Decision {
	o := &s.out
	seq := o.anchorSeq(p.ExtSeq)
	ts := o.anchorTS(p, s.tsOff)
	pic := uint64(p.VP8.PictureID)
	outPic, outTL0 := pic, p.VP8.TL0PICIDX
	if o.picValid {
		outPic, outTL0 = o.pic+1, o.tl0+1
	}
	s.cur, s.fwd = p.Encoding, true
	s.seq.reset(p.ExtSeq, seq)
	s.seq.see(p.ExtSeq, true)
	s.tsOff = p.ExtTS - ts
	s.picOff = pic - outPic
	s.tl0Off = p.VP8.TL0PICIDX - outTL0
	s.frames.reset()
	f := s.frames.push(frame{ts: p.ExtTS, pic: pic, outPic: outPic, keyframe: true, accepted: true})
	d := s.emit(p, f)
	d.Switched = true
	return d
}

// emit forwards p, a packet of the accepted frame f.
func (s *VP8State) emit(p *PacketInfo, f *frame) Decision {
	seq := s.seq.out(p.ExtSeq)
	ts := p.ExtTS - s.tsOff
	var tl0 uint8
	if p.VP8.HasTL0PICIDX {
		tl0 = p.VP8.TL0PICIDX - s.tl0Off
	}
	o := &s.out
	if !o.started || int64(seq-o.seq) > 0 {
		o.seq = seq
	}
	switch {
	case !o.picValid || int64(f.outPic-o.pic) > 0:
		o.pic, o.ts, o.at, o.end, o.enc = f.outPic, ts, p.Arrival, p.Marker, s.cur
		if p.VP8.HasTL0PICIDX {
			o.tl0 = tl0
		}
	case f.outPic == o.pic:
		o.end = o.end || p.Marker
	}
	o.started, o.picValid = true, true
	return Decision{
		Forward:   true,
		Seq:       uint16(seq),
		Timestamp: uint32(ts),
		PictureID: uint16(f.outPic) & picIDMask,
		TL0PICIDX: tl0,
		Marker:    p.Marker,
	}
}

// picDelta is the signed distance from the extended picture ID ref to the
// picture ID of v, in v's 7- or 15-bit space.
func picDelta(v *VP8Info, ref uint64) int64 {
	mod := uint64(1) << 7
	if v.LongPictureID {
		mod = 1 << 15
	}
	d := (uint64(v.PictureID) - ref) & (mod - 1)
	if d >= mod/2 {
		return int64(d) - int64(mod)
	}
	return int64(d)
}

// tidOf is the temporal layer of p; a stream without temporal scalability
// is all TL0 (JVB).
func tidOf(p *PacketInfo) uint8 {
	if !p.VP8.HasTID {
		return 0
	}
	return p.VP8.TID
}
