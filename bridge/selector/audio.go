package selector

// Silence discard (media.md §2.8, JVB jmt audio-level reader): packets whose
// RFC 6464 level is 127 (silence) are forwarded up to
// forwarded-silence-packets-limit consecutive ones, then dropped, so that
// comfort noise from muted or DTX senders does not leak to every receiver.
const (
	silenceLevel          = 127
	forwardedSilenceLimit = 3
)

// AudioState is the projection of one audio source onto one receiver. Audio
// goes out with the source's own SSRC, sequence numbers and timestamps (JVB
// classic mode), except that the packets dropped here (force-mute, silence)
// are hidden from the receiver's sequence space, so that they do not look
// like loss.
//
// The zero value is ready and discards silence (JVB's default
// discard-silence = true). It is not safe for concurrent use.
type AudioState struct {
	keepSilence bool
	forceMuted  bool
	started     bool
	silentRun   uint32 // consecutive silent packets, in order
	highTS      uint64
	lastOut     uint64 // highest output sequence number (extended)
	seq         seqMap
}

// SetDiscardSilence turns silence discard on (the default) or off.
func (s *AudioState) SetDiscardSilence(on bool) { s.keepSilence = !on }

// SetForceMuted drops all audio while on (colibri2 force-mute).
func (s *AudioState) SetForceMuted(on bool) { s.forceMuted = on }

// DecideAudio decides the fate of one audio packet.
func DecideAudio(s *AudioState, p *PacketInfo) Decision {
	if !s.started {
		s.started = true
		s.reanchor(p, p.ExtSeq)
	}
	r, inOrder := s.seq.classify(p.ExtSeq)
	if r == DropTooOld && p.ExtTS > s.highTS {
		// The source restarted its sequence numbers: continue after the
		// last one sent.
		s.reanchor(p, s.lastOut+1)
		r, inOrder = DropNone, true
	}
	if r != DropNone {
		return Decision{Reason: r}
	}
	s.seq.see(p.ExtSeq, inOrder)
	silent := p.HasAudioLevel && p.AudioLevel&0x7f == silenceLevel
	if inOrder {
		s.highTS = max(s.highTS, p.ExtTS)
		if !silent {
			s.silentRun = 0
		} else if s.silentRun < forwardedSilenceLimit+1 {
			s.silentRun++
		}
	}
	switch {
	case s.forceMuted:
		r = DropForceMuted
	case silent && !s.keepSilence && s.silentRun > forwardedSilenceLimit:
		r = DropSilence
	}
	if r != DropNone {
		s.seq.drop(p.ExtSeq, inOrder)
		return Decision{Reason: r}
	}
	seq := s.seq.out(p.ExtSeq)
	if int64(seq-s.lastOut) > 0 {
		s.lastOut = seq
	}
	return Decision{Forward: true, Seq: uint16(seq), Timestamp: uint32(p.ExtTS), Marker: p.Marker}
}

func (s *AudioState) reanchor(p *PacketInfo, out uint64) {
	s.seq.reset(p.ExtSeq, out)
	s.highTS = p.ExtTS
	s.lastOut = out - 1
}
