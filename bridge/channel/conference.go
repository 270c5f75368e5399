package channel

import (
	"slices"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// Conference is what a Hub needs from the rest of the bridge for one conference: the source
// registry (control) and the forwarding plane (media). The integrator adapts both to it.
//
// The Hub calls these methods only from its own goroutine, one call at a time, so an
// implementation needs no extra locking against the Hub. They should return quickly. They may
// call any Hub or Channel method, synchronously or not: those only queue work. Slices passed
// in are owned by the callee after the call; slices returned are not modified by the Hub.
type Conference interface {
	// VideoSources returns the conference's video sources (local endpoints' sources as signaled
	// in colibri2), each with its owner and current video type; each owner's sources in their
	// signaled order. The Hub calls it whenever it recomputes constraints.
	VideoSources() []Source

	// SetVideoType records a SourceVideoTypeMessage: owner says its source now has type t. It is
	// the fast path of the colibri2 videoType attribute (media.md §1.3); the latest call or
	// colibri2 update wins. VideoSources should reflect it when SetVideoType returns; if it
	// cannot (the registry updates asynchronously), call Hub.SourcesChanged once it does.
	SetVideoType(owner, source string, t bridgechannel.VideoType)

	// ApplyConstraints hands a receiver's effective constraints (after last-N) to the
	// forwarding plane. Called when they change, and once when the endpoint is added (all
	// zero: before its first ReceiverVideoConstraints a receiver gets no video, pitfall 2).
	ApplyConstraints(receiver string, c Constraints)

	// ForwardedSources returns the video sources currently forwarded to receiver: what
	// ForwardedSources carries when its bridge channel (re)connects. Changes are pushed with
	// Hub.SetForwardedSources.
	ForwardedSources(receiver string) []string

	// SetAudioSubscription records a receiver's ReceiverAudioSubscription (media.md §1.3).
	SetAudioSubscription(receiver string, s bridgechannel.ReceiverAudioSubscription)

	// BandwidthEstimate returns the bridge's estimate toward receiver in bps, or -1 when there
	// is none yet. It feeds ConnectionStats every 10 s.
	BandwidthEstimate(receiver string) int64

	// DominantSpeakerChanged reports each change of the dominant speaker that is not to
	// silence (a return from silence counts again, as in JVB) and whether to ask the speaker
	// for a keyframe pre-emptively (media.md §2.6).
	DominantSpeakerChanged(endpoint string, kf PreemptiveKeyframe)
}

// Source is one video source.
type Source struct {
	Name  string                  // the source name, e.g. "a1b2c3d4-v0"
	Owner string                  // the endpoint that sends it
	Type  bridgechannel.VideoType // "" counts as camera
}

// enabled reports whether a source of type t can be forwarded at all: JVB never allocates to
// a source whose type is none or disabled and sorts it last (media.md §3.3).
func enabled(t bridgechannel.VideoType) bool {
	return t != bridgechannel.VideoTypeNone && t != bridgechannel.VideoTypeDisabled
}

// SourceConstraint is one source's effective constraint for a receiver.
type SourceConstraint struct {
	Name string
	// MaxHeight is the largest height (smaller video dimension) to forward: -1 unlimited,
	// 0 nothing (not wanted, beyond last-N, or of a disabled type).
	MaxHeight int
}

// Constraints is a receiver's allocation input (media.md §3.3 steps 1–2).
type Constraints struct {
	// Sources lists every video source the receiver may get, in JVB's priority order:
	// on-stage, selected, then speaker order, disabled types last. The allocator serves them
	// in this order.
	Sources []SourceConstraint
	// OnStage is the receiver's onStageSources: the allocator boosts these to the preferred
	// layer before any thumbnail gets bandwidth.
	OnStage []string
}

// Equal reports whether c and o are the same.
func (c Constraints) Equal(o Constraints) bool {
	return slices.Equal(c.Sources, o.Sources) && slices.Equal(c.OnStage, o.OnStage)
}

// MaxHeight returns the constraint for source, 0 when it is not listed.
func (c Constraints) MaxHeight(source string) int {
	for _, s := range c.Sources {
		if s.Name == source {
			return s.MaxHeight
		}
	}
	return 0
}
