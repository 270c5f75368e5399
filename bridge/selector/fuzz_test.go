package selector

import (
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// fuzzEnc is one encoding of the fuzz source.
type fuzzEnc struct {
	seq  uint16
	ts   uint32
	pic  uint16
	tl0  uint8
	tid  uint8
	kf   bool
	seqU rtp.SeqUnwrapper
	tsU  rtp.TSUnwrapper
	hist [32]PacketInfo // recent packets, replayed as duplicates and late arrivals
	nh   int
	back int // sequence numbers jumped back so far, kept small (see fuzzGen)
}

// fuzzGen turns fuzz bytes into a packet stream of a 3-encoding VP8
// simulcast source (encoding 1 with 7-bit picture IDs) with loss,
// reordering, duplicates, padding, restarts and target changes. Steps are
// bounded so that output sequence numbers of one run never wrap around to
// themselves and no jump is ambiguous for the unwrapper (below 2^15).
type fuzzGen struct {
	enc [3]fuzzEnc
	now int64
}

const fuzzMaxPackets = 1000

// next consumes 3 bytes. It returns the packet, or a target to set (ok false).
func (g *fuzzGen) next(b []byte) (p PacketInfo, target Layer, isPacket bool) {
	e := int(b[0] & 3)
	if e == 3 {
		e = 2
	}
	en := &g.enc[e]
	action := b[0] >> 2 & 7
	switch action {
	case 3: // new frame
		en.ts += 3000 * uint32(1+b[2]>>6)
		en.pic += 1 + uint16(b[2]>>5&1)
		en.kf = b[2]&4 != 0
		en.tid = b[2] & 3
		if en.kf {
			en.tid = 0
		}
		if en.tid == 0 {
			en.tl0++
		}
		en.seq += 1 + uint16(b[1]&3)
		g.now += int64(b[1]>>2) * 2_000_000
	case 4: // replay: duplicate, late or retransmitted packet
		if en.nh > 0 {
			return en.hist[int(b[1])%min(en.nh, len(en.hist))], Layer{}, true
		}
		en.seq++
	case 5: // target change
		return PacketInfo{}, Layer{Encoding: int8(b[1]%4) - 1, Temporal: int8(b[2] % 4)}, false
	case 7: // restart: sequence numbers or timestamps jump
		if jump := int(b[1]) << 4; b[2]&1 == 0 && en.back+jump < 8000 {
			en.seq -= uint16(jump)
			en.back += jump
		} else {
			en.ts -= uint32(b[1]) * 3000
		}
		en.kf = b[2]&2 != 0
	default: // next packet of the frame
		en.seq++
		en.kf = false
	}
	p = PacketInfo{
		Encoding:      int8(e),
		ExtSeq:        en.seqU.Unwrap(en.seq),
		ExtTS:         en.tsU.Unwrap(en.ts),
		Arrival:       g.now,
		Marker:        b[2]&8 != 0,
		PayloadLen:    1000,
		Keyframe:      en.kf,
		KeyframeKnown: true,
		StartOfFrame:  en.kf || action == 3,
		AudioLevel:    127 - b[1]&1,
		HasAudioLevel: b[1]&2 != 0,
	}
	if action == 6 {
		p.PayloadLen = 0
	}
	pic := en.pic & 0x7fff
	if e == 1 {
		pic &= 0x7f
	}
	p.VP8 = VP8Info{HasPictureID: b[2]&0x10 == 0 || e != 2, LongPictureID: e != 1, PictureID: pic,
		HasTL0PICIDX: true, TL0PICIDX: en.tl0, HasTID: true, TID: en.tid}
	en.hist[en.nh%len(en.hist)] = p
	en.nh++
	return p, Layer{}, true
}

// outChecker holds the invariants every scheme keeps on its output. Output
// sequence numbers are extended by their distance to the highest so far
// (each step is far below 2^15 here).
type outChecker struct {
	t        *testing.T
	maxIn    [3]uint64 // highest input ExtSeq fed per encoding
	seenIn   [3]bool
	used     map[int64]bool // extended output sequence numbers already sent
	maxOut   int64
	anyOut   bool
	maxPic   uint16
	anyPic   bool
	picTS    map[uint16]uint32
	checkPic bool
}

func newOutChecker(t *testing.T, checkPic bool) *outChecker {
	return &outChecker{t: t, used: map[int64]bool{}, picTS: map[uint16]uint32{}, checkPic: checkPic}
}

func (c *outChecker) check(p *PacketInfo, d Decision) {
	t := c.t
	e := int(p.Encoding)
	inOrder := !c.seenIn[e] || p.ExtSeq > c.maxIn[e]
	if inOrder {
		c.maxIn[e], c.seenIn[e] = p.ExtSeq, true
	}
	if !d.Forward {
		if d.Reason == DropNone || d.Seq != 0 || d.Timestamp != 0 || d.PictureID != 0 || d.Switched {
			t.Fatalf("drop with output fields: %+v", d)
		}
		return
	}
	if d.Reason != DropNone || (d.Switched && c.checkPic && !p.Keyframe) {
		t.Fatalf("forward %+v of %+v", d, p)
	}
	ext := int64(d.Seq)
	if c.anyOut {
		ext = c.maxOut + int64(int16(d.Seq-uint16(c.maxOut)))
	}
	if c.used[ext] {
		t.Fatalf("output seq %d sent twice (packet %+v)", d.Seq, p)
	}
	c.used[ext] = true
	if inOrder && c.anyOut && ext <= c.maxOut {
		t.Fatalf("in-order packet got seq %d after %d", d.Seq, uint16(c.maxOut))
	}
	if !c.anyOut || ext > c.maxOut {
		c.maxOut, c.anyOut = ext, true
	}
	if c.checkPic {
		c.checkPicture(d, inOrder)
	}
}

func (c *outChecker) checkPicture(d Decision, inOrder bool) {
	t := c.t
	if d.PictureID > 0x7fff {
		t.Fatalf("picture ID %d over 15 bits", d.PictureID)
	}
	if ts, ok := c.picTS[d.PictureID]; ok && ts != d.Timestamp {
		t.Fatalf("picture ID %d with timestamps %d and %d", d.PictureID, ts, d.Timestamp)
	}
	c.picTS[d.PictureID] = d.Timestamp
	if back := (c.maxPic - d.PictureID) & 0x7fff; inOrder && c.anyPic && back != 0 && back < 0x4000 {
		t.Fatalf("in-order packet got picture ID %d after %d", d.PictureID, c.maxPic)
	}
	if fwd := (d.PictureID - c.maxPic) & 0x7fff; !c.anyPic || (fwd != 0 && fwd < 0x4000) {
		c.maxPic, c.anyPic = d.PictureID, true
	}
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{})
	// Keyframes on all encodings, then frames and packets.
	f.Add([]byte{0x0c, 0, 0x04, 0x0d, 0, 0x04, 0x0e, 0, 0x04, 0x00, 0, 8, 0x0c, 1, 0x02, 0x01, 0, 0, 0x0c, 1, 0x01})
	// Target changes, replays, restarts, padding.
	f.Add([]byte{0x14, 3, 2, 0x0c, 0, 0x04, 0x10, 5, 0, 0x1c, 0x20, 0x03, 0x18, 0, 0, 0x14, 0, 0, 0x0d, 0, 0x04})
	f.Add([]byte{0x14, 2, 1, 0x0e, 0, 0x04, 0x0e, 0, 0x01, 0x02, 0, 8, 0x0e, 0xff, 0xc2, 0x12, 7, 0, 0x1e, 0x40, 0x06})
}

// FuzzDecideVP8: random packet streams never panic and keep the output
// invariants: every output sequence number is used once, in-order packets
// get increasing sequence numbers and never older picture IDs, and one
// picture ID has one timestamp.
func FuzzDecideVP8(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var g fuzzGen
		g.now = 1e9
		var s VP8State
		s.SetTarget(Layer{2, 3})
		c := newOutChecker(t, true)
		for n := 0; len(data) >= 3 && n < fuzzMaxPackets; data = data[3:] {
			p, target, ok := g.next(data)
			if !ok {
				s.SetTarget(target)
				continue
			}
			n++
			c.check(&p, DecideVP8(&s, &p))
		}
	})
}

// FuzzDecideGeneric: the same streams through the generic scheme.
func FuzzDecideGeneric(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var g fuzzGen
		var s GenericState
		s.SetTarget(Layer{0, 0})
		c := newOutChecker(t, false)
		for n := 0; len(data) >= 3 && n < fuzzMaxPackets; data = data[3:] {
			p, target, ok := g.next(data)
			if !ok {
				s.SetTarget(target)
				continue
			}
			n++
			p.KeyframeKnown = data[1]&0x80 == 0
			c.check(&p, DecideGeneric(&s, &p))
		}
	})
}

// FuzzDecideAudio: the same streams, encoding 0 only, as audio with levels.
func FuzzDecideAudio(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var g fuzzGen
		var s AudioState
		c := newOutChecker(t, false)
		for n := 0; len(data) >= 3 && n < fuzzMaxPackets; data = data[3:] {
			b := [3]byte{data[0] &^ 3, data[1], data[2]}
			p, target, ok := g.next(b[:])
			if !ok {
				s.SetForceMuted(target.Encoding < 0)
				s.SetDiscardSilence(target.Temporal != 3)
				continue
			}
			n++
			c.check(&p, DecideAudio(&s, &p))
		}
	})
}
