package selector

import (
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

const frameNs = 33_333_333 // 30 fps

// tl1t3 is the temporal layer pattern of VP8 L1T3 at 30 fps: TL0 at 7.5 fps,
// TL1 at 15 fps, TL2 at 30 fps.
var tl1t3 = [4]uint8{0, 2, 1, 2}

// simEnc is one encoding of a synthetic simulcast source, with its own
// sequence number, timestamp, picture ID and TL0PICIDX spaces, unwrapped the
// way ingress does it.
type simEnc struct {
	seq   uint16
	ts    uint32
	pic   uint16
	tl0   uint8
	short bool // 7-bit picture IDs
	n     int  // frames since the last keyframe
	seqU  rtp.SeqUnwrapper
	tsU   rtp.TSUnwrapper
}

// sim is a synthetic VP8 simulcast source sending 3 × L1T3 at 30 fps.
type sim struct {
	enc [3]simEnc
	now int64
}

func newSim() *sim {
	s := &sim{now: 1_000_000_000}
	bases := [3]struct {
		seq uint16
		ts  uint32
		pic uint16
		tl0 uint8
	}{{100, 10_000, 10, 5}, {20_000, 500_000, 2_000, 100}, {40_000, 9_000_000, 30_000, 200}}
	for i, b := range bases {
		s.enc[i] = simEnc{seq: b.seq, ts: b.ts, pic: b.pic, tl0: b.tl0}
	}
	return s
}

// frame returns the n packets of the next frame of encoding e, a keyframe
// when kf, and advances that encoding. It does not advance the clock.
func (s *sim) frame(e int, kf bool, n int) []PacketInfo {
	en := &s.enc[e]
	if kf {
		en.n = 0
	}
	tid := tl1t3[en.n%4]
	if tid == 0 {
		en.tl0++
	}
	pkts := make([]PacketInfo, n)
	for i := range pkts {
		pkts[i] = PacketInfo{
			Encoding:      int8(e),
			ExtSeq:        en.seqU.Unwrap(en.seq),
			ExtTS:         en.tsU.Unwrap(en.ts),
			Arrival:       s.now,
			Marker:        i == n-1,
			PayloadLen:    1000,
			Keyframe:      kf && i == 0,
			KeyframeKnown: true,
			StartOfFrame:  i == 0,
			VP8: VP8Info{
				HasPictureID: true, LongPictureID: !en.short, PictureID: en.pic,
				HasTL0PICIDX: true, TL0PICIDX: en.tl0,
				HasTID: true, TID: tid, LayerSync: tid > 0 && en.n%4 == 1,
			},
		}
		en.seq++
	}
	en.ts += 3000
	if en.short {
		en.pic = (en.pic + 1) & 0x7f
	} else {
		en.pic = (en.pic + 1) & 0x7fff
	}
	en.n++
	return pkts
}

// tick returns one frame of each encoding in order (keyframes where kf[e]),
// with n[e] packets, and advances the clock by one frame interval.
func (s *sim) tick(kf [3]bool, active [3]bool) []PacketInfo {
	var out []PacketInfo
	for e := range 3 {
		if active[e] {
			out = append(out, s.frame(e, kf[e], e+1)...)
		}
	}
	s.now += frameNs
	return out
}

var allActive = [3]bool{true, true, true}

// rec is one packet fed to a Decide function and what came out.
type rec struct {
	in PacketInfo
	d  Decision
}

// feedVP8 runs pkts through DecideVP8 and records the decisions.
func feedVP8(s *VP8State, pkts []PacketInfo) []rec {
	out := make([]rec, 0, len(pkts))
	for i := range pkts {
		out = append(out, rec{pkts[i], DecideVP8(s, &pkts[i])})
	}
	return out
}

func forwarded(rs []rec) []rec {
	var out []rec
	for _, r := range rs {
		if r.d.Forward {
			out = append(out, r)
		}
	}
	return out
}

// checkContinuity asserts the output invariants of a stream forwarded
// without input loss or reordering: sequence numbers +1 (+2 only after an
// incomplete frame at a switch), picture IDs +1 per frame, TL0PICIDX +1 per
// TL0 frame and constant in between, timestamps increasing per frame and
// equal within one, encodings changing only at a keyframe marked Switched.
func checkContinuity(t *testing.T, rs []rec) {
	t.Helper()
	fw := forwarded(rs)
	for i := 1; i < len(fw); i++ {
		a, b := fw[i-1], fw[i]
		sameFrame := a.in.Encoding == b.in.Encoding && a.in.ExtTS == b.in.ExtTS
		wantSeq := a.d.Seq + 1
		if b.d.Switched && !a.d.Marker {
			wantSeq++
		}
		if b.d.Seq != wantSeq {
			t.Fatalf("packet %d: seq %d after %d, want %d", i, b.d.Seq, a.d.Seq, wantSeq)
		}
		if b.in.Encoding != a.in.Encoding && !(b.in.Keyframe && b.d.Switched) {
			t.Fatalf("packet %d: encoding %d -> %d not at a switching keyframe", i, a.in.Encoding, b.in.Encoding)
		}
		if sameFrame {
			if b.d.PictureID != a.d.PictureID || b.d.Timestamp != a.d.Timestamp || b.d.TL0PICIDX != a.d.TL0PICIDX {
				t.Fatalf("packet %d: frame fields changed within a frame: %+v then %+v", i, a.d, b.d)
			}
			continue
		}
		if want := (a.d.PictureID + 1) & 0x7fff; b.d.PictureID != want {
			t.Fatalf("packet %d: picture ID %d after %d, want %d", i, b.d.PictureID, a.d.PictureID, want)
		}
		if int32(b.d.Timestamp-a.d.Timestamp) <= 0 {
			t.Fatalf("packet %d: timestamp %d not after %d", i, b.d.Timestamp, a.d.Timestamp)
		}
		wantTL0 := a.d.TL0PICIDX
		if b.in.VP8.TID == 0 || b.in.Keyframe {
			wantTL0++
		}
		if b.d.TL0PICIDX != wantTL0 {
			t.Fatalf("packet %d (tid %d): TL0PICIDX %d after %d, want %d", i, b.in.VP8.TID, b.d.TL0PICIDX, a.d.TL0PICIDX, wantTL0)
		}
	}
}

// encodingsOf lists the encodings of the forwarded packets, one entry per
// run.
func encodingsOf(rs []rec) []int8 {
	var out []int8
	for _, r := range forwarded(rs) {
		if len(out) == 0 || out[len(out)-1] != r.in.Encoding {
			out = append(out, r.in.Encoding)
		}
	}
	return out
}

// tidsOf lists the TIDs of the forwarded frames (first packet of each).
func tidsOf(rs []rec) []uint8 {
	var out []uint8
	for _, r := range forwarded(rs) {
		if r.in.StartOfFrame {
			out = append(out, r.in.VP8.TID)
		}
	}
	return out
}

func countReasons(rs []rec) map[DropReason]int {
	m := map[DropReason]int{}
	for _, r := range rs {
		m[r.d.Reason]++
	}
	return m
}
