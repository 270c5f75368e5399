package selector

import (
	"reflect"
	"testing"
)

// fwd builds the expected Decision of a forwarded packet.
func fwd(seq uint16, ts uint32, pic uint16, tl0 uint8, marker bool) Decision {
	return Decision{Forward: true, Seq: seq, Timestamp: ts, PictureID: pic, TL0PICIDX: tl0, Marker: marker}
}

func switched(d Decision) Decision { d.Switched = true; return d }

func dropped(r DropReason) Decision { return Decision{Reason: r} }

// fiveFrames is one encoding of L1T3: a keyframe then TL2, TL1, TL2, TL0,
// two packets each. Encoding 0 starts at seq 100, ts 10000, picture ID 10
// and TL0PICIDX 5 (6 on the keyframe).
func fiveFrames() []PacketInfo {
	s := newSim()
	var pkts []PacketInfo
	for i := range 5 {
		pkts = append(pkts, s.frame(0, i == 0, 2)...)
		s.now += frameNs
	}
	return pkts
}

// TestVP8SteadyTemporal compares the whole output of a short stream for
// each temporal target: dropped frames leave no hole in the sequence
// numbers or picture IDs, TL0PICIDX and timestamps pass through.
func TestVP8SteadyTemporal(t *testing.T) {
	above := dropped(DropTemporalAboveTarget)
	tests := []struct {
		name     string
		temporal int8
		want     []Decision
	}{
		{"TL2", 2, []Decision{
			switched(fwd(100, 10000, 10, 6, false)), fwd(101, 10000, 10, 6, true),
			fwd(102, 13000, 11, 6, false), fwd(103, 13000, 11, 6, true),
			fwd(104, 16000, 12, 6, false), fwd(105, 16000, 12, 6, true),
			fwd(106, 19000, 13, 6, false), fwd(107, 19000, 13, 6, true),
			fwd(108, 22000, 14, 7, false), fwd(109, 22000, 14, 7, true),
		}},
		{"TL1", 1, []Decision{
			switched(fwd(100, 10000, 10, 6, false)), fwd(101, 10000, 10, 6, true),
			above, above,
			fwd(102, 16000, 11, 6, false), fwd(103, 16000, 11, 6, true),
			above, above,
			fwd(104, 22000, 12, 7, false), fwd(105, 22000, 12, 7, true),
		}},
		{"TL0", 0, []Decision{
			switched(fwd(100, 10000, 10, 6, false)), fwd(101, 10000, 10, 6, true),
			above, above, above, above, above, above,
			fwd(102, 22000, 11, 7, false), fwd(103, 22000, 11, 7, true),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s VP8State
			s.SetTarget(Layer{0, tt.temporal})
			var got []Decision
			for _, r := range feedVP8(&s, fiveFrames()) {
				got = append(got, r.d)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestVP8SteadySimulcast forwards the middle encoding of three for two
// seconds: only encoding 1 goes out, continuous, and nothing asks for a
// keyframe once it flows.
func TestVP8SteadySimulcast(t *testing.T) {
	s := newSim()
	var st VP8State
	st.SetTarget(Layer{1, MaxTemporal})
	var rs []rec
	for i := range 60 {
		rs = append(rs, feedVP8(&st, s.tick([3]bool{i == 0, i == 0, i == 0}, allActive))...)
	}
	checkContinuity(t, rs)
	// Encoding 0's keyframe comes first in the group and is taken (it could
	// be the only one); encoding 1's follows within the group.
	if got := encodingsOf(rs); !reflect.DeepEqual(got, []int8{0, 1}) {
		t.Fatalf("encodings forwarded %v, want [0 1]", got)
	}
	if n := len(forwarded(rs)); n != 1+60*2 {
		t.Fatalf("forwarded %d packets, want %d", n, 1+60*2)
	}
	for i, r := range rs {
		if r.d.RequestKeyframe {
			t.Fatalf("packet %d asks for a keyframe", i)
		}
	}
}

// TestVP8KeyframeGroups covers switching: only on keyframes, within a
// 300 ms keyframe group up to the best encoding that fits, never to one
// above the target.
func TestVP8KeyframeGroups(t *testing.T) {
	tests := []struct {
		name   string
		first  Layer  // target while the first group arrives
		second Layer  // target set after two seconds
		order  [3]int // order of the keyframes within the second group
		want   []int8 // runs of forwarded encodings (the first group climbs 0, 1, 2)
	}{
		{"upswitch ascending group", Layer{0, 3}, Layer{2, 3}, [3]int{0, 1, 2}, []int8{0, 1, 2}},
		{"upswitch descending group", Layer{0, 3}, Layer{2, 3}, [3]int{2, 1, 0}, []int8{0, 2}},
		{"downswitch ascending group", Layer{2, 3}, Layer{0, 3}, [3]int{0, 1, 2}, []int8{0, 1, 2, 0}},
		{"downswitch descending group", Layer{2, 3}, Layer{0, 3}, [3]int{2, 1, 0}, []int8{0, 1, 2, 0}},
		{"to middle descending group", Layer{0, 3}, Layer{1, 3}, [3]int{2, 1, 0}, []int8{0, 1}},
		{"from top to middle", Layer{2, 3}, Layer{1, 3}, [3]int{2, 1, 0}, []int8{0, 1, 2, 1}},
		{"from top to middle ascending", Layer{2, 3}, Layer{1, 3}, [3]int{0, 1, 2}, []int8{0, 1, 2, 0, 1}},
		{"at target, group starting below", Layer{1, 3}, Layer{1, 2}, [3]int{0, 1, 2}, []int8{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim()
			var st VP8State
			st.SetTarget(tt.first)
			var rs []rec
			for i := range 60 {
				rs = append(rs, feedVP8(&st, s.tick([3]bool{i == 0, i == 0, i == 0}, allActive))...)
			}
			st.SetTarget(tt.second)
			// A frame before the keyframes arrive: keyframes requested when
			// the encoding must change.
			before := feedVP8(&st, s.tick([3]bool{}, allActive))
			for _, r := range before {
				if r.d.RequestKeyframe != (tt.second.Encoding != tt.first.Encoding) {
					t.Fatalf("no keyframe request while waiting: %+v", r)
				}
			}
			rs = append(rs, before...)
			for _, e := range tt.order {
				rs = append(rs, feedVP8(&st, s.frame(e, true, e+1))...)
			}
			s.now += frameNs
			for range 30 {
				rs = append(rs, feedVP8(&st, s.tick([3]bool{}, allActive))...)
			}
			checkContinuity(t, rs)
			if got := encodingsOf(rs); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("encodings %v, want %v", got, tt.want)
			}
			if last := rs[len(rs)-1]; last.d.RequestKeyframe {
				t.Fatalf("still asking for a keyframe after the switch")
			}
		})
	}
}

// TestVP8PendingSwitchFrameRate checks the frame rate while a switch
// waits for its keyframe: TL0 only above the target, everything below it.
func TestVP8PendingSwitchFrameRate(t *testing.T) {
	tests := []struct {
		name          string
		first, second Layer
		wantTIDs      []uint8 // TIDs forwarded over 8 frames after the change
	}{
		{"above target: TL0 only", Layer{2, 1}, Layer{0, 2}, []uint8{0, 0}},
		{"below target: all", Layer{0, 0}, Layer{2, 0}, []uint8{0, 2, 1, 2, 0, 2, 1, 2}},
		{"at target: up to target TID", Layer{1, 2}, Layer{1, 1}, []uint8{0, 1, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim()
			var st VP8State
			st.SetTarget(tt.first)
			feedVP8(&st, s.tick([3]bool{true, true, true}, allActive))
			for range 3 {
				feedVP8(&st, s.tick([3]bool{}, allActive))
			}
			st.SetTarget(tt.second)
			var rs []rec
			for range 8 {
				rs = append(rs, feedVP8(&st, s.tick([3]bool{}, allActive))...)
			}
			if got := tidsOf(rs); !reflect.DeepEqual(got, tt.wantTIDs) {
				t.Fatalf("TIDs forwarded %v, want %v", got, tt.wantTIDs)
			}
			checkContinuity(t, rs)
		})
	}
}

// TestVP8Decodability raises the temporal target in the middle of a
// pattern: a TL2 frame whose TL1 reference was dropped is not forwarded.
func TestVP8Decodability(t *testing.T) {
	s := newSim()
	var st VP8State
	st.SetTarget(Layer{0, 0})
	var rs []rec
	// F0 key, F1 TL2, F2 TL1 at target TL0.
	for i := range 3 {
		rs = append(rs, feedVP8(&st, s.frame(0, i == 0, 1))...)
	}
	st.SetTarget(Layer{0, 2})
	// F3 TL2 references F2 (dropped); F4 TL0; F5 TL2; F6 TL1; F7 TL2.
	for range 5 {
		rs = append(rs, feedVP8(&st, s.frame(0, false, 1))...)
	}
	var reasons []DropReason
	for _, r := range rs {
		reasons = append(reasons, r.d.Reason)
	}
	want := []DropReason{DropNone, DropTemporalAboveTarget, DropTemporalAboveTarget, DropUndecodable,
		DropNone, DropNone, DropNone, DropNone}
	if !reflect.DeepEqual(reasons, want) {
		t.Fatalf("reasons %v, want %v", reasons, want)
	}
	checkContinuity(t, rs)
}

// TestVP8FallbackWhenEncodingStops: the target encoding stops arriving. A
// fixed target forwards nothing; TargetLayer over the active encodings
// moves to the best one still arriving, at its keyframe.
func TestVP8FallbackWhenEncodingStops(t *testing.T) {
	heights := []int{180, 360, 720}
	s := newSim()
	var st VP8State
	st.SetTarget(TargetLayer(720, heights, []bool{true, true, true}))
	var rs []rec
	for i := range 10 {
		rs = append(rs, feedVP8(&st, s.tick([3]bool{i == 0, i == 0, i == 0}, allActive))...)
	}
	active := [3]bool{true, true, false}
	stalled := feedVP8(&st, s.tick([3]bool{}, active))
	stalled = append(stalled, feedVP8(&st, s.tick([3]bool{}, active))...)
	if n := len(forwarded(stalled)); n != 0 {
		t.Fatalf("forwarded %d packets of other encodings without a keyframe", n)
	}
	rs = append(rs, stalled...)

	st.SetTarget(TargetLayer(720, heights, active[:]))
	if got := st.Target(); got != (Layer{1, MaxTemporal}) {
		t.Fatalf("fallback target %+v, want encoding 1", got)
	}
	waiting := feedVP8(&st, s.tick([3]bool{}, active))
	if !waiting[0].d.RequestKeyframe {
		t.Fatalf("no keyframe request after the fallback target")
	}
	rs = append(rs, waiting...)
	for i := range 10 {
		rs = append(rs, feedVP8(&st, s.tick([3]bool{i == 0, i == 0}, active))...)
	}
	checkContinuity(t, rs)
	if got := encodingsOf(rs); !reflect.DeepEqual(got, []int8{0, 1, 2, 0, 1}) {
		t.Fatalf("encodings %v, want [0 1 2 0 1] (groups: first fitting keyframe, then up)", got)
	}
}

// TestVP8SuspendResume: a suspended target drops everything without asking
// for keyframes; resuming asks, waits for a keyframe and continues the
// sequence numbers, picture IDs, TL0PICIDX and timestamps.
func TestVP8SuspendResume(t *testing.T) {
	for _, resumeTo := range []int8{1, 2} {
		s := newSim()
		var st VP8State
		st.SetTarget(Layer{1, 2})
		var rs []rec
		for i := range 10 {
			rs = append(rs, feedVP8(&st, s.tick([3]bool{i == 0, i == 0, i == 0}, allActive))...)
		}
		last := forwarded(rs)[len(forwarded(rs))-1].d
		st.SetTarget(Suspended)
		for range 30 {
			for _, r := range feedVP8(&st, s.tick([3]bool{}, allActive)) {
				if r.d != dropped(DropSuspended) {
					t.Fatalf("while suspended: %+v", r.d)
				}
			}
		}
		st.SetTarget(Layer{resumeTo, 2})
		for _, r := range feedVP8(&st, s.tick([3]bool{}, allActive)) {
			if r.d.Forward || !r.d.RequestKeyframe {
				t.Fatalf("resuming without a keyframe: %+v", r.d)
			}
		}
		// 10 more frame intervals without packets: only the timestamps of
		// a new encoding can follow the clock.
		s.now += 10 * frameNs
		kf := feedVP8(&st, s.frame(int(resumeTo), true, 2))
		first := kf[0].d
		if !first.Forward || !first.Switched || first.Seq != last.Seq+1 ||
			first.PictureID != last.PictureID+1 || first.TL0PICIDX != last.TL0PICIDX+1 {
			t.Fatalf("resume %+v after %+v", first, last)
		}
		// The same encoding keeps the source timing (32 frames later); another
		// one advances 3000 per 33 ms since the last frame sent (42 * 33.3 ms).
		wantTS := last.Timestamp + 32*3000
		if resumeTo == 2 {
			wantTS = last.Timestamp + 42*3000
		}
		if first.Timestamp != wantTS {
			t.Fatalf("resume to %d: ts %d, want %d", resumeTo, first.Timestamp, wantTS)
		}
	}
}

// TestVP8Reordering: packets reordered within a frame keep their position;
// a frame first seen after the next one is slotted in between.
func TestVP8Reordering(t *testing.T) {
	s := newSim()
	var frames [][]PacketInfo
	for i := range 5 { // seq 100.., pic 10..: key, TL2, TL1, TL2, TL0; 3 packets
		frames = append(frames, s.frame(0, i == 0, 3))
	}
	f := frames
	tests := []struct {
		name     string
		temporal int8
		order    []PacketInfo
		wantSeq  []uint16 // forwarded, in arrival order
		wantPic  []uint16
	}{
		{"within frame", 2,
			[]PacketInfo{f[0][0], f[0][2], f[0][1], f[1][1], f[1][0], f[1][2]},
			[]uint16{100, 102, 101, 104, 103, 105}, []uint16{10, 10, 10, 11, 11, 11}},
		{"late frame forwarded", 2,
			cat(f[0], f[2], f[1], f[3], f[4]),
			[]uint16{100, 101, 102, 106, 107, 108, 103, 104, 105, 109, 110, 111, 112, 113, 114},
			[]uint16{10, 10, 10, 12, 12, 12, 11, 11, 11, 13, 13, 13, 14, 14, 14}},
		// The late TL2 frame cannot be collapsed any more: its slots stay
		// empty (as in JVB, whose projection is fixed once made).
		{"late frame dropped", 1,
			cat(f[0], f[2], f[1], f[3], f[4]),
			[]uint16{100, 101, 102, 106, 107, 108, 109, 110, 111},
			[]uint16{10, 10, 10, 12, 12, 12, 13, 13, 13}},
		{"duplicate", 2,
			[]PacketInfo{f[0][0], f[0][1], f[0][1], f[0][2]},
			[]uint16{100, 101, 102}, []uint16{10, 10, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st VP8State
			st.SetTarget(Layer{0, tt.temporal})
			var seqs, pics []uint16
			for _, r := range forwarded(feedVP8(&st, tt.order)) {
				seqs = append(seqs, r.d.Seq)
				pics = append(pics, r.d.PictureID)
			}
			if !reflect.DeepEqual(seqs, tt.wantSeq) || !reflect.DeepEqual(pics, tt.wantPic) {
				t.Fatalf("seq %v pic %v\nwant seq %v pic %v", seqs, pics, tt.wantSeq, tt.wantPic)
			}
		})
	}
}

func cat(fs ...[]PacketInfo) []PacketInfo {
	var out []PacketInfo
	for _, f := range fs {
		out = append(out, f...)
	}
	return out
}

// TestVP8Loss: lost packets leave gaps (the receiver must NACK them); a
// retransmission arriving later fills its own slot.
func TestVP8Loss(t *testing.T) {
	s := newSim()
	var f [][]PacketInfo
	for i := range 5 { // key, TL2, TL1, TL2, TL0; 3 packets each from seq 100
		f = append(f, s.frame(0, i == 0, 3))
	}
	tests := []struct {
		name     string
		temporal int8
		order    []PacketInfo
		wantSeq  []uint16
		wantPic  []uint16
	}{
		{"packet lost", 2, cat(f[0][:1], f[0][2:], f[1]),
			[]uint16{100, 102, 103, 104, 105}, []uint16{10, 10, 11, 11, 11}},
		{"packet retransmitted", 2, cat(f[0][:1], f[0][2:], f[1], f[0][1:2]),
			[]uint16{100, 102, 103, 104, 105, 101}, []uint16{10, 10, 11, 11, 11, 10}},
		{"whole frame lost", 2, cat(f[0], f[2]),
			[]uint16{100, 101, 102, 106, 107, 108}, []uint16{10, 10, 10, 12, 12, 12}},
		{"whole frame retransmitted", 2, cat(f[0], f[2], f[1]),
			[]uint16{100, 101, 102, 106, 107, 108, 103, 104, 105}, []uint16{10, 10, 10, 12, 12, 12, 11, 11, 11}},
		// A packet lost from a frame that is dropped anyway: the packets
		// seen are collapsed, the lost one keeps its slot.
		{"lost in dropped frame", 0, cat(f[0], f[1][:1], f[1][2:], f[2], f[3], f[4]),
			[]uint16{100, 101, 102, 104, 105, 106}, []uint16{10, 10, 10, 11, 11, 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st VP8State
			st.SetTarget(Layer{0, tt.temporal})
			var seqs, pics []uint16
			for _, r := range forwarded(feedVP8(&st, tt.order)) {
				seqs = append(seqs, r.d.Seq)
				pics = append(pics, r.d.PictureID)
			}
			if !reflect.DeepEqual(seqs, tt.wantSeq) || !reflect.DeepEqual(pics, tt.wantPic) {
				t.Fatalf("seq %v pic %v\nwant seq %v pic %v", seqs, pics, tt.wantSeq, tt.wantPic)
			}
		})
	}
}

// TestVP8Wrap runs sequence numbers, 15-bit and 7-bit picture IDs,
// TL0PICIDX and timestamps across their wrap points, with switches.
func TestVP8Wrap(t *testing.T) {
	s := newSim()
	s.enc[0] = simEnc{seq: 65500, ts: 0xffff_0000, pic: 32700, tl0: 250}
	s.enc[1] = simEnc{seq: 65530, ts: 0xffff_fff0, pic: 120, tl0: 254, short: true}
	var st VP8State
	st.SetTarget(Layer{1, 2})
	var rs []rec
	for i := range 200 {
		kf := i == 0 || i == 60 || i == 130
		rs = append(rs, feedVP8(&st, s.tick([3]bool{kf, kf, kf}, allActive))...)
		if i == 50 {
			st.SetTarget(Layer{0, 2})
		}
		if i == 120 {
			st.SetTarget(Layer{1, 1})
		}
	}
	checkContinuity(t, rs)
	if got := encodingsOf(rs); !reflect.DeepEqual(got, []int8{0, 1, 0, 1}) {
		t.Fatalf("encodings %v", got)
	}
	fw := forwarded(rs)
	if first, last := fw[0].d, fw[len(fw)-1].d; last.Seq > first.Seq || last.PictureID > first.PictureID {
		t.Fatalf("no wrap exercised: first %+v last %+v", first, last)
	}
}

// TestVP8KeyframeRequests: a request is raised while nothing is forwarded
// and after a target change; a keyframe clears it (JVB), and it is raised
// again once the group window has passed while a better encoding flows.
func TestVP8KeyframeRequests(t *testing.T) {
	s := newSim()
	var st VP8State
	if d := DecideVP8(&st, &s.frame(0, false, 1)[0]); d != dropped(DropSuspended) {
		t.Fatalf("no target: %+v", d)
	}
	st.SetTarget(Layer{2, 2})
	// Only encoding 0 sends a keyframe: it is taken (it may be all there is).
	rs := feedVP8(&st, s.tick([3]bool{true, false, false}, allActive))
	if !rs[0].d.Forward || rs[0].d.RequestKeyframe {
		t.Fatalf("first keyframe: %+v", rs[0].d)
	}
	// Within 300 ms, encoding 2 flowing does not raise a request...
	for range 9 {
		rs = feedVP8(&st, s.tick([3]bool{}, allActive))
		if rs[len(rs)-1].d.RequestKeyframe {
			t.Fatalf("request inside the keyframe group window")
		}
	}
	// ...afterwards it does.
	rs = feedVP8(&st, s.tick([3]bool{}, allActive))
	if !rs[len(rs)-1].d.RequestKeyframe {
		t.Fatalf("no request after the group window with a better encoding flowing")
	}
	if st.Current() != 0 {
		t.Fatalf("current %d", st.Current())
	}
	// Setting the target to the encoding forwarded needs no keyframe.
	st.SetTarget(Layer{0, 2})
	if d := DecideVP8(&st, &s.frame(0, false, 1)[0]); d.RequestKeyframe || !d.Forward {
		t.Fatalf("target = current: %+v", d)
	}
}

// TestVP8Restart: the source's sequence numbers jump back (an encoder
// restart): packets are dropped with a keyframe request until a keyframe,
// where forwarding re-anchors and stays continuous.
func TestVP8Restart(t *testing.T) {
	s := newSim()
	var st VP8State
	st.SetTarget(Layer{0, 2})
	var rs []rec
	for i := range 10 {
		rs = append(rs, feedVP8(&st, s.frame(0, i == 0, 2))...)
		s.now += frameNs
	}
	s.enc[0].seq -= 5000
	bad := feedVP8(&st, s.frame(0, false, 2))
	for _, r := range bad {
		if r.d.Forward || !r.d.RequestKeyframe {
			t.Fatalf("after restart without keyframe: %+v", r.d)
		}
	}
	for i := range 5 {
		rs = append(rs, feedVP8(&st, s.frame(0, i == 0, 2))...)
		s.now += frameNs
	}
	checkContinuity(t, rs)
	if n := len(forwarded(rs)); n != 30 {
		t.Fatalf("forwarded %d, want 30", n)
	}
}

// TestVP8Padding: padding-only packets are dropped and hidden.
func TestVP8Padding(t *testing.T) {
	s := newSim()
	var st VP8State
	st.SetTarget(Layer{0, 2})
	var rs []rec
	for i := range 6 {
		f := s.frame(0, i == 0, 2)
		if i == 2 {
			f[1].PayloadLen = 0
			f[1].Marker = false
			f[0].Marker = true
		}
		rs = append(rs, feedVP8(&st, f)...)
	}
	if got := countReasons(rs)[DropPadding]; got != 1 {
		t.Fatalf("padding drops %d", got)
	}
	checkContinuity(t, rs)
}

// TestVP8MapSRTimestamp: sender reports pass only for the encoding of the
// newest forwarded frame, shifted like its packets.
func TestVP8MapSRTimestamp(t *testing.T) {
	s := newSim()
	var st VP8State
	if _, ok := st.MapSRTimestamp(0, 1); ok {
		t.Fatalf("SR mapped before anything was sent")
	}
	st.SetTarget(Layer{1, 2})
	rs := feedVP8(&st, s.tick([3]bool{true, true, true}, allActive))
	var in PacketInfo
	var out Decision
	for _, r := range rs {
		if r.d.Forward {
			in, out = r.in, r.d
		}
	}
	if got, ok := st.MapSRTimestamp(1, uint32(in.ExtTS)+900); !ok || got != out.Timestamp+900 {
		t.Fatalf("SR of encoding 1: %d %v, want %d", got, ok, out.Timestamp+900)
	}
	if _, ok := st.MapSRTimestamp(0, 5); ok {
		t.Fatalf("SR of encoding 0 accepted")
	}
}

// TestVP8ContinueFrom: a projection that replaces another continues its
// sequence numbers and timestamps.
func TestVP8ContinueFrom(t *testing.T) {
	s := newSim()
	var st VP8State
	st.ContinueFrom(RTPState{Valid: true, Seq: 65535, Timestamp: 1000, Arrival: s.now - 10*frameNs})
	st.SetTarget(Layer{0, 2})
	d := DecideVP8(&st, &s.frame(0, true, 1)[0])
	want := switched(fwd(0, 1000+3000*10, 10, 6, true))
	if d != want {
		t.Fatalf("got %+v, want %+v", d, want)
	}
	if got := st.RTPState(); got != (RTPState{Valid: true, Seq: 0, Timestamp: 31000, Arrival: s.now}) {
		t.Fatalf("RTPState %+v", got)
	}
}

func TestDropReasonString(t *testing.T) {
	seen := map[string]bool{}
	for r := range DropReason(NumDropReasons) {
		name := r.String()
		if name == "" || name == "unknown" || seen[name] {
			t.Fatalf("reason %d has name %q", r, name)
		}
		seen[name] = true
	}
	if DropReason(200).String() != "unknown" {
		t.Fatalf("out of range reason")
	}
}

// TestVP8SwitchAfterIncompleteFrame: when the last frame sent before a
// switch lacks its end, one sequence number is left out so that the
// decoder knows; the missing packet, arriving late, is not sent into it.
func TestVP8SwitchAfterIncompleteFrame(t *testing.T) {
	s := newSim()
	var st VP8State
	st.SetTarget(Layer{0, 2})
	f0 := s.frame(0, true, 2) // seq 100-101, ts 10000, pic 10, TL0PICIDX 6
	s.now += frameNs
	f1 := s.frame(0, false, 2) // seq 102-103, ts 13000, pic 11, TL2
	s.now += frameNs
	k := s.frame(1, true, 2) // encoding 1 keyframe
	var got []Decision
	for _, p := range cat(f0, f1[:1]) {
		got = append(got, DecideVP8(&st, &p))
	}
	st.SetTarget(Layer{1, 2})
	for _, p := range cat(k, f1[1:]) {
		got = append(got, DecideVP8(&st, &p))
	}
	want := []Decision{
		switched(fwd(100, 10000, 10, 6, false)), fwd(101, 10000, 10, 6, true),
		fwd(102, 13000, 11, 6, false),
		switched(fwd(104, 16000, 12, 7, false)), fwd(105, 16000, 12, 7, true),
		dropped(DropNotTargetEncoding),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}
