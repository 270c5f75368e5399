package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/cityjitsi/videobridge/bench/client"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
	"github.com/cityjitsi/videobridge/integration/focus"
)

// ConferenceRef names a conference on the bridge.
type ConferenceRef struct {
	MeetingID string // colibri2 meeting-id
	Name      string // the MUC room JID
}

// EndpointRef names an endpoint.
type EndpointRef struct {
	ID, StatsID string
}

// Allocation is the bridge's answer to an endpoint allocation.
type Allocation struct {
	Remote client.Remote
	// WebSocketURL is the colibri-ws bridge channel the bridge offers, if any.
	WebSocketURL string
	SCTP         bool
}

// LocalTransport is the endpoint side, for the transport update Jicofo sends after the
// client's session-accept.
type LocalTransport struct {
	Ufrag, Pwd  string
	Fingerprint string // sha-256, setup=active
	Candidates  []ice.Candidate
}

// Signaler is how the harness reaches the bridge's control plane: colibri2 through XMPP in
// both modes (focus emulator), or an in-process stand-in in tests.
type Signaler interface {
	Allocate(ctx context.Context, conf ConferenceRef, create bool, ep EndpointRef) (Allocation, error)
	// Accept sends the endpoint's transport and its sources (nil for a receive-only endpoint).
	Accept(ctx context.Context, conf ConferenceRef, ep EndpointRef, local LocalTransport, ssrcs *client.SSRCs) error
	ExpireConference(ctx context.Context, conf ConferenceRef) error
}

// ErrRefused wraps a colibri2 error answer: the bridge refused the request.
var ErrRefused = errors.New("bench: bridge refused")

// focusSignaler sends Jicofo's requests through the focus emulator.
type focusSignaler struct {
	f    *focus.Focus
	nick string
	// rewriting offers the ssrc-rewriting capability (the harness then learns stream origins
	// from samples: it has no bridge channel for the source maps).
	rewriting bool
}

func (s *focusSignaler) do(ctx context.Context, req *colibri2.ConferenceModify) (*colibri2.ConferenceModified, error) {
	res, err := s.f.Do(ctx, s.nick, req)
	var ce *colibri2.Error
	if errors.As(err, &ce) {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return res, err
}

func (s *focusSignaler) Allocate(ctx context.Context, conf ConferenceRef, create bool, ep EndpointRef) (Allocation, error) {
	req := focus.AllocateRequest(conf.MeetingID, conf.Name, create, ep.ID, ep.StatsID, true)
	if !s.rewriting {
		caps := req.Endpoints[0].Capabilities[:0]
		for _, c := range req.Endpoints[0].Capabilities {
			if c != colibri2.CapSSRCRewriting {
				caps = append(caps, c)
			}
		}
		req.Endpoints[0].Capabilities = caps
	}
	res, err := s.do(ctx, req)
	if err != nil {
		return Allocation{}, fmt.Errorf("allocate %s: %w", ep.ID, err)
	}
	return allocationOf(res, ep.ID)
}

// allocationOf reads the endpoint's ICE-UDP transport from an allocation answer.
func allocationOf(res *colibri2.ConferenceModified, id string) (Allocation, error) {
	var tr *colibri2.Transport
	for i := range res.Endpoints {
		if res.Endpoints[i].ID == id {
			tr = res.Endpoints[i].Transport
		}
	}
	if tr == nil || tr.ICE == nil {
		return Allocation{}, fmt.Errorf("allocate %s: answer without an ICE-UDP transport", id)
	}
	a := Allocation{Remote: client.Remote{Ufrag: tr.ICE.Ufrag, Pwd: tr.ICE.Pwd, Fingerprints: map[string][]string{}},
		SCTP: tr.SCTP != nil}
	for _, fp := range tr.ICE.Fingerprints {
		h := strings.ToLower(fp.Hash)
		a.Remote.Fingerprints[h] = append(a.Remote.Fingerprints[h], fp.Fingerprint)
	}
	for _, c := range tr.ICE.Candidates {
		addr, err := netip.ParseAddr(c.IP)
		if err != nil || (c.Protocol != "" && !strings.EqualFold(c.Protocol, "udp")) {
			continue
		}
		a.Remote.Candidates = append(a.Remote.Candidates, ice.Candidate{Foundation: c.Foundation,
			Component: c.Component, Priority: c.Priority, Type: strings.ToLower(c.Type), Addr: addr.Unmap(),
			Port: c.Port, ID: c.ID})
	}
	for _, ws := range tr.ICE.WebSockets {
		if ws.URL != "" {
			a.WebSocketURL = ws.URL
			break
		}
	}
	if a.Remote.Ufrag == "" || len(a.Remote.Fingerprints) == 0 {
		return a, fmt.Errorf("allocate %s: answer without ICE credentials or fingerprint", id)
	}
	return a, nil
}

func (s *focusSignaler) Accept(ctx context.Context, conf ConferenceRef, ep EndpointRef, local LocalTransport, ssrcs *client.SSRCs) error {
	src := &colibri2.Sources{}
	if ssrcs != nil {
		src = focus.SimulcastSources(ep.ID, ssrcs.Audio)
	}
	req := focus.AcceptRequest(conf.MeetingID, ep.ID, ep.StatsID, local.Ufrag, local.Pwd, local.Fingerprint, src)
	for _, c := range local.Candidates {
		req.Endpoints[0].Transport.ICE.Candidates = append(req.Endpoints[0].Transport.ICE.Candidates, colibri2.Candidate{
			Component: c.Component, Foundation: c.Foundation, ID: c.ID, Priority: c.Priority, Protocol: "udp",
			Type: c.Type, IP: c.Addr.String(), Port: c.Port})
	}
	if _, err := s.do(ctx, req); err != nil {
		return fmt.Errorf("transport update %s: %w", ep.ID, err)
	}
	return nil
}

func (s *focusSignaler) ExpireConference(ctx context.Context, conf ConferenceRef) error {
	_, err := s.do(ctx, focus.ExpireConferenceRequest(conf.MeetingID))
	return err
}
