package selector

// maxFrames is how many recent frames of the forwarded encoding are
// remembered: about half a second at 30 fps, enough for packets recovered by
// NACK and RTX to find the decision their frame got. A power of two.
const maxFrames = 16

// frame is the decision taken for one frame of the forwarded encoding, on
// its first packet seen, and applied to all its packets (JVB's VP8Frame in
// VP8FrameMap).
type frame struct {
	ts  uint64 // input timestamp (extended): identifies the frame
	pic uint64 // input picture ID, extended to 64 bits
	// outPic is the output picture ID the frame has, or would have had when
	// dropped: the next frames count from it.
	outPic   uint64
	tid      uint8
	keyframe bool
	accepted bool
	reason   DropReason // why it was dropped, when not accepted
}

// frameRing holds recent frames sorted by timestamp (oldest first) in a
// circular array.
type frameRing struct {
	f    [maxFrames]frame
	head uint8
	n    uint8
}

func (r *frameRing) at(i int) *frame { return &r.f[(int(r.head)+i)%maxFrames] }

func (r *frameRing) len() int { return int(r.n) }

func (r *frameRing) newest() *frame { return r.at(int(r.n) - 1) }

func (r *frameRing) reset() { r.head, r.n = 0, 0 }

// find returns the index of the frame with timestamp ts, or where such a
// frame would be inserted and false. It searches from the newest frame,
// where almost every packet belongs.
func (r *frameRing) find(ts uint64) (int, bool) {
	for i := int(r.n) - 1; i >= 0; i-- {
		switch t := r.at(i).ts; {
		case t == ts:
			return i, true
		case t < ts:
			return i + 1, false
		}
	}
	return 0, false
}

// push appends f as the newest frame, forgetting the oldest when full.
func (r *frameRing) push(f frame) *frame {
	if r.n == maxFrames {
		r.head = (r.head + 1) % maxFrames
		r.n--
	}
	r.n++
	p := r.at(int(r.n) - 1)
	*p = f
	return p
}

// insert puts f at index i (0 < i < len), shifting newer frames up and
// forgetting the oldest when full. It returns nil when f would itself be the
// oldest of a full ring.
func (r *frameRing) insert(i int, f frame) *frame {
	if r.n == maxFrames {
		if i <= 1 {
			return nil
		}
		r.head = (r.head + 1) % maxFrames
		r.n--
		i--
	}
	for j := int(r.n); j > i; j-- {
		*r.at(j) = *r.at(j - 1)
	}
	r.n++
	p := r.at(i)
	*p = f
	return p
}
