package channel

import "slices"

// DefaultLastNLimit is the bridge-side cap on a receiver's last-N: JVB takes the minimum of
// the client's lastN, jvb-last-n (-1 by default), the conference-size table (empty by
// default) and ssrc-limit.video (50) (media.md §3.3 step 2).
const DefaultLastNLimit = 50

// LastNOrder flattens sources into JVB's last-N order (media.md §2.9 "bridge bookkeeping" and
// §3.3 step 1): endpoints with video available in speech-activity order (dominant first),
// then endpoints without video in the same order, each endpoint contributing its sources in
// their signaled order. An endpoint has video available when one of its sources has an
// enabled type. Owners missing from speech (not local endpoints) come last, in the order
// their first source appears.
func LastNOrder(speech []string, sources []Source) []Source {
	byOwner := make(map[string][]Source)
	var owners []string // first-appearance order
	for _, s := range sources {
		if _, ok := byOwner[s.Owner]; !ok {
			owners = append(owners, s.Owner)
		}
		byOwner[s.Owner] = append(byOwner[s.Owner], s)
	}
	hasVideo := func(owner string) bool {
		return slices.ContainsFunc(byOwner[owner], func(s Source) bool { return enabled(s.Type) })
	}
	out := make([]Source, 0, len(sources))
	done := make(map[string]bool, len(owners))
	take := func(owner string) {
		if !done[owner] {
			done[owner] = true
			out = append(out, byOwner[owner]...)
		}
	}
	for _, id := range speech {
		if hasVideo(id) {
			take(id)
		}
	}
	for _, id := range speech {
		take(id)
	}
	for _, id := range owners {
		take(id)
	}
	return out
}

// Prioritize returns the order in which a receiver's sources are considered (media.md §3.3
// step 1, pitfall 13): base (LastNOrder) without the receiver's own sources; the sources named
// in onStage and then selected moved to the top in that order, without duplicates; sources of
// a disabled or none type moved to the bottom. Names that are not in base are ignored.
func Prioritize(base []Source, receiver string, onStage, selected []string) []Source {
	index := make(map[string]int, len(base))
	for i, s := range base {
		if s.Owner != receiver {
			index[s.Name] = i
		}
	}
	out := make([]Source, 0, len(index))
	picked := make(map[string]bool, len(onStage)+len(selected))
	for _, lists := range [2][]string{onStage, selected} {
		for _, name := range lists {
			if i, ok := index[name]; ok && !picked[name] {
				picked[name] = true
				out = append(out, base[i])
			}
		}
	}
	for _, s := range base {
		if s.Owner != receiver && !picked[s.Name] {
			out = append(out, s)
		}
	}
	// Stable partition: enabled types keep their relative order ahead of disabled ones.
	enabledFirst := make([]Source, 0, len(out))
	var disabled []Source
	for _, s := range out {
		if enabled(s.Type) {
			enabledFirst = append(enabledFirst, s)
		} else {
			disabled = append(disabled, s)
		}
	}
	return append(enabledFirst, disabled...)
}

// Effective returns the effective maxHeight of every source in order (Prioritize's result)
// for a receiver with settings s (media.md §3.3 step 2): the source's constraint (its entry in
// s.Constraints, else s.Default) until s.LastN sources with a non-zero constraint have been
// counted, 0 after that; always 0 for a disabled or none type. A maxFrameRate of 0 disables
// the source as maxHeight 0 does. Negative heights mean unlimited and come out as -1. Pass
// s.LastN through CapLastN first to apply the bridge's limits.
func Effective(s Settings, order []Source) map[string]int {
	out := make(map[string]int, len(order))
	counted := 0
	for _, src := range order {
		h := 0
		if enabled(src.Type) && (s.LastN < 0 || counted < s.LastN) {
			h = s.constraint(src.Name)
			if h != 0 {
				counted++
			}
		}
		out[src.Name] = h
	}
	return out
}

// CapLastN combines a client's lastN with bridge-side limits: the minimum, where a negative
// value means unlimited; -1 when all are unlimited.
func CapLastN(lastN int, limits ...int) int {
	for _, l := range limits {
		if l >= 0 && (lastN < 0 || l < lastN) {
			lastN = l
		}
	}
	return max(lastN, -1)
}

// SenderMaxHeight aggregates the receivers' effective maxHeight for one source into what the
// owner is told in SenderSourceConstraints (media.md §3.6, pitfall 12): -1 (unlimited) if any
// receiver is unlimited, else the largest; 0 when no receiver wants the source, which turns
// the sender's video off.
func SenderMaxHeight(heights []int) int {
	agg := 0
	for _, h := range heights {
		if h < 0 {
			return -1
		}
		agg = max(agg, h)
	}
	return agg
}
