package main

import (
	"strconv"

	"github.com/cityjitsi/videobridge/bridge/api"
	"github.com/cityjitsi/videobridge/xmpp"
)

// bridgeView adapts the control plane and the XMPP clients to what the HTTP API and the
// presence publisher read.
type bridgeView struct{ b *bridge }

func (v bridgeView) Health() error          { return v.b.vb.Health() }
func (v bridgeView) Drain() bool            { return v.b.vb.Drain() }
func (v bridgeView) SetDrain(on bool)       { v.b.vb.SetDrain(on); v.b.republish() }
func (v bridgeView) StartGracefulShutdown() { v.b.vb.StartGracefulShutdown(); v.b.republish() }
func (v bridgeView) StartShutdown()         { v.b.vb.StartShutdown(); v.b.republish() }
func (v bridgeView) Stats() []api.Stat {
	cs := v.b.vb.Stats()
	out := make([]api.Stat, 0, len(cs)+5)
	for _, s := range cs {
		out = append(out, api.Stat{Name: s.Name, Value: s.Value})
	}
	x := xmppView(v)
	// JVB's shim adds the MUC client figures to the same flat map.
	return append(out,
		api.Stat{Name: "muc_clients_configured", Value: int64(x.ClientsConfigured())},
		api.Stat{Name: "muc_clients_connected", Value: int64(x.ClientsConnected())},
		api.Stat{Name: "mucs_configured", Value: int64(x.MUCsConfigured())},
		api.Stat{Name: "mucs_joined", Value: int64(x.MUCsJoined())},
	)
}

// republish pushes a new presence at once, so Jicofo learns about drain and shutdown without
// waiting for the next interval.
func (b *bridge) republish() {
	for _, c := range b.clients {
		c.SendPresenceNow()
	}
}

// xmppView aggregates the XMPP clients' status for metrics.
type xmppView struct{ b *bridge }

func (x xmppView) ClientsConfigured() int { return len(x.b.clients) }
func (x xmppView) ClientsConnected() int {
	n := 0
	for _, c := range x.b.clients {
		if c.Status().Connected {
			n++
		}
	}
	return n
}
func (x xmppView) MUCsConfigured() int {
	n := 0
	for _, c := range x.b.clients {
		n += c.Status().MUCs
	}
	return n
}
func (x xmppView) MUCsJoined() int {
	n := 0
	for _, c := range x.b.clients {
		n += c.Status().MUCsJoined
	}
	return n
}
func (x xmppView) Disconnects() uint64 {
	var n uint64
	for _, c := range x.b.clients {
		n += c.Status().Disconnects
	}
	return n
}

// presenceStats is the <stats/> of the brewery presence: the same values as /colibri/stats,
// as strings, filtered by videobridge.apis.xmpp-client.stats-filter when enabled.
func (b *bridge) presenceStats() []xmpp.Stat {
	stats := bridgeView{b}.Stats()
	filter := b.cfg.XMPP.StatsFilter
	allowed := map[string]bool{}
	for _, n := range filter.Whitelist {
		allowed[n] = true
	}
	out := make([]xmpp.Stat, 0, len(stats))
	for _, s := range stats {
		if filter.Enabled && !allowed[s.Name] {
			continue
		}
		out = append(out, xmpp.Stat{Name: s.Name, Value: statString(s.Value)})
	}
	return out
}

// statString formats a value as JVB's Java toString does: 0.0 for a whole double, true/false.
func statString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		for i := 0; i < len(s); i++ {
			if s[i] == '.' || s[i] == 'N' || s[i] == 'I' {
				return s
			}
		}
		return s + ".0"
	}
	return ""
}
