package channel

import (
	"reflect"
	"testing"

	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

func decodeRVC(t *testing.T, js string) *bc.ReceiverVideoConstraints {
	t.Helper()
	m, err := bc.Decode([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*bc.ReceiverVideoConstraints)
}

func TestSettingsApply(t *testing.T) {
	const rvc = `{"colibriClass":"ReceiverVideoConstraints"`
	tests := []struct {
		name        string
		initialLast int
		msgs        []string
		changed     []bool
		want        Settings
	}{
		{
			name: "lib-jitsi-meet's first message: default becomes 180",
			msgs: []string{rvc + `,"assumedBandwidthBps":-1,"lastN":-1}`}, changed: []bool{true},
			want: Settings{LastN: -1, Default: vc(180), received: true, lastNSet: true},
		},
		{
			name: "explicit defaultConstraints win over 180; later messages without it keep it",
			msgs: []string{
				rvc + `,"lastN":25,"defaultConstraints":{"maxHeight":0},"onStageSources":["A-v0"],"selectedSources":["B-v0"],"constraints":{"A-v0":{"maxHeight":720}}}`,
				rvc + `,"constraints":{"B-v0":{"maxHeight":180}}}`,
				rvc + `,"constraints":{"B-v0":{"maxHeight":180}}}`,
			},
			changed: []bool{true, true, false},
			want: Settings{LastN: 25, OnStage: []string{"A-v0"}, Selected: []string{"B-v0"}, Default: vc(0),
				Constraints: map[string]bc.VideoConstraints{"B-v0": vc(180)}, received: true, lastNSet: true},
		},
		{
			name:        "initial-last-n stays until the client sets lastN; empty lists clear",
			initialLast: 3,
			msgs: []string{
				rvc + `,"onStageSources":["A-v0"]}`,
				rvc + `,"onStageSources":[]}`,
			},
			changed: []bool{true, true},
			want:    Settings{LastN: 3, OnStage: []string{}, Default: vc(180), received: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSettings(-1)
			if tt.initialLast != 0 {
				s.SetInitialLastN(tt.initialLast)
			}
			for i, js := range tt.msgs {
				if got := s.Apply(decodeRVC(t, js)); got != tt.changed[i] {
					t.Errorf("message %d: changed = %v, want %v", i, got, tt.changed[i])
				}
			}
			if !reflect.DeepEqual(s, tt.want) {
				t.Fatalf("got %+v\nwant %+v", s, tt.want)
			}
		})
	}
}

func TestSettingsLastN(t *testing.T) {
	s := NewSettings(5)
	if s.LastN != 5 || s.Default != vc(InitialMaxHeight) {
		t.Fatalf("initial %+v", s)
	}
	if !s.SetInitialLastN(2) || s.LastN != 2 {
		t.Fatalf("initial-last-n before the client: %+v", s)
	}
	if !s.SetLastN(7) || s.SetLastN(7) {
		t.Fatal("SetLastN change reporting")
	}
	if s.SetInitialLastN(1) || s.LastN != 7 {
		t.Fatalf("initial-last-n applied after the client chose lastN: %+v", s)
	}
	if !s.SetLastN(-9) || s.LastN != -1 {
		t.Fatalf("negative lastN not normalised: %+v", s)
	}
}
