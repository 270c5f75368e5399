package channel

import (
	"slices"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// This file holds the hub goroutine's conference-wide bookkeeping: endpoints joining and
// leaving, constraint recomputation, the resync sequence and the timer-driven events.

// addEndpoint runs before any other operation for c (AddEndpoint queues it first) and
// before its removeEndpoint, even when the endpoint is removed at once.
func (h *Hub) addEndpoint(c *Channel) {
	h.eps[c.id] = &epState{ch: c, settings: NewSettings(-1)}
	h.order = append(h.order, c.id)
	// A new endpoint has never spoken: JVB appends it to the speech-activity list.
	h.speech = append(h.speech, c.id)
	h.recomputeAfter(c.id, true)
}

// removeEndpoint forgets c; speakerChanged reports that removing it from the dominant speaker
// identification changed what DominantSpeakerEndpointChangeEvent announces, newDominant that
// it made dominant the new dominant speaker (JVB counts that as a change).
func (h *Hub) removeEndpoint(c *Channel, speakerChanged, newDominant bool, dominant string) {
	if ep := h.eps[c.id]; ep == nil || ep.ch != c {
		return
	}
	delete(h.eps, c.id)
	h.order = slices.DeleteFunc(h.order, func(id string) bool { return id == c.id })
	h.speech = slices.DeleteFunc(h.speech, func(id string) bool { return id == c.id })
	if speakerChanged {
		// The dominant speaker left or the recent-speakers list shrank (media.md §1.3).
		if d := h.speakers.Current(); d.Dominant != "" {
			h.broadcast(&bridgechannel.DominantSpeakerEndpointChangeEvent{
				DominantSpeakerEndpoint: d.Dominant, PreviousSpeakers: d.Previous, Silence: d.Silence})
		}
	}
	h.recomputeAfter(c.id, false)
	if newDominant {
		h.dominantChanged(dominant)
	}
}

// recompute derives every receiver's effective constraints from the current sources, speech
// order and settings, hands changed ones to the Conference, then updates the sender-side
// aggregates. JVB re-runs allocation on every such input change (media.md §3.2).
func (h *Hub) recompute() { h.recomputeWith(h.conf.VideoSources()) }

func (h *Hub) recomputeWith(sources []Source) {
	h.sources = sources
	base := LastNOrder(h.speech, h.sources)
	for _, id := range h.order {
		h.applyConstraints(id, base)
	}
	h.updateSenderConstraints()
}

// recomputeAfter is recompute after endpoint id joined (joined) or left. When id owns no
// video source and the sources are as they were, no other receiver's constraints can change
// (the last-N order ranks source owners only), so only a joiner's own are derived: a join
// storm no longer recomputes every receiver per join. The sender aggregates are updated
// either way (a leaver's constraints no longer count).
func (h *Hub) recomputeAfter(id string, joined bool) {
	sources := h.conf.VideoSources()
	if !slices.Equal(sources, h.sources) || slices.ContainsFunc(sources, func(s Source) bool { return s.Owner == id }) {
		h.recomputeWith(sources)
		return
	}
	if joined {
		h.applyConstraints(id, LastNOrder(h.speech, h.sources))
	}
	h.updateSenderConstraints()
}

// applyConstraints derives receiver id's effective constraints from the last-N order base
// and its settings, and hands them to the Conference when they changed.
func (h *Hub) applyConstraints(id string, base []Source) {
	ep := h.eps[id]
	s := ep.settings
	s.LastN = CapLastN(s.LastN, h.lastNLimit)
	order := Prioritize(base, id, s.OnStage, s.Selected)
	heights := Effective(s, order)
	c := Constraints{Sources: make([]SourceConstraint, len(order)), OnStage: slices.Clone(s.OnStage)}
	for i, src := range order {
		c.Sources[i] = SourceConstraint{Name: src.Name, MaxHeight: heights[src.Name]}
	}
	if ep.applied && c.Equal(ep.constraints) {
		return
	}
	ep.applied, ep.constraints, ep.heights = true, c, heights
	h.conf.ApplyConstraints(id, c)
}

// updateSenderConstraints aggregates, per source, the receivers' effective constraints and
// sends SenderSourceConstraints to the owner when the value changes or the source is new
// (media.md §3.6).
func (h *Hub) updateSenderConstraints() {
	seen := make(map[string]bool, len(h.sources))
	heights := make([]int, 0, len(h.order))
	for _, src := range h.sources {
		seen[src.Name] = true
		heights = heights[:0]
		for _, id := range h.order {
			if id != src.Owner {
				heights = append(heights, h.eps[id].heights[src.Name])
			}
		}
		v := SenderMaxHeight(heights)
		if old, ok := h.senderMax[src.Name]; ok && old == v {
			continue
		}
		h.senderMax[src.Name] = v
		if owner := h.eps[src.Owner]; owner != nil {
			owner.ch.send(&bridgechannel.SenderSourceConstraints{SourceName: src.Name, MaxHeight: v})
		}
	}
	for name := range h.senderMax {
		if !seen[name] {
			delete(h.senderMax, name)
		}
	}
}

func (h *Hub) setForwarded(receiver string, sources []string) {
	ep := h.eps[receiver]
	if ep == nil || (ep.fwdSent && sameSet(ep.forwarded, sources)) {
		return
	}
	ep.forwarded, ep.fwdSent = slices.Clone(sources), true
	ep.ch.send(&bridgechannel.ForwardedSources{ForwardedSources: ep.forwarded})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	as, bs := slices.Clone(a), slices.Clone(b)
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}

func (h *Hub) setActive(id string, active bool) {
	ep := h.eps[id]
	if ep == nil || ep.inactive == !active {
		return
	}
	ep.inactive = !active
	h.broadcast(&bridgechannel.EndpointConnectivityStatusChangeEvent{Endpoint: id, Active: active})
}

// resync brings a newly connected channel up to date, in JVB's order (media.md §1.2):
// SenderSourceConstraints for its own sources, ForwardedSources, the dominant speaker, then
// the endpoints currently inactive. The SSRC-rewriting maps (step 3) belong to the forwarding
// plane and are not sent here.
func (h *Hub) resync(c *Channel) {
	ep := h.eps[c.id]
	if ep == nil || ep.ch != c {
		return
	}
	for _, src := range h.sources {
		if v, ok := h.senderMax[src.Name]; ok && src.Owner == c.id {
			c.send(&bridgechannel.SenderSourceConstraints{SourceName: src.Name, MaxHeight: v})
		}
	}
	ep.forwarded, ep.fwdSent = slices.Clone(h.conf.ForwardedSources(c.id)), true
	c.send(&bridgechannel.ForwardedSources{ForwardedSources: ep.forwarded})
	if d := h.speakers.Current(); d.Dominant != "" {
		c.send(&bridgechannel.DominantSpeakerEndpointChangeEvent{
			DominantSpeakerEndpoint: d.Dominant, PreviousSpeakers: d.Previous, Silence: d.Silence})
	}
	for _, id := range h.order {
		if h.eps[id].inactive {
			c.send(&bridgechannel.EndpointConnectivityStatusChangeEvent{Endpoint: id, Active: false})
		}
	}
}

// decide runs one dominant speaker decision (every 300 ms). A new dominant speaker moves to the
// front of the speech-activity order, which reorders everyone's last-N, and is announced to
// every local endpoint.
func (h *Hub) decide() {
	d := h.speakers.Decide(h.now())
	if !d.Changed || d.Dominant == "" {
		return
	}
	if i := slices.Index(h.speech, d.Dominant); i > 0 {
		copy(h.speech[1:i+1], h.speech[:i])
		h.speech[0] = d.Dominant
		h.recompute()
	}
	h.broadcast(&bridgechannel.DominantSpeakerEndpointChangeEvent{
		DominantSpeakerEndpoint: d.Dominant, PreviousSpeakers: d.Previous, Silence: d.Silence})
	if !d.Silence {
		h.dominantChanged(d.Dominant)
	}
}

// connectionStats sends every connected endpoint its bandwidth estimate, once one exists.
func (h *Hub) connectionStats() {
	for _, id := range h.order {
		c := h.eps[id].ch
		if !c.Connected() {
			continue
		}
		if bwe := h.conf.BandwidthEstimate(id); bwe >= 0 {
			c.send(&bridgechannel.ConnectionStats{EstimatedDownlinkBandwidth: bwe})
		}
	}
}

// broadcast sends m to every local endpoint.
func (h *Hub) broadcast(m bridgechannel.Message) {
	b := bridgechannel.Marshal(m)
	for _, id := range h.order {
		h.eps[id].ch.enqueue(b)
	}
}
