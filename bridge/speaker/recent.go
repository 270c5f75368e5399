package speaker

import "slices"

// RecentSpeakers is the bridge's list of recent dominant speakers, most recent first (JVB
// RecentSpeakersList). It holds count+1 ids so that, with the dominant speaker at the front,
// count previous speakers remain for DominantSpeakerEndpointChangeEvent.previousSpeakers.
// It is not safe for concurrent use; Identifier guards its own.
type RecentSpeakers struct {
	ids   []string
	count int
}

// NewRecentSpeakers returns a list reporting up to count previous speakers
// (videobridge.speech-activity.recent-speakers-count, 10 by default).
func NewRecentSpeakers(count int) *RecentSpeakers {
	count = max(count, 0)
	return &RecentSpeakers{ids: make([]string, 0, count+1), count: count}
}

// Promote moves id to the front, adding it if needed and dropping the oldest entry beyond
// capacity. It reports whether the list changed.
func (r *RecentSpeakers) Promote(id string) bool {
	i := slices.Index(r.ids, id)
	switch {
	case i == 0:
		return false
	case i > 0:
		copy(r.ids[1:i+1], r.ids[:i])
	case len(r.ids) < r.count+1:
		r.ids = append(r.ids, "")
		copy(r.ids[1:], r.ids)
	default:
		copy(r.ids[1:], r.ids[:len(r.ids)-1])
	}
	r.ids[0] = id
	return true
}

// Remove drops id and reports whether it was listed.
func (r *RecentSpeakers) Remove(id string) bool {
	i := slices.Index(r.ids, id)
	if i < 0 {
		return false
	}
	r.ids = slices.Delete(r.ids, i, i+1)
	return true
}

// Front is the most recent speaker, or "".
func (r *RecentSpeakers) Front() string {
	if len(r.ids) == 0 {
		return ""
	}
	return r.ids[0]
}

// List returns a copy of the whole list, most recent first.
func (r *RecentSpeakers) List() []string {
	return slices.Clone(r.ids)
}

// Previous returns up to count ids, most recent first, leaving out dominant: the
// previousSpeakers array. The result is a new slice, never nil.
func (r *RecentSpeakers) Previous(dominant string) []string {
	out := make([]string, 0, min(len(r.ids), r.count))
	for _, id := range r.ids {
		if id != dominant && len(out) < r.count {
			out = append(out, id)
		}
	}
	return out
}
