package selector

import "testing"

func TestTargetEncoding(t *testing.T) {
	hd := []int{180, 360, 720}
	all := []bool{true, true, true}
	tests := []struct {
		name      string
		maxHeight int
		heights   []int
		active    []bool
		want      int
	}{
		{"unconstrained", -1, hd, all, 2},
		{"720", 720, hd, all, 2},
		{"between layers", 500, hd, all, 1},
		{"360", 360, hd, all, 1},
		{"180", 180, hd, all, 0},
		{"zero disables", 0, hd, all, -1},
		{"below every layer: lowest", 90, hd, all, 0},
		{"top stopped", 720, hd, []bool{true, true, false}, 1},
		{"only top arriving, constraint below it", 180, hd, []bool{false, false, true}, 2},
		{"middle stopped", 360, hd, []bool{true, false, true}, 0},
		{"nothing arriving", 720, hd, []bool{false, false, false}, -1},
		{"short active slice", 720, hd, []bool{true}, 0},
		{"no encodings", 720, nil, nil, -1},
		{"single stream", 180, []int{720}, []bool{true}, 0},
		{"equal heights (SIM without scaling): highest index", 720, []int{720, 720, 720}, all, 2},
		{"unsorted heights", 400, []int{720, 360, 180}, all, 1},
		{"unsorted, fallback to smallest", 100, []int{720, 360, 180}, all, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TargetEncoding(tt.maxHeight, tt.heights, tt.active); got != tt.want {
				t.Fatalf("TargetEncoding(%d, %v, %v) = %d, want %d", tt.maxHeight, tt.heights, tt.active, got, tt.want)
			}
			want := Suspended
			if tt.want >= 0 {
				want = Layer{int8(tt.want), MaxTemporal}
			}
			if got := TargetLayer(tt.maxHeight, tt.heights, tt.active); got != want {
				t.Fatalf("TargetLayer = %+v, want %+v", got, want)
			}
		})
	}
}

func TestLayerIsSuspended(t *testing.T) {
	for _, tt := range []struct {
		l    Layer
		want bool
	}{{Layer{0, 0}, false}, {Layer{2, 3}, false}, {Suspended, true}, {Layer{-1, 2}, true}, {Layer{1, -1}, true}} {
		if got := tt.l.IsSuspended(); got != tt.want {
			t.Errorf("%+v.IsSuspended() = %v", tt.l, got)
		}
	}
}
