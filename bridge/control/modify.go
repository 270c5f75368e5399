package control

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// SCTP as JVB offers it on endpoints: one association on the default port, bridge as server.
const (
	sctpPort       = 5000
	sctpRoleServer = "server"
)

// Feedback source names, exactly as Jicofo expects them (pitfall 8).
const (
	feedbackAudioName = "jvb-a0"
	feedbackVideoName = "jvb-v0"
)

// modify applies one request on the worker (JVB Colibri2ConferenceHandler.handleConferenceModifyIQ):
// shape check, endpoints in order, connects (ignored), relays, feedback sources, then the
// conference expiry rules. An error leaves earlier endpoints of the same request applied, as in
// JVB; requests with more than one endpoint are expire/force-mute batches only.
func (c *conference) modify(req *colibri2.ConferenceModify) (*colibri2.ConferenceModified, *colibri2.Error) {
	if err := req.ValidateShape(); err != nil {
		return nil, err
	}
	ignoreUnknown := req.IgnoresUnknownEndpoints()
	resp := &colibri2.ConferenceModified{}
	for i := range req.Endpoints {
		r, err := c.endpoint(&req.Endpoints[i], ignoreUnknown)
		if err != nil {
			return nil, err
		}
		resp.Endpoints = append(resp.Endpoints, r)
	}
	if req.Connects != nil && len(req.Connects.Connects) > 0 {
		c.log.Debug("ignoring <connects>: media export is not supported", zap.Int("count", len(req.Connects.Connects)))
	}
	for i := range req.Relays {
		r, err := c.relay(&req.Relays[i])
		if err != nil {
			return nil, err
		}
		resp.Relays = append(resp.Relays, r)
	}
	// With every conference or endpoint create, so Jicofo never misses them whatever order it
	// handles responses in.
	if req.Create || slices.ContainsFunc(req.Endpoints, func(e colibri2.Endpoint) bool { return e.Create }) {
		resp.Sources = c.feedbackSources()
	}
	switch {
	case req.Expire:
		c.expire("expired by request")
	case !req.Create && len(c.endpoints) == 0:
		// No relays exist yet, so "no endpoints and no relays" is just no endpoints.
		c.expire("all endpoints and relays removed")
	}
	return resp, nil
}

func (c *conference) feedbackSources() *colibri2.Sources {
	src := func(typ, name string, ssrc uint32) colibri2.MediaSource {
		return colibri2.MediaSource{Type: typ, ID: name, Sources: []colibri2.Source{{SSRC: ssrc, Name: name}}}
	}
	return &colibri2.Sources{MediaSources: []colibri2.MediaSource{
		src("audio", feedbackAudioName, c.feedback.AudioSSRC),
		src("video", feedbackVideoName, c.feedback.VideoSSRC),
	}}
}

// endpoint handles one <endpoint/> (JVB handleColibri2Endpoint) and returns its response.
func (c *conference) endpoint(ce *colibri2.Endpoint, ignoreUnknown bool) (colibri2.Endpoint, *colibri2.Error) {
	resp := colibri2.Endpoint{ID: ce.ID}
	if ce.Expire {
		// Echoed even for an endpoint that is already gone.
		if ep := c.find(ce.ID); ep != nil {
			c.removeEndpoint(ep, "expired by request")
		}
		resp.Expire = true
		return resp, nil
	}
	ep := c.find(ce.ID)
	if ce.Create {
		var err *colibri2.Error
		if ep, err = c.createEndpoint(ce); err != nil {
			return resp, err
		}
	} else if ep == nil {
		if ignoreUnknown {
			return resp, nil
		}
		return resp, errUnknownEndpoint(ce.ID)
	}
	if err := c.updateEndpoint(ep, ce); err != nil {
		if ce.Create {
			c.removeEndpoint(ep, "create failed")
		}
		return resp, err
	}
	if ce.Transport != nil && ce.Transport.ICERestart {
		// Processed last, as JVB does. Without ICE restart support the answer is the endpoint
		// without a transport, never an error (pitfall 6): Jicofo then re-invites.
		c.log.Info("ICE restart requested but not supported; answering without a transport",
			zap.String("endpoint", ce.ID))
	}
	if ce.Create {
		resp.Transport = c.describeTransport(ep)
	}
	return resp, nil
}

// validateCreate applies JVB's endpoint-create checks, all before anything is created (JVB
// creates first and checks SCTP and visitor sources afterwards, leaving a half-made endpoint
// behind on error).
func (c *conference) validateCreate(ce *colibri2.Endpoint) *colibri2.Error {
	switch {
	case c.find(ce.ID) != nil:
		return errConflict("Endpoint with ID " + ce.ID + " already exists")
	case ce.Transport == nil:
		return errBadRequest("Attempt to create endpoint " + ce.ID + " with no <transport>")
	case !slices.Contains(ce.Capabilities, colibri2.CapSourceNames):
		return errBadRequest("Source name support is mandatory.")
	}
	if s := ce.Transport.SCTP; s != nil {
		switch {
		case !c.v.opts.SCTPEnabled:
			return errNotConfigured("SCTP support is not configured")
		case s.Role != "" && !strings.EqualFold(s.Role, sctpRoleServer):
			return errNotConfigured("Unsupported SCTP role: " + strings.ToUpper(s.Role))
		case s.Port != 0 && s.Port != sctpPort:
			return errBadRequest("Specific SCTP port requested, not supported.")
		}
	}
	if ce.MucRole == MucRoleVisitor && ce.Sources != nil && len(ce.Sources.MediaSources) > 0 {
		return errBadRequest("Attempt to set sources for visitor endpoint " + ce.ID)
	}
	return nil
}

func (c *conference) createEndpoint(ce *colibri2.Endpoint) (*Endpoint, *colibri2.Error) {
	if err := c.validateCreate(ce); err != nil {
		return nil, err
	}
	caps := parseCapabilities(ce.Capabilities)
	if c.v.opts.Transports == nil {
		return nil, errInternal("No transport factory configured")
	}
	tr, err := c.v.opts.Transports.NewEndpointTransport(c.id, ce.ID, EndpointTransportOptions{
		ICEControlling:             ce.Transport.ICEControlling,
		PrivateAddressConnectivity: caps.PrivateAddressConnectivity,
		Visitor:                    ce.MucRole == MucRoleVisitor,
		SCTP:                       ce.Transport.SCTP != nil,
	})
	if err != nil {
		return nil, errInternal("Failed to create transport for endpoint " + ce.ID + ": " + err.Error())
	}
	ep := &Endpoint{
		ID: ce.ID, StatsID: ce.StatsID, MucRole: ce.MucRole, Visitor: ce.MucRole == MucRoleVisitor,
		Diarize: ce.Diarize, Capabilities: caps, Created: c.v.opts.Clock(), SCTP: ce.Transport.SCTP != nil,
		Transport: tr, webSocketPassword: randomAlnum(webSocketPasswordLen),
	}
	c.addEndpoint(ep)
	c.log.Info("endpoint created", zap.String("endpoint", ep.ID), zap.String("stats_id", ep.StatsID),
		zap.Bool("visitor", ep.Visitor), zap.Bool("sctp", ep.SCTP))
	return ep, nil
}

// updateEndpoint applies media, initial-last-n, transport, sources and force-mute, in JVB's
// order. The visitor check runs first so a rejected update changes nothing.
func (c *conference) updateEndpoint(ep *Endpoint, ce *colibri2.Endpoint) *colibri2.Error {
	if ce.Sources != nil && ep.Visitor && len(ce.Sources.MediaSources) > 0 {
		return errBadRequest("Attempt to set sources for visitor endpoint " + ce.ID)
	}
	c.dirty = true
	if len(ce.Media) > 0 {
		ep.Media = ep.Media.with(ce.Media)
	}
	if ce.InitialLastN != nil {
		n := *ce.InitialLastN
		ep.InitialLastN = &n
	}
	if ce.Transport != nil && ce.Transport.ICE != nil {
		remote, notes := mergeRemote(ep.Remote, ce.Transport.ICE)
		if notes.actpass {
			c.log.Warn("remote DTLS setup is actpass; keeping the previous role",
				zap.String("endpoint", ep.ID), zap.Stringer("role", remote.Role))
		}
		if notes.skippedCandidates > 0 {
			c.log.Debug("ignored remote candidates", zap.String("endpoint", ep.ID),
				zap.Int("count", notes.skippedCandidates))
		}
		if err := ep.Transport.SetRemote(remote); err != nil {
			return errInternal("Failed to set transport info for endpoint " + ep.ID + ": " + err.Error())
		}
		ep.Remote = remote
	}
	if ce.Sources != nil {
		ep.Sources = parseSources(ce.Sources)
	}
	if ce.ForceMute != nil {
		ep.ForceMute = ForceMute{Audio: ce.ForceMute.Audio, Video: ce.ForceMute.Video}
	}
	return nil
}

// describeTransport builds the endpoint-create answer (pitfall 7): ICE-UDP transport with
// ufrag/pwd, the fingerprint with setup=actpass, candidates, rtcp-mux, colibri-ws URLs, and
// <sctp port=5000 role=server/> when SCTP was requested.
func (c *conference) describeTransport(ep *Endpoint) *colibri2.Transport {
	local := ep.Transport.Local()
	t := &colibri2.ICEUDPTransport{
		Ufrag:   local.Ufrag,
		Pwd:     local.Pwd,
		RTCPMux: true,
		Fingerprints: []colibri2.Fingerprint{{
			Hash: local.Fingerprint.Hash, Setup: "actpass", Fingerprint: local.Fingerprint.Value,
		}},
		Candidates: make([]colibri2.Candidate, 0, len(local.Candidates)),
		WebSockets: c.webSockets(ep),
	}
	for _, lc := range local.Candidates {
		cand := colibri2.Candidate{
			Component: lc.Component, Foundation: lc.Foundation, Generation: currentGeneration, ID: lc.ID,
			Network: 0, Priority: lc.Priority, Protocol: "udp", Type: lc.Type, IP: lc.Addr.String(), Port: lc.Port,
		}
		if lc.RelAddr.IsValid() {
			cand.RelAddr, cand.RelPort = lc.RelAddr.String(), lc.RelPort
		}
		t.Candidates = append(t.Candidates, cand)
	}
	out := &colibri2.Transport{ICE: t}
	if ep.SCTP {
		out.SCTP = &colibri2.SCTP{Port: sctpPort, Role: sctpRoleServer}
	}
	return out
}

// webSockets returns one colibri-ws URL per configured domain (JVB ColibriWebSocketService):
// <scheme>://<domain>/colibri-ws/<server-id>/<conf-id>/<ep-id>?pwd=<password>.
func (c *conference) webSockets(ep *Endpoint) []colibri2.WebSocket {
	ws := c.v.opts.WebSockets
	if !ws.Enabled || len(ws.Domains) == 0 {
		return nil
	}
	scheme := "ws"
	if ws.TLS {
		scheme = "wss"
	}
	out := make([]colibri2.WebSocket, 0, len(ws.Domains))
	for _, d := range ws.Domains {
		out = append(out, colibri2.WebSocket{URL: scheme + "://" + d + "/colibri-ws/" + url.PathEscape(ws.ServerID) +
			"/" + c.id + "/" + url.PathEscape(ep.ID) + "?pwd=" + ep.webSocketPassword})
	}
	return out
}

// relay handles one <relay/>. Relays (secure Octo) are not implemented yet: with relays disabled
// this is JVB's configuration error; with them enabled, expire-only requests are echoed (there
// is never a relay to expire) and anything else is refused with feature_not_implemented.
func (c *conference) relay(cr *colibri2.Relay) (colibri2.Relay, *colibri2.Error) {
	switch {
	case !c.v.opts.RelaysEnabled:
		return colibri2.Relay{}, errNotConfigured("Octo is disabled in configuration.")
	case cr.Expire:
		return colibri2.Relay{ID: cr.ID, Expire: true}, nil
	default:
		return colibri2.Relay{}, errNotImplemented("Relays are not supported by this bridge (relay " +
			strconv.Quote(cr.ID) + ")")
	}
}
