package channel

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
	"go.uber.org/zap"
)

// handle acts on one decoded message from c, on the hub goroutine. raw is the message as
// received, kept for the messages relayed with only `from` rewritten.
func (h *Hub) handle(c *Channel, m bridgechannel.Message, raw []byte) {
	ep := h.eps[c.id]
	if ep == nil || ep.ch != c {
		return // removed while the message waited
	}
	switch m := m.(type) {
	case *bridgechannel.EndpointMessage:
		h.endpointMessage(ep, m, raw)
	case *bridgechannel.EndpointStats:
		h.endpointStats(ep, raw)
	case *bridgechannel.ReceiverVideoConstraints:
		if ep.settings.Apply(m) {
			h.recompute()
		}
	case *bridgechannel.LastNChangedEvent:
		if ep.settings.SetLastN(m.LastN) {
			h.recompute()
		}
	case *bridgechannel.SourceVideoTypeMessage:
		h.setVideoType(ep, m.SourceName, m.VideoType)
	case *bridgechannel.VideoTypeMessage:
		// Deprecated form: the endpoint's first video source (JVB maps it to <id>-v0).
		h.setVideoType(ep, c.id+"-v0", m.VideoType)
	case *bridgechannel.ReceiverAudioSubscription:
		c.setAudio(*m)
		h.conf.SetAudioSubscription(c.id, *m)
	default:
		// Unknown classes, bridge-to-client classes and the relay-only AddReceiver and
		// RemoveReceiver: nothing a client may ask for.
		c.stats.ignored.Add(1)
		c.log.Debug("bridge channel message ignored", zap.String("class", m.Class()))
	}
}

// endpointMessage relays an EndpointMessage (media.md §1.3): `from` overwritten with the
// sender's id, every other byte kept; "" broadcasts to every other local endpoint. Visitors'
// messages and unknown targets are dropped.
func (h *Hub) endpointMessage(ep *epState, m *bridgechannel.EndpointMessage, raw []byte) {
	c := ep.ch
	if c.visitor {
		c.stats.ignored.Add(1)
		return
	}
	out, err := bridgechannel.RewriteFrom(raw, c.id)
	if err != nil { // Decode accepted it, so this cannot happen; stay safe anyway
		c.stats.malformed.Add(1)
		return
	}
	if m.To == "" {
		for _, id := range h.order {
			if id != c.id {
				h.eps[id].ch.enqueue(out)
			}
		}
		return
	}
	to := h.eps[m.To]
	if to == nil {
		c.stats.ignored.Add(1)
		c.log.Debug("EndpointMessage for an unknown endpoint dropped", zap.String("to", m.To))
		return
	}
	to.ch.enqueue(out)
}

// endpointStats relays EndpointStats with `from` overwritten to every other local endpoint
// that wants stats from the sender (media.md §1.3).
func (h *Hub) endpointStats(ep *epState, raw []byte) {
	c := ep.ch
	if c.visitor {
		c.stats.ignored.Add(1)
		return
	}
	out, err := bridgechannel.RewriteFrom(raw, c.id)
	if err != nil {
		c.stats.malformed.Add(1)
		return
	}
	all := len(h.order) <= h.statsThreshold
	var recent []string
	if !all {
		d := h.speakers.Current()
		recent = append(d.Previous, d.Dominant)
	}
	for _, id := range h.order {
		if id == c.id {
			continue
		}
		if r := h.eps[id]; all || h.wantsStats(r, c.id, recent) {
			r.ch.enqueue(out)
		}
	}
}

// wantsStats is JVB's filter for conferences above stats-filter-threshold: the receiver gets a
// sender's stats if the sender is a recent speaker, or one of its sources is on stage or
// selected for the receiver or has a non-zero effective constraint for it.
func (h *Hub) wantsStats(r *epState, sender string, recent []string) bool {
	if slices.Contains(recent, sender) {
		return true
	}
	for _, s := range h.sources {
		if s.Owner == sender && (r.settings.wants(s.Name) || r.heights[s.Name] != 0) {
			return true
		}
	}
	return false
}

// setVideoType applies a SourceVideoTypeMessage for one of the sender's own sources.
func (h *Hub) setVideoType(ep *epState, source string, t bridgechannel.VideoType) {
	owns := func(srcs []Source) bool {
		return slices.ContainsFunc(srcs, func(s Source) bool { return s.Name == source && s.Owner == ep.ch.id })
	}
	// The registry may have changed since the last recompute: ask again before refusing. Only
	// a recompute sets h.sources: recomputeAfter relies on it being what the constraints were
	// last derived from.
	owned := owns(h.sources) || owns(h.conf.VideoSources())
	if !owned {
		ep.ch.stats.ignored.Add(1)
		ep.ch.log.Debug("video type for a source the endpoint does not own ignored", zap.String("source", source))
		return
	}
	h.conf.SetVideoType(ep.ch.id, source, t)
	h.recompute()
}

func (h *Hub) setInitialLastN(c *Channel, n int) {
	if ep := h.eps[c.id]; ep != nil && ep.ch == c && ep.settings.SetInitialLastN(n) {
		h.recompute()
	}
}

// ErrUnknownEndpoint is returned by Deliver for an endpoint without a channel.
var ErrUnknownEndpoint = errors.New("channel: unknown endpoint")

// Deliver handles msg as if endpoint id had sent it on its bridge channel, and returns once
// the Hub has acted on it (or the channel closed). It lets the bridge's private debug API
// (and tools without a client-side channel) set ReceiverVideoConstraints through the same
// path as clients. msg must not be modified afterwards. It is not counted in Stats.
func (h *Hub) Deliver(id string, msg []byte) error {
	c, ok := h.Channel(id)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownEndpoint, id)
	}
	m, err := bridgechannel.Decode(msg)
	if err != nil {
		return fmt.Errorf("channel: %w", err)
	}
	h.do(c, func() { h.handle(c, m, msg) })
	return nil
}
