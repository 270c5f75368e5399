package selector

import (
	"reflect"
	"testing"
)

// gp is a packet for the generic scheme: encoding e, seq and ts (already
// extended), keyframe flag, arrival in frame intervals.
func gp(e int8, seq, ts uint64, kf, known bool, frame int64) PacketInfo {
	return PacketInfo{Encoding: e, ExtSeq: 1<<16 + seq, ExtTS: 1<<32 + ts, Arrival: frame * frameNs,
		Marker: true, PayloadLen: 500, Keyframe: kf, KeyframeKnown: known}
}

func gfwd(seq uint16, ts uint32) Decision {
	return Decision{Forward: true, Seq: seq, Timestamp: ts, Marker: true}
}

type genericStep struct {
	target *Layer // set before the packet when not nil
	p      PacketInfo
	want   Decision
}

func runGeneric(t *testing.T, steps []genericStep) {
	t.Helper()
	var s GenericState
	for i, st := range steps {
		if st.target != nil {
			s.SetTarget(*st.target)
		}
		if got := DecideGeneric(&s, &st.p); got != st.want {
			t.Fatalf("step %d: got %+v, want %+v", i, got, st.want)
		}
	}
}

func lp(l Layer) *Layer { return &l }

func TestGenericStartAtKeyframe(t *testing.T) {
	wait := Decision{Reason: DropWaitingKeyframe, RequestKeyframe: true}
	runGeneric(t, []genericStep{
		{lp(Layer{0, 0}), gp(0, 10, 1000, false, true, 0), wait},
		{nil, gp(0, 11, 4000, false, true, 1), wait},
		{nil, gp(0, 12, 7000, true, true, 2), func() Decision { d := gfwd(12, 7000); d.Switched = true; return d }()},
		{nil, gp(0, 13, 10000, false, true, 3), gfwd(13, 10000)},
		{nil, gp(0, 15, 13000, false, true, 4), gfwd(15, 13000)}, // loss: gap kept
		{nil, gp(0, 14, 10000, false, true, 4), gfwd(14, 10000)}, // retransmission
		{nil, gp(0, 14, 10000, false, true, 4), Decision{Reason: DropDuplicate}},
		{nil, gp(0, 11, 4000, false, true, 4), Decision{Reason: DropTooOld}}, // before the start
	})
}

func TestGenericStartBlind(t *testing.T) {
	first := gfwd(10, 1000)
	first.Switched, first.RequestKeyframe = true, true
	runGeneric(t, []genericStep{
		{nil, gp(0, 9, 1000, false, false, 0), Decision{Reason: DropSuspended}},
		{lp(Layer{0, 0}), gp(0, 10, 1000, false, false, 0), first},
		{nil, gp(0, 11, 4000, false, false, 1), gfwd(11, 4000)},
		{nil, gp(1, 50, 9000, false, false, 1), Decision{Reason: DropNotTargetEncoding}},
	})
}

// TestGenericSuspendResume: sequence numbers continue across the pause;
// the timestamp offset is kept (the receiver sees the source's timing).
func TestGenericSuspendResume(t *testing.T) {
	resume := gfwd(13, 40000)
	resume.Switched = true
	runGeneric(t, []genericStep{
		{lp(Layer{0, 0}), gp(0, 10, 1000, true, true, 0), func() Decision { d := gfwd(10, 1000); d.Switched = true; return d }()},
		{nil, gp(0, 11, 4000, false, true, 1), gfwd(11, 4000)},
		{nil, gp(0, 12, 7000, false, true, 2), gfwd(12, 7000)},
		{lp(Suspended), gp(0, 13, 10000, false, true, 3), Decision{Reason: DropSuspended}},
		{nil, gp(0, 14, 13000, false, true, 4), Decision{Reason: DropSuspended}},
		{lp(Layer{0, 0}), gp(0, 20, 31000, false, true, 10), Decision{Reason: DropWaitingKeyframe, RequestKeyframe: true}},
		{nil, gp(0, 21, 40000, true, true, 13), resume},
		{nil, gp(0, 22, 43000, false, true, 14), gfwd(14, 43000)},
		{nil, gp(0, 20, 31000, false, true, 14), Decision{Reason: DropTooOld}},
	})
}

// TestGenericEncodingSwitch: a simulcast source without layer information
// (H264 without dependency descriptor): the current encoding goes on until
// a keyframe of the target one; the timestamp continues by elapsed time.
func TestGenericEncodingSwitch(t *testing.T) {
	sw := gfwd(13, 7000+3000*3)
	sw.Switched = true
	pending := gfwd(12, 7000)
	pending.RequestKeyframe = true
	runGeneric(t, []genericStep{
		{lp(Layer{0, 0}), gp(0, 10, 1000, true, true, 0), func() Decision { d := gfwd(10, 1000); d.Switched = true; return d }()},
		{nil, gp(1, 500, 90000, true, true, 0), Decision{Reason: DropNotTargetEncoding}},
		{nil, gp(0, 11, 4000, false, true, 1), gfwd(11, 4000)},
		{lp(Layer{1, 0}), gp(0, 12, 7000, false, true, 2), pending},
		{nil, gp(1, 502, 96000, false, true, 2), Decision{Reason: DropWaitingKeyframe, RequestKeyframe: true}},
		{nil, gp(1, 503, 99000, true, true, 5), sw},
		{nil, gp(0, 13, 10000, false, true, 5), Decision{Reason: DropNotTargetEncoding}},
		{nil, gp(1, 504, 102000, false, true, 6), gfwd(14, 7000+3000*4)},
	})
}

func TestGenericRestartAndSR(t *testing.T) {
	var s GenericState
	s.SetTarget(Layer{0, 0})
	var got []uint16
	for i, p := range []PacketInfo{
		gp(0, 30000, 1000, true, true, 0), gp(0, 30001, 4000, false, true, 1),
		gp(0, 10, 7000, false, true, 2), // sequence numbers restarted, no keyframe
		gp(0, 11, 10000, true, true, 3), gp(0, 12, 13000, false, true, 4),
	} {
		d := DecideGeneric(&s, &p)
		if i == 2 && (d.Forward || !d.RequestKeyframe) {
			t.Fatalf("restart without keyframe: %+v", d)
		}
		if d.Forward {
			got = append(got, d.Seq)
		}
	}
	if want := []uint16{30000, 30001, 30002, 30003}; !reflect.DeepEqual(got, want) {
		t.Fatalf("seqs %v, want %v", got, want)
	}
	if ts, ok := s.MapSRTimestamp(0, 13000+5); !ok || ts != 13005 {
		t.Fatalf("SR %d %v", ts, ok)
	}
	if _, ok := s.MapSRTimestamp(1, 5); ok {
		t.Fatalf("SR of another encoding accepted")
	}
	if st := s.RTPState(); st != (RTPState{Valid: true, Seq: 30003, Timestamp: 13000, Arrival: 4 * frameNs}) {
		t.Fatalf("RTPState %+v", st)
	}
}

// TestGenericContinueFrom: a generic projection replacing a VP8 one (or
// the reverse) continues its output.
func TestGenericContinueFrom(t *testing.T) {
	var v VP8State
	v.SetTarget(Layer{0, 2})
	s := newSim()
	var last Decision
	for i := range 3 {
		for _, r := range feedVP8(&v, s.frame(0, i == 0, 2)) {
			last = r.d
		}
		s.now += frameNs
	}
	var g GenericState
	g.ContinueFrom(v.RTPState())
	g.SetTarget(Layer{0, 0})
	p := s.frame(0, true, 1)[0]
	d := DecideGeneric(&g, &p)
	if !d.Forward || d.Seq != last.Seq+1 || d.Timestamp != last.Timestamp+3000 {
		t.Fatalf("continued %+v after %+v", d, last)
	}
}
