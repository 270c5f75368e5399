package channel

import (
	"maps"
	"slices"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// JVB's bitrate controller defaults (media.md §1.3 "Bridge handling", pitfall 2).
const (
	// InitialMaxHeight (initial-max-height-px) applies before the receiver's first
	// ReceiverVideoConstraints: nothing is forwarded.
	InitialMaxHeight = 0
	// DefaultMaxHeight (default-max-height-px) becomes the default constraint when the first
	// ReceiverVideoConstraints has no defaultConstraints.
	DefaultMaxHeight = 180
)

// Settings is one receiver's client-controlled allocation state, built up from
// ReceiverVideoConstraints and LastNChangedEvent (JVB AllocationSettings).
type Settings struct {
	LastN       int      // -1 unlimited
	OnStage     []string // onStageSources
	Selected    []string // selectedSources
	Default     bridgechannel.VideoConstraints
	Constraints map[string]bridgechannel.VideoConstraints

	received bool // a ReceiverVideoConstraints has been applied
	lastNSet bool // the client chose lastN: colibri2's initial-last-n no longer applies
}

// NewSettings returns a receiver's settings before any message: lastN as colibri2's
// initial-last-n gave it (-1 when absent), default constraint InitialMaxHeight.
func NewSettings(initialLastN int) Settings {
	return Settings{
		LastN:   max(initialLastN, -1),
		Default: bridgechannel.VideoConstraints{MaxHeight: InitialMaxHeight, MaxFrameRate: bridgechannel.NoFrameRateConstraint},
	}
}

// Apply merges a ReceiverVideoConstraints message and reports whether anything changed. An
// absent field leaves its setting unchanged; constraints, when present, replace the whole map
// (JVB AllocationSettingsWrapper). The first message without defaultConstraints sets the
// default to DefaultMaxHeight. assumedBandwidthBps is ignored, as JVB does unless
// cc.assumed-bandwidth-limit is configured.
func (s *Settings) Apply(m *bridgechannel.ReceiverVideoConstraints) bool {
	before := s.clone()
	if m.LastN != nil {
		s.LastN = max(*m.LastN, -1)
		s.lastNSet = true
	}
	if m.SelectedSources != nil {
		s.Selected = slices.Clone(*m.SelectedSources)
	}
	if m.OnStageSources != nil {
		s.OnStage = slices.Clone(*m.OnStageSources)
	}
	switch {
	case m.DefaultConstraints != nil:
		s.Default = *m.DefaultConstraints
	case !s.received:
		s.Default = bridgechannel.VideoConstraints{MaxHeight: DefaultMaxHeight, MaxFrameRate: bridgechannel.NoFrameRateConstraint}
	}
	if m.Constraints != nil {
		s.Constraints = maps.Clone(m.Constraints)
	}
	s.received = true
	return !s.equal(before)
}

// SetLastN applies a LastNChangedEvent and reports whether lastN changed.
func (s *Settings) SetLastN(n int) bool {
	s.lastNSet = true
	n = max(n, -1)
	if s.LastN == n {
		return false
	}
	s.LastN = n
	return true
}

// SetInitialLastN applies colibri2's initial-last-n unless the client has already chosen a
// lastN, and reports whether lastN changed.
func (s *Settings) SetInitialLastN(n int) bool {
	n = max(n, -1)
	if s.lastNSet || s.LastN == n {
		return false
	}
	s.LastN = n
	return true
}

// constraint is the maxHeight asked for source: its own constraint or the default; a
// maxFrameRate of 0 disables it like maxHeight 0; any negative height is unlimited (-1).
func (s Settings) constraint(source string) int {
	c, ok := s.Constraints[source]
	if !ok {
		c = s.Default
	}
	switch {
	case c.MaxFrameRate == 0:
		return 0
	case c.MaxHeight < 0:
		return -1
	}
	return c.MaxHeight
}

// wants reports whether source is on stage or selected.
func (s Settings) wants(source string) bool {
	return slices.Contains(s.OnStage, source) || slices.Contains(s.Selected, source)
}

func (s Settings) clone() Settings {
	c := s
	c.OnStage = slices.Clone(s.OnStage)
	c.Selected = slices.Clone(s.Selected)
	c.Constraints = maps.Clone(s.Constraints)
	return c
}

func (s Settings) equal(o Settings) bool {
	return s.LastN == o.LastN && slices.Equal(s.OnStage, o.OnStage) && slices.Equal(s.Selected, o.Selected) &&
		s.Default == o.Default && maps.Equal(s.Constraints, o.Constraints) && s.received == o.received &&
		(s.Constraints == nil) == (o.Constraints == nil)
}
