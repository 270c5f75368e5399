package srtp

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// refWindow is the obvious replay list the window must behave like: the set of received
// indices and the highest one.
type refWindow struct {
	head uint64
	seen map[uint64]bool
}

func (r *refWindow) replayed(i uint64) bool {
	return i <= r.head && (r.head-i >= replayWindow || r.seen[i])
}

func (r *refWindow) accept(i uint64) {
	r.seen[i] = true
	r.head = max(r.head, i)
}

func TestWindowShift(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 63, 64, 65, 127, 128, 200, 448, 511, 512, 513, 1 << 40} {
		var w window
		for _, d := range []uint64{0, 1, 62, 63, 64, 100, 255, 256, 447, 448, 510, 511} {
			w.set(d)
		}
		want := window{}
		for d := range uint64(replayWindow) {
			if d >= n && d-n < replayWindow && w.has(d-n) {
				want.set(d)
			}
		}
		got := w
		got.shift(n)
		if got != want {
			t.Errorf("shift %d:\n got %x\nwant %x", n, got, want)
		}
	}
}

func TestReplayStateSequence(t *testing.T) {
	type step struct {
		index    uint64
		replayed bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first index 0 is fresh once", []step{{0, false}, {0, true}, {1, false}, {0, true}}},
		{"in order and duplicates", []step{{10, false}, {11, false}, {11, true}, {12, false}, {10, true}}},
		{"reordered within the window", []step{{1000, false}, {600, false}, {999, false}, {489, false}, {600, true}, {488, true}}},
		{"edge of the window", []step{{700, false}, {189, false}, {188, true}, {189, true}}},
		{"a jump past the window forgets everything older", []step{{5, false}, {5000, false}, {4489, false}, {4488, true}, {5, true}}},
		{"a jump of exactly 64", []step{{100, false}, {99, false}, {164, false}, {99, true}, {100, true}, {101, false}}},
		{"first index high, lower ones inside the window", []step{{1 << 20, false}, {1<<20 - 511, false}, {1<<20 - 512, true}}},
	}
	for _, tt := range tests {
		var s replayState
		for i, st := range tt.steps {
			if got := s.replayed(st.index); got != st.replayed {
				t.Fatalf("%s: step %d index %d: replayed %v, want %v", tt.name, i, st.index, got, st.replayed)
			}
			if !st.replayed {
				s.accept(st.index)
			}
		}
	}
}

// TestReplayStateRandom drives the window and the reference set with the same random indices
// around a moving head (steps of all sizes, duplicates, late packets).
func TestReplayStateRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s replayState
	ref := refWindow{seen: map[uint64]bool{}}
	for i := range 200000 {
		var idx uint64
		switch k := rng.IntN(10); {
		case k < 5:
			idx = ref.head + uint64(rng.IntN(3))
		case k < 8:
			idx = ref.head - min(ref.head, uint64(rng.IntN(600)))
		case k < 9:
			idx = ref.head + uint64(rng.IntN(700))
		default:
			idx = ref.head + uint64(rng.IntN(130))
		}
		got, want := s.replayed(idx), ref.replayed(idx)
		if got != want {
			t.Fatalf("step %d index %d head %d: replayed %v, want %v", i, idx, ref.head, got, want)
		}
		if !got {
			s.accept(idx)
			ref.accept(idx)
		}
		if s.head != ref.head {
			t.Fatalf("step %d: head %d, want %d", i, s.head, ref.head)
		}
	}
}

// accept looks ssrc up and commits index as an authenticated packet would (test helper).
func (t *replayTable) accept(ssrc uint32, index uint64) error {
	s, slot, err := t.lookup(ssrc)
	if err != nil {
		return err
	}
	if s.replayed(index) {
		return errReplayed
	}
	t.commit(ssrc, s, slot, index)
	return nil
}

func TestReplayTableSlots(t *testing.T) {
	var tab replayTable
	accept := func(ssrc uint32, index uint64) {
		t.Helper()
		if err := tab.accept(ssrc, index); err != nil {
			t.Fatalf("SSRC %d index %d: %v", ssrc, index, err)
		}
	}
	// lookup alone (an unauthenticated packet) creates nothing.
	if _, slot, err := tab.lookup(7); err != nil || slot != slotNew || tab.size() != 0 {
		t.Fatalf("lookup of a new SSRC: slot %d, size %d, %v", slot, tab.size(), err)
	}
	// 12 SSRCs interleaved: the first 8 stay hot, the other 4 in the map, without churn.
	for i := range 3 * staleTicks {
		accept(uint32(i%12), uint64(i/12))
	}
	hot := tab.hotSet()
	for ssrc := range uint32(12) {
		if hot[ssrc] != (ssrc < hotSSRCs) {
			t.Fatalf("active SSRCs churned: hot %v", hot)
		}
	}
	// SSRCs 0..3 go idle: 8..11 take their slots once they are stale.
	for i := range 2 * staleTicks {
		accept(uint32(4+i%8), uint64(3*staleTicks/12+i/8))
	}
	hot = tab.hotSet()
	for ssrc := range uint32(12) {
		if hot[ssrc] != (ssrc >= 4) {
			t.Fatalf("stale slots not reused: hot %v", hot)
		}
	}
	// The demoted SSRCs kept their state: SSRC 0 accepted 0..1023, so its window is full.
	if err := tab.accept(0, 1023-511); !errors.Is(err, errReplayed) {
		t.Fatalf("demoted SSRC lost its window: %v", err)
	}
	accept(0, 1024)
	if s, slot, _ := tab.lookup(0); slot != slotCold || s.head != 1024 || tab.size() != 12 {
		t.Fatalf("demoted SSRC: slot %d head %d size %d", slot, s.head, tab.size())
	}
}

func TestReplayTableBound(t *testing.T) {
	var tab replayTable
	for ssrc := range uint32(maxSSRCs) {
		if err := tab.accept(ssrc, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.accept(maxSSRCs, 1); !errors.Is(err, errTooManyInboundSSRCs) || ReasonOf(err) != ReasonMalformed {
		t.Fatalf("SSRC beyond the bound: %v", err)
	}
	if err := tab.accept(17, 2); err != nil || tab.size() != maxSSRCs {
		t.Fatalf("known SSRC after the bound: %v, size %d", err, tab.size())
	}
}

// TestReceiveIndex: the receiver's estimate, RFC 3711 §3.3.1 with pion's and libsrtp's ROC-0 rule.
func TestReceiveIndex(t *testing.T) {
	const roc1 = 1 << 16
	tests := []struct {
		name  string
		head  uint64
		seq   uint16
		index uint64
		ok    bool
	}{
		{"first packet", 0, 40000, 40000, true},
		{"next", 100, 101, 101, true},
		{"early stream: far ahead is ROC 0, never ROC -1", 100, 65000, 65000, true},
		{"early stream at the median", 1 << 15, 0, 0, true},
		{"wrap", 65535, 0, roc1, true},
		{"far ahead from the upper half is the next ROC", 40000, 7000, roc1 + 7000, true},
		{"late packet from before the wrap", roc1 + 3, 65530, 65530, true},
		{"late packet after the wrap", roc1 + 300, 3, roc1 + 3, true},
		{"ROC exhausted", (1<<32-1)<<16 | 50000, 3, 3, false},
	}
	for _, tt := range tests {
		index, ok := receiveIndex(tt.head, tt.seq)
		if index != tt.index || ok != tt.ok {
			t.Errorf("%s: receiveIndex(%#x, %d) = %#x %v, want %#x %v", tt.name, tt.head, tt.seq, index, ok, tt.index, tt.ok)
		}
	}
}
