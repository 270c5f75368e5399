package channel

import (
	"slices"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// PreemptiveKeyframe is what a dominant speaker change does about the new speaker's video
// (JVB's Conference.maybeSendKeyframeRequest, media.md §2.6): receivers showing a camera on
// stage are about to switch to the new speaker, and a keyframe asked for at once shortens
// the switch.
type PreemptiveKeyframe uint8

// What a dominant speaker change does.
const (
	// KeyframeNotConsidered: two endpoints or fewer, where nobody switches stage.
	KeyframeNotConsidered PreemptiveKeyframe = iota
	// KeyframeSuppressed: no endpoint but the new speaker has a camera source on stage
	// (JVB's preemptive_kfr_suppressed).
	KeyframeSuppressed
	// KeyframeRequested: ask the new speaker for a keyframe (JVB's preemptive_kfr_sent).
	KeyframeRequested
)

// DecidePreemptiveKeyframe decides for a change to dominant in a conference of endpoints
// local endpoints (visitors included, as JVB counts them). onStage gives each endpoint's
// onStageSources; sources are the conference's video sources with their types. The stage
// that matters is every other endpoint's, whoever's camera is on it (JVB looks at the
// source's type only).
func DecidePreemptiveKeyframe(dominant string, endpoints int, onStage map[string][]string, sources []Source) PreemptiveKeyframe {
	if endpoints <= 2 {
		return KeyframeNotConsidered
	}
	for id, stage := range onStage {
		if id == dominant {
			continue
		}
		for _, name := range stage {
			i := slices.IndexFunc(sources, func(s Source) bool { return s.Name == name })
			if i >= 0 && isCamera(sources[i].Type) {
				return KeyframeRequested
			}
		}
	}
	return KeyframeSuppressed
}

// isCamera reports whether a source of type t is a camera ("" is, until typed).
func isCamera(t bridgechannel.VideoType) bool {
	return t == "" || t == bridgechannel.VideoTypeCamera
}

// dominantChanged tells the Conference that dominant now speaks, with the pre-emptive
// keyframe decision. The callers count as JVB does: every decision that names a speaker and
// is not silence (a return from silence counts again), and a removal that changes who
// dominates.
func (h *Hub) dominantChanged(dominant string) {
	if dominant == "" {
		return
	}
	onStage := make(map[string][]string, len(h.eps))
	for id, ep := range h.eps {
		onStage[id] = ep.settings.OnStage
	}
	h.conf.DominantSpeakerChanged(dominant, DecidePreemptiveKeyframe(dominant, len(h.eps), onStage, h.sources))
}
