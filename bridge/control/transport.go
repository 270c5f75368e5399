package control

import (
	"net/netip"
	"strings"

	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// TransportFactory creates each endpoint's media transport. The data plane implements it; until
// then CredentialTransports stands in. It is called from conference workers, concurrently for
// different conferences, and may be slow (it only delays its own conference).
type TransportFactory interface {
	NewEndpointTransport(confID, epID string, opts EndpointTransportOptions) (EndpointTransport, error)
}

// EndpointTransportOptions are fixed when the endpoint is created.
type EndpointTransportOptions struct {
	// ICEControlling is the bridge's ICE role from the create request's <transport
	// ice-controlling/>; Jicofo always sends true for endpoints. Later updates do not carry it,
	// so it is not part of RemoteTransport.
	ICEControlling bool
	// PrivateAddressConnectivity is the endpoint's private-address-connectivity capability:
	// private host candidates are advertised to it even when the bridge withholds them.
	PrivateAddressConnectivity bool
	// Visitor is colibri2's mucRole=visitor: a receive-only endpoint whose bridge-channel
	// messages to others are dropped.
	Visitor bool
	// SCTP is set when the create request asked for an SCTP data channel (<sctp/>).
	SCTP bool
}

// EndpointTransport is one endpoint's ICE/DTLS transport as the control plane sees it.
type EndpointTransport interface {
	// Local describes the bridge side; it is stable for the endpoint's life.
	Local() LocalTransport
	// SetRemote hands over the remote description known so far (see RemoteTransport).
	SetRemote(r RemoteTransport) error
	Close()
}

// LocalTransport is what an endpoint-create response advertises.
type LocalTransport struct {
	Ufrag, Pwd  string
	Fingerprint Fingerprint
	// Candidates must not be modified: they are usually shared by every endpoint.
	Candidates []ice.Candidate
}

// Fingerprint is a DTLS certificate fingerprint (RFC 8122): hash function name and
// uppercase colon-separated hex value.
type Fingerprint struct {
	Hash, Value string
}

// DTLSRole is the bridge's DTLS role, derived from the remote side's setup attribute
// (RFC 4145/5763): the remote 'active' makes the bridge the server.
type DTLSRole uint8

// DTLS roles.
const (
	DTLSRoleUnknown DTLSRole = iota // no usable setup attribute signaled yet
	DTLSRoleServer
	DTLSRoleClient
)

func (r DTLSRole) String() string {
	switch r {
	case DTLSRoleServer:
		return "server"
	case DTLSRoleClient:
		return "client"
	}
	return "unknown"
}

// maxRemoteCandidates bounds the remote candidates kept per endpoint; the bridge learns
// addresses peer-reflexively anyway, so dropping extras only loses redundancy.
const maxRemoteCandidates = 64

// RemoteTransport is the accumulated remote description of an endpoint. Each colibri2
// transport update is merged into the previous one: empty ufrag/pwd, an empty fingerprint list or
// a missing setup keep the earlier values (Jicofo's trickle updates carry only candidates, and
// pitfall 13: an empty list must not wipe stored fingerprints); a non-empty fingerprint list
// replaces the stored one; candidates accumulate without duplicates. Values are immutable
// once handed to SetRemote.
type RemoteTransport struct {
	Ufrag, Pwd string
	// Fingerprints maps the lower-case hash name to the signaled values, as JVB's
	// DtlsTransport groups them.
	Fingerprints map[string][]string
	Role         DTLSRole
	// Candidates holds only current-generation (0), UDP, component-1 candidates with an IP
	// literal address (videobridge.ice.resolve-remote-candidates = false).
	Candidates []ice.Candidate
}

// remoteNotes reports what mergeRemote ignored, for logging by the caller.
type remoteNotes struct {
	actpass           bool // the peer answered setup=actpass, which leaves the role open
	skippedCandidates int
}

// mergeRemote merges one signaled ICE-UDP transport into prev (JVB Endpoint.setTransportInfo).
func mergeRemote(prev RemoteTransport, t *colibri2.ICEUDPTransport) (RemoteTransport, remoteNotes) {
	r, notes := prev, remoteNotes{}
	if t.Ufrag != "" {
		r.Ufrag = t.Ufrag
	}
	if t.Pwd != "" {
		r.Pwd = t.Pwd
	}
	if len(t.Fingerprints) > 0 {
		// A <fingerprint/> without hash or value is ignored, and the stored set is replaced
		// only by at least one usable fingerprint: an update carrying only empty elements must
		// not wipe the ones signaled before (JVB Endpoint.setTransportInfo, pitfall 13).
		fps := make(map[string][]string, len(t.Fingerprints))
		for _, f := range t.Fingerprints {
			h, v := strings.ToLower(strings.TrimSpace(f.Hash)), strings.TrimSpace(f.Fingerprint)
			if h != "" && v != "" {
				fps[h] = append(fps[h], v)
			}
		}
		if len(fps) > 0 {
			r.Fingerprints = fps
		}
		for _, f := range t.Fingerprints {
			switch strings.ToLower(f.Setup) {
			case "active":
				r.Role = DTLSRoleServer
			case "passive":
				r.Role = DTLSRoleClient
			case "actpass":
				notes.actpass = true
			}
		}
	}
	for i := range t.Candidates {
		c, ok := remoteCandidate(&t.Candidates[i])
		if !ok || len(r.Candidates) >= maxRemoteCandidates {
			notes.skippedCandidates++
			continue
		}
		if hasCandidate(r.Candidates, c) {
			continue
		}
		if len(r.Candidates) == len(prev.Candidates) {
			// Copy on first change: prev's slice may be referenced by a published snapshot.
			r.Candidates = append(make([]ice.Candidate, 0, len(prev.Candidates)+len(t.Candidates)), prev.Candidates...)
		}
		r.Candidates = append(r.Candidates, c)
	}
	return r, notes
}

// currentGeneration is the ICE generation of the bridge's agent: without ICE restart support it
// never changes (JVB ignores candidates of other generations).
const currentGeneration = 0

func remoteCandidate(c *colibri2.Candidate) (ice.Candidate, bool) {
	if c.Generation != currentGeneration || c.Component != ice.ComponentRTP ||
		(c.Protocol != "" && !strings.EqualFold(c.Protocol, "udp")) || c.Port <= 0 || c.Port > 65535 {
		return ice.Candidate{}, false
	}
	addr, err := netip.ParseAddr(c.IP)
	if err != nil || addr.Zone() != "" {
		return ice.Candidate{}, false
	}
	out := ice.Candidate{
		Foundation: c.Foundation, Component: c.Component, Priority: c.Priority,
		Type: strings.ToLower(c.Type), Addr: addr.Unmap(), Port: c.Port, ID: c.ID,
	}
	if rel, err := netip.ParseAddr(c.RelAddr); err == nil {
		out.RelAddr, out.RelPort = rel.Unmap(), c.RelPort
	}
	return out, true
}

func hasCandidate(cs []ice.Candidate, c ice.Candidate) bool {
	for i := range cs {
		if cs[i].Addr == c.Addr && cs[i].Port == c.Port && cs[i].Type == c.Type {
			return true
		}
	}
	return false
}
