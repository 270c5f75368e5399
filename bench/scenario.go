package bench

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// View is how receivers lay out video, which decides the ReceiverVideoConstraints they send.
type View string

// Views, as jitsi-meet builds its constraints (media.md §1.3, "observed messages").
const (
	// ViewTile asks every video at TileHeight (defaultConstraints).
	ViewTile View = "tile"
	// ViewStage puts the conference's first sender on stage at 720 and asks the others as
	// thumbnails at TileHeight.
	ViewStage View = "stage"
)

// Scenario is the shape of the load.
type Scenario struct {
	Name        string
	Conferences int
	Size        int // participants per conference
	Senders     int // the first Senders participants send audio and video; the rest receive only
	LastN       int // -1: unlimited
	View        View
	TileHeight  int // maxHeight of tiles (tile view) or thumbnails (stage view)
	// Grow is what the capacity finder adds per step: GrowConferences whole conferences, or
	// (when 0) GrowReceivers receive-only participants to the first conference.
	GrowConferences, GrowReceivers int
}

// StageHeight is the on-stage constraint (720p, the top simulcast layer).
const StageHeight = 720

// Scenarios are the named scenarios of the issue.
var Scenarios = map[string]Scenario{
	// A 10-person meeting, everyone on camera, tile view (tiles small enough for 180p).
	"meeting-10": {Name: "meeting-10", Conferences: 1, Size: 10, Senders: 10, LastN: -1, View: ViewTile,
		TileHeight: 180, GrowConferences: 1},
	// A town hall of 40 on camera with last-N 20, speaker on stage.
	"town-hall": {Name: "town-hall", Conferences: 1, Size: 40, Senders: 40, LastN: 20, View: ViewStage,
		TileHeight: 180, GrowConferences: 1},
	// 25 four-person meetings in tile view (2×2 tiles: 360p).
	"many-small": {Name: "many-small", Conferences: 25, Size: 4, Senders: 4, LastN: -1, View: ViewTile,
		TileHeight: 360, GrowConferences: 5},
	// One lecturer on stage, 100 receive-only listeners.
	"lecture": {Name: "lecture", Conferences: 1, Size: 101, Senders: 1, LastN: -1, View: ViewStage,
		TileHeight: 180, GrowReceivers: 10},
	// The smallest useful run: three participants, for smoke tests.
	"smoke": {Name: "smoke", Conferences: 1, Size: 3, Senders: 2, LastN: -1, View: ViewTile,
		TileHeight: 180, GrowConferences: 1},
}

// ScenarioNames lists the named scenarios, sorted.
func ScenarioNames() []string {
	var out []string
	for k := range Scenarios {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrScenario is a bad scenario.
var ErrScenario = errors.New("bench: invalid scenario")

// Validate checks the shape.
func (s Scenario) Validate() error {
	var bad []string
	if s.Conferences < 1 {
		bad = append(bad, "at least one conference")
	}
	if s.Size < 2 {
		bad = append(bad, "at least 2 participants per conference")
	}
	if s.Senders < 1 || s.Senders > s.Size {
		bad = append(bad, "between 1 and size senders")
	}
	if s.LastN < -1 {
		bad = append(bad, "last-N -1 or more")
	}
	if s.View != ViewTile && s.View != ViewStage {
		bad = append(bad, "view tile or stage")
	}
	switch s.TileHeight {
	case 0, 180, 360, 720:
	default:
		bad = append(bad, "tile height 180, 360 or 720")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w %q: want %s", ErrScenario, s.Name, strings.Join(bad, ", "))
	}
	return nil
}

// Participants is the total number of endpoints.
func (s Scenario) Participants() int { return s.Conferences * s.Size }

// Constraints is the ReceiverVideoConstraints a receiver sends. stageSource is the name of
// the conference's first sender's video source ("<endpoint>-v0").
func (s Scenario) Constraints(stageSource string) *bridgechannel.ReceiverVideoConstraints {
	lastN := s.LastN
	bw := int64(-1)
	m := &bridgechannel.ReceiverVideoConstraints{LastN: &lastN, AssumedBandwidthBps: &bw,
		DefaultConstraints: &bridgechannel.VideoConstraints{MaxHeight: s.TileHeight, MaxFrameRate: bridgechannel.NoFrameRateConstraint}}
	if s.View == ViewStage && stageSource != "" {
		on := []string{stageSource}
		m.OnStageSources = &on
		m.Constraints = map[string]bridgechannel.VideoConstraints{
			stageSource: {MaxHeight: StageHeight, MaxFrameRate: bridgechannel.NoFrameRateConstraint}}
	}
	return m
}

// AskedHeight is the height a receiver asks of a sender's video under Constraints.
func (s Scenario) AskedHeight(onStage bool) int {
	if s.View == ViewStage && onStage {
		return StageHeight
	}
	return s.TileHeight
}
