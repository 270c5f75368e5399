package selector

// GenericState is the projection of a source whose layers this package does
// not understand (H264 without dependency descriptor, and for now VP9 and
// AV1): JVB's GenericAdaptiveSourceProjectionContext. It forwards one
// encoding whole (for a source without simulcast, the only one) and keeps
// the receiver's sequence numbers and timestamps continuous across suspend,
// resume and a change of encoding.
//
// The zero value is ready: suspended, nothing sent. It is not safe for
// concurrent use.
type GenericState struct {
	target    Layer
	hasTarget bool
	fwd       bool
	cur       int8
	highTS    uint64 // newest input timestamp of the encoding forwarded
	out       outState
	seq       seqMap
	tsOff     uint64
}

// SetTarget sets the target; only its encoding matters here. Any layer that
// is not suspended turns forwarding on.
func (s *GenericState) SetTarget(l Layer) {
	if l.IsSuspended() {
		l = Suspended
	}
	s.target, s.hasTarget = l, true
}

// Target returns the layer set by SetTarget, Suspended before the first call.
func (s *GenericState) Target() Layer {
	if !s.hasTarget {
		return Suspended
	}
	return s.target
}

// RTPState returns what was sent last, to continue from in another scheme.
func (s *GenericState) RTPState() RTPState { return s.out.rtpState() }

// ContinueFrom makes the next packet sent continue the sequence numbers and
// timestamps of a previous projection.
func (s *GenericState) ContinueFrom(r RTPState) { s.out.continueFrom(r) }

// MapSRTimestamp translates the RTP timestamp of a sender report from the
// SSRC of encoding enc; ok is false when that encoding is not the one sent.
func (s *GenericState) MapSRTimestamp(enc int8, ts uint32) (uint32, bool) {
	if !s.out.started || enc != s.out.enc {
		return 0, false
	}
	return ts - uint32(s.tsOff), true
}

// DecideGeneric decides the fate of one packet. Forwarding starts (and
// resumes, and moves to another target encoding) at a keyframe when ingress
// can tell keyframes for the codec, otherwise at the first packet, and then
// everything of that encoding is forwarded, as JVB does.
func DecideGeneric(s *GenericState, p *PacketInfo) Decision {
	if !s.hasTarget || s.target.IsSuspended() {
		s.fwd = false
		return Decision{Reason: DropSuspended}
	}
	want := !s.fwd || s.cur != s.target.Encoding // a start or switch is pending
	switch {
	case s.fwd && p.Encoding == s.cur:
		d := s.current(p)
		d.RequestKeyframe = d.RequestKeyframe || want
		return d
	case p.Encoding != s.target.Encoding:
		return Decision{Reason: DropNotTargetEncoding, RequestKeyframe: want}
	case p.KeyframeKnown && !p.Keyframe:
		return Decision{Reason: DropWaitingKeyframe, RequestKeyframe: true}
	}
	d := s.anchor(p)
	// Started blind (keyframes unknown): ask for one to start cleanly.
	d.RequestKeyframe = !p.Keyframe
	return d
}

func (s *GenericState) current(p *PacketInfo) Decision {
	r, inOrder := s.seq.classify(p.ExtSeq)
	if r == DropTooOld && p.ExtTS > s.highTS {
		// The source restarted its sequence numbers: start again from here
		// when that is a clean point, else ask for one.
		if p.Keyframe || !p.KeyframeKnown {
			return s.anchor(p)
		}
		return Decision{Reason: r, RequestKeyframe: true}
	}
	if r != DropNone {
		return Decision{Reason: r}
	}
	s.seq.see(p.ExtSeq, inOrder)
	if p.ExtTS > s.highTS {
		s.highTS = p.ExtTS
	}
	seq := s.seq.out(p.ExtSeq)
	ts := p.ExtTS - s.tsOff
	s.out.sentPacket(p, seq, ts)
	return Decision{Forward: true, Seq: uint16(seq), Timestamp: uint32(ts), Marker: p.Marker}
}

// anchor starts forwarding p's encoding at p.
func (s *GenericState) anchor(p *PacketInfo) Decision {
	seq := s.out.anchorSeq(p.ExtSeq)
	ts := s.out.anchorTS(p, s.tsOff)
	s.cur, s.fwd = p.Encoding, true
	s.seq.reset(p.ExtSeq, seq)
	s.tsOff = p.ExtTS - ts
	s.highTS = p.ExtTS
	d := s.current(p)
	d.Switched = true
	return d
}
