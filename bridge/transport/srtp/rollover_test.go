package srtp

import (
	"errors"
	"math"
	"testing"
)

func TestSendIndex(t *testing.T) {
	type result struct {
		roc  uint32
		next uint64
		ok   bool
	}
	const roc1 = 1 << 16
	tests := []struct {
		name string
		last uint64
		seq  uint16
		want result
	}{
		{"next", 10, 11, result{0, 11, true}},
		{"older", 10, 9, result{0, 10, true}},
		{"early stream takes any higher seq as newer", 10, 65535, result{0, 65535, true}},
		{"early stream never goes to ROC -1", 32768, 0, result{0, 32768, true}},
		{"wrap", 65535, 0, result{1, roc1, true}},
		{"wrap with a gap", 60000, 100, result{1, roc1 + 100, true}},
		{"exactly half behind the upper half is not a wrap", 40000, 40000 - 32768, result{0, 40000, true}},
		{"late packet from before the wrap", roc1 + 5, 65530, result{0, roc1 + 5, true}},
		{"exactly half ahead is newer", roc1 + 5, 5 + 32768, result{1, roc1 + 5 + 32768, true}},
		{"half ahead plus one is late", roc1 + 5, 5 + 32769, result{0, roc1 + 5, true}},
		{"same seq", roc1 + 5, 5, result{1, roc1 + 5, true}},
		{"last ROC still usable", math.MaxUint32<<16 | 40000, 40001, result{math.MaxUint32, math.MaxUint32<<16 | 40001, true}},
		{"ROC exhausted", math.MaxUint32<<16 | 40000, 1, result{0, math.MaxUint32<<16 | 40000, false}},
	}
	for _, tt := range tests {
		var got result
		got.roc, got.next, got.ok = sendIndex(tt.last, tt.seq)
		if got != tt.want {
			t.Errorf("%s: sendIndex(%#x, %d) = %+v, want %+v", tt.name, tt.last, tt.seq, got, tt.want)
		}
	}
}

// hotSet returns the SSRCs in the hot slots.
func (t *ssrcTable[T]) hotSet() map[uint32]bool {
	m := map[uint32]bool{}
	for _, k := range t.keys[:t.n] {
		m[k] = true
	}
	return m
}

func TestROCTableSlots(t *testing.T) {
	var tab rocTable
	send := func(ssrc uint32, seq uint16) uint32 {
		t.Helper()
		roc, err := tab.next(ssrc, seq)
		if err != nil {
			t.Fatal(err)
		}
		return roc
	}
	// 12 SSRCs interleaved: the first 8 stay hot, the other 4 live in the map, and nobody moves
	// while all are active (no churn).
	for i := range 3 * staleTicks {
		send(uint32(i%12), uint16(i/12))
	}
	hot := tab.hotSet()
	for ssrc := range uint32(12) {
		if hot[ssrc] != (ssrc < hotSSRCs) {
			t.Fatalf("active SSRCs churned: hot %v", hot)
		}
	}
	// SSRCs 0..3 go idle: SSRCs 8..11 take their slots once they are stale.
	for i := range 2 * staleTicks {
		send(uint32(4+i%8), uint16(3*staleTicks/12+i/8))
	}
	hot = tab.hotSet()
	for ssrc := range uint32(12) {
		if hot[ssrc] != (ssrc >= 4) {
			t.Fatalf("stale slots not reused: hot %v", hot)
		}
	}
	// The demoted SSRCs kept their index: 0 sent seq 1023 last (3*4096/12 - 1) at ROC 0.
	if roc := send(0, 1024); roc != 0 || tab.roc(0) != 0 {
		t.Fatalf("demoted SSRC lost its state: ROC %d", roc)
	}
	if roc := send(0, 0); roc != 0 {
		t.Fatalf("ROC %d", roc)
	}
	if roc := send(0, 40000); roc != 0 || send(0, 1) != 1 || tab.size() != 12 {
		t.Fatalf("ROC %d, size %d", roc, tab.size())
	}
}

func TestROCTableBound(t *testing.T) {
	var tab rocTable
	for ssrc := range uint32(maxSSRCs) {
		if _, err := tab.next(ssrc, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tab.next(maxSSRCs, 1); !errors.Is(err, errTooManySSRCs) {
		t.Fatalf("SSRC beyond the bound: %v", err)
	}
	if tab.size() != maxSSRCs {
		t.Fatalf("size %d", tab.size())
	}
}
