package ice

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	pionice "github.com/pion/ice/v4"
	"github.com/pion/logging"
)

// AgentConfig configures one endpoint's ICE agent.
type AgentConfig struct {
	// Local are the credentials the bridge advertised for the endpoint.
	Local Credentials
	// Mux carries the agent's traffic over the shared socket.
	Mux pionice.UDPMux
	// Controlling is the bridge's role; Jicofo makes the bridge controlling for endpoints.
	Controlling bool
	// KeepaliveInterval, DisconnectedTimeout and FailedTimeout override pion's defaults
	// (2 s, 5 s, 25 s) when non-zero.
	KeepaliveInterval, DisconnectedTimeout, FailedTimeout time.Duration
	// LoggerFactory receives pion's logs (nil: pion's default logger).
	LoggerFactory logging.LoggerFactory
}

// NewAgent creates a full ICE agent (RFC 8445) that gathers exactly one host candidate per
// address family from cfg.Mux and starts gathering at once. The bridge advertises its own
// candidates (HostCandidates, static mappings), so pion's local candidates are never signaled:
// they only anchor the candidate pairs. Remote candidates are optional: a browser's checks make
// peer-reflexive ones.
func NewAgent(cfg AgentConfig) (*pionice.Agent, error) {
	opts := []pionice.AgentOption{
		pionice.WithLocalCredentials(cfg.Local.Ufrag, cfg.Local.Pwd),
		pionice.WithUDPMux(cfg.Mux),
		pionice.WithCandidateTypes([]pionice.CandidateType{pionice.CandidateTypeHost}),
		pionice.WithNetworkTypes([]pionice.NetworkType{pionice.NetworkTypeUDP4, pionice.NetworkTypeUDP6}),
		pionice.WithMulticastDNSMode(pionice.MulticastDNSModeDisabled),
		// No interface enumeration per endpoint: the mux supplies the only local addresses.
		pionice.WithInterfaceFilter(func(string) bool { return false }),
		// JVB nominates the first valid host or reflexive pair (ice4j
		// NominateFirstHostOrReflexiveValid); pion would wait 0.5 s for srflx and 1 s for prflx
		// remotes, and a browser's pair is usually peer-reflexive to the bridge.
		pionice.WithHostAcceptanceMinWait(0),
		pionice.WithSrflxAcceptanceMinWait(0),
		pionice.WithPrflxAcceptanceMinWait(0),
	}
	if cfg.KeepaliveInterval > 0 {
		opts = append(opts, pionice.WithKeepaliveInterval(cfg.KeepaliveInterval))
	}
	if cfg.DisconnectedTimeout > 0 {
		opts = append(opts, pionice.WithDisconnectedTimeout(cfg.DisconnectedTimeout))
	}
	if cfg.FailedTimeout > 0 {
		opts = append(opts, pionice.WithFailedTimeout(cfg.FailedTimeout))
	}
	if cfg.LoggerFactory != nil {
		opts = append(opts, pionice.WithLoggerFactory(cfg.LoggerFactory))
	}
	a, err := pionice.NewAgentWithOptions(opts...)
	if err != nil {
		return nil, fmt.Errorf("ice: new agent: %w", err)
	}
	// pion refuses to gather without a candidate handler; ours are never signaled.
	if err := a.OnCandidate(func(pionice.Candidate) {}); err != nil {
		_ = a.Close()
		return nil, fmt.Errorf("ice: candidate handler: %w", err)
	}
	if err := a.GatherCandidates(); err != nil {
		_ = a.Close()
		return nil, fmt.Errorf("ice: gather: %w", err)
	}
	return a, nil
}

// ToPion converts a signaled remote candidate to pion's form through its SDP syntax
// (RFC 8839 §5.1), the one format both sides agree on.
func ToPion(c Candidate) (pionice.Candidate, error) {
	var b strings.Builder
	foundation := c.Foundation
	if foundation == "" {
		foundation = "0"
	}
	comp := c.Component
	if comp == 0 {
		comp = ComponentRTP
	}
	typ := c.Type
	if typ == "" {
		typ = TypeHost
	}
	fmt.Fprintf(&b, "candidate:%s %d udp %d %s %d typ %s", foundation, comp, c.Priority,
		c.Addr.Unmap().WithZone("").String(), c.Port, typ)
	if c.RelAddr.IsValid() {
		b.WriteString(" raddr " + c.RelAddr.Unmap().String() + " rport " + strconv.Itoa(c.RelPort))
	}
	pc, err := pionice.UnmarshalCandidate(b.String())
	if err != nil {
		return nil, fmt.Errorf("ice: remote candidate %s: %w", b.String(), err)
	}
	return pc, nil
}

// AddrPortOf returns a pion candidate's transport address, v4-mapped addresses unmapped.
func AddrPortOf(c pionice.Candidate) netip.AddrPort {
	a, err := netip.ParseAddr(c.Address())
	if err != nil || c.Port() < 0 || c.Port() > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap().WithZone(""), uint16(c.Port()))
}
