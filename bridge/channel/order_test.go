package channel

import (
	"reflect"
	"testing"

	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

func cam(owner, name string) Source {
	return Source{Name: name, Owner: owner, Type: bc.VideoTypeCamera}
}
func desk(owner, name string) Source {
	return Source{Name: name, Owner: owner, Type: bc.VideoTypeDesktop}
}
func off(owner, name string) Source { return Source{Name: name, Owner: owner, Type: bc.VideoTypeNone} }

func names(ss []Source) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func TestLastNOrder(t *testing.T) {
	sources := []Source{cam("a", "a-v0"), cam("b", "b-v0"), desk("b", "b-v1"), off("c", "c-v0"),
		cam("x", "x-v0"), {Name: "e-v0", Owner: "e"}}
	tests := []struct {
		name   string
		speech []string
		want   []string
	}{
		{"speech order, video senders first", []string{"c", "b", "a", "d", "e"},
			[]string{"b-v0", "b-v1", "a-v0", "e-v0", "c-v0", "x-v0"}},
		{"dominant first", []string{"a", "b", "c", "e"},
			[]string{"a-v0", "b-v0", "b-v1", "e-v0", "c-v0", "x-v0"}},
		{"no speech order: source order", nil,
			[]string{"a-v0", "b-v0", "b-v1", "c-v0", "x-v0", "e-v0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(LastNOrder(tt.speech, sources)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrioritize(t *testing.T) {
	base := []Source{cam("a", "a-v0"), cam("b", "b-v0"), desk("b", "b-v1"), off("c", "c-v0"), cam("d", "d-v0")}
	tests := []struct {
		name              string
		receiver          string
		onStage, selected []string
		want              []string
	}{
		{"own sources left out", "b", nil, nil, []string{"a-v0", "d-v0", "c-v0"}},
		{"on stage, then selected, then the rest", "a", []string{"d-v0"}, []string{"b-v1"},
			[]string{"d-v0", "b-v1", "b-v0", "c-v0"}},
		{"duplicates, unknown and own names ignored", "a", []string{"b-v1", "zz", "a-v0"},
			[]string{"b-v1", "d-v0", "b-v1"}, []string{"b-v1", "d-v0", "b-v0", "c-v0"}},
		{"a disabled source sinks even on stage", "a", []string{"c-v0"}, nil,
			[]string{"b-v0", "b-v1", "d-v0", "c-v0"}},
		{"receiver without sources sees all", "z", nil, nil, []string{"a-v0", "b-v0", "b-v1", "d-v0", "c-v0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(Prioritize(base, tt.receiver, tt.onStage, tt.selected)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func vc(h int) bc.VideoConstraints { return bc.VideoConstraints{MaxHeight: h, MaxFrameRate: -1} }

func TestEffective(t *testing.T) {
	order := []Source{desk("c", "c-v0"), cam("a", "a-v0"), cam("b", "b-v0"), cam("d", "d-v0"), off("e", "e-v0")}
	tests := []struct {
		name string
		s    Settings
		want map[string]int
	}{
		{"before any message nothing is forwarded", NewSettings(-1),
			map[string]int{"c-v0": 0, "a-v0": 0, "b-v0": 0, "d-v0": 0, "e-v0": 0}},
		{"unlimited lastN: every constraint, disabled type 0",
			Settings{LastN: -1, Default: vc(180), Constraints: map[string]bc.VideoConstraints{"c-v0": vc(720)}},
			map[string]int{"c-v0": 720, "a-v0": 180, "b-v0": 180, "d-v0": 180, "e-v0": 0}},
		{"lastN counts sources with non-zero constraints only",
			Settings{LastN: 2, Default: vc(180), Constraints: map[string]bc.VideoConstraints{"c-v0": vc(0)}},
			map[string]int{"c-v0": 0, "a-v0": 180, "b-v0": 180, "d-v0": 0, "e-v0": 0}},
		{"lastN 1 keeps the first",
			Settings{LastN: 1, Default: vc(360)},
			map[string]int{"c-v0": 360, "a-v0": 0, "b-v0": 0, "d-v0": 0, "e-v0": 0}},
		{"lastN 0 forwards nothing", Settings{LastN: 0, Default: vc(-1)},
			map[string]int{"c-v0": 0, "a-v0": 0, "b-v0": 0, "d-v0": 0, "e-v0": 0}},
		{"maxFrameRate 0 disables and does not count; negative heights are unlimited",
			Settings{LastN: 2, Default: vc(0), Constraints: map[string]bc.VideoConstraints{
				"c-v0": {MaxHeight: 720, MaxFrameRate: 0}, "a-v0": vc(-5), "b-v0": {MaxHeight: 180, MaxFrameRate: 15},
				"d-v0": vc(720), "e-v0": vc(720)}},
			map[string]int{"c-v0": 0, "a-v0": -1, "b-v0": 180, "d-v0": 0, "e-v0": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Effective(tt.s, order); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCapLastN(t *testing.T) {
	tests := []struct {
		lastN  int
		limits []int
		want   int
	}{
		{-1, nil, -1},
		{-1, []int{50}, 50},
		{5, []int{50}, 5},
		{80, []int{50, -1}, 50},
		{-1, []int{-1, 3, 7}, 3},
		{-7, nil, -1},
		{0, []int{50}, 0},
	}
	for _, tt := range tests {
		if got := CapLastN(tt.lastN, tt.limits...); got != tt.want {
			t.Errorf("CapLastN(%d, %v) = %d, want %d", tt.lastN, tt.limits, got, tt.want)
		}
	}
}

func TestSenderMaxHeight(t *testing.T) {
	tests := []struct {
		heights []int
		want    int
	}{
		{nil, 0},
		{[]int{0, 0}, 0},
		{[]int{180, 0, 720, 360}, 720},
		{[]int{180, -1, 720}, -1},
		{[]int{0, -1}, -1},
	}
	for _, tt := range tests {
		if got := SenderMaxHeight(tt.heights); got != tt.want {
			t.Errorf("SenderMaxHeight(%v) = %d, want %d", tt.heights, got, tt.want)
		}
	}
}
