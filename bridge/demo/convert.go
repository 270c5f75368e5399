package demo

import (
	"errors"
	"slices"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// errNoTransport: the bridge answered an endpoint create without an ICE-UDP transport.
var errNoTransport = errors.New("demo: the bridge's allocation has no ICE transport")

// bridgeOffer converts the transport of the bridge's endpoint-create answer into what the page
// builds its remote description from, as Jicofo copies it into every Jingle content
// (signaling.md §4.2): credentials, the fingerprint with setup actpass, the candidates and the
// colibri-ws URLs; and the SCTP port when the bridge offers a data channel (0 when not).
func bridgeOffer(t *colibri2.Transport) (*wireTransport, int, error) {
	if t == nil || t.ICE == nil {
		return nil, 0, errNoTransport
	}
	ice := t.ICE
	out := &wireTransport{Ufrag: ice.Ufrag, Pwd: ice.Pwd}
	for _, f := range ice.Fingerprints {
		out.Fingerprints = append(out.Fingerprints, wireFingerprint{Hash: f.Hash, Setup: f.Setup, Value: f.Fingerprint})
	}
	for _, c := range ice.Candidates {
		out.Candidates = append(out.Candidates, wireCandidate{Foundation: c.Foundation, Component: c.Component,
			Protocol: c.Protocol, Priority: c.Priority, IP: c.IP, Port: c.Port, Type: c.Type,
			Generation: c.Generation, RelAddr: c.RelAddr, RelPort: c.RelPort})
	}
	for _, ws := range ice.WebSockets {
		out.WebSockets = append(out.WebSockets, ws.URL)
	}
	port := 0
	if t.SCTP != nil {
		// JVB answers <sctp port='5000' role='server'/>; Jicofo turns it into an sctpmap.
		port = t.SCTP.Port
	}
	return out, port, nil
}

// offerMedia converts the <media/> of the allocation request into the page's codec and header
// extension lists (Jicofo's session-initiate offers the client exactly what it allocated).
func offerMedia(ms []colibri2.Media) []wireMedia {
	out := make([]wireMedia, 0, len(ms))
	for _, m := range ms {
		wm := wireMedia{Type: m.Type, ExtmapAllowMixed: m.ExtmapAllowMixed}
		for _, pt := range m.PayloadTypes {
			wp := wirePayloadType{ID: pt.ID, Name: pt.Name, ClockRate: pt.ClockRate, Channels: pt.Channels}
			for _, p := range pt.Parameters {
				wp.Parameters = append(wp.Parameters, wireParameter{Name: p.Name, Value: p.Value})
			}
			for _, fb := range pt.RTCPFbs {
				wp.RTCPFbs = append(wp.RTCPFbs, wireRTCPFb{Type: fb.Type, Subtype: fb.Subtype})
			}
			wm.PayloadTypes = append(wm.PayloadTypes, wp)
		}
		for _, he := range m.HeaderExtensions {
			wm.HeaderExtensions = append(wm.HeaderExtensions, wireExtension{ID: he.ID, URI: he.URI})
		}
		out = append(out, wm)
	}
	return out
}

// receiverSources is what other participants are told about a participant's sources: classic
// mode (media.md §2.3) with Jicofo's strip-simulcast, i.e. each video source as its first SIM
// SSRC plus that SSRC's FID RTX, because the bridge projects every simulcast layer onto it.
func receiverSources(s *colibri2.Sources) []wireSource {
	if s == nil {
		return nil
	}
	out := make([]wireSource, 0, len(s.MediaSources))
	for i := range s.MediaSources {
		ms := &s.MediaSources[i]
		if len(ms.Sources) == 0 {
			continue
		}
		ws := wireSource{Type: ms.Type, Name: ms.ID}
		if ms.Type != "video" {
			for _, src := range ms.Sources {
				ws.SSRCs = append(ws.SSRCs, src.SSRC)
			}
			out = append(out, ws)
			continue
		}
		primary := primarySSRC(ms)
		ws.SSRCs = []uint32{primary}
		if rtx, ok := rtxOf(ms, primary); ok {
			ws.SSRCs = append(ws.SSRCs, rtx)
			ws.Groups = []wireGroup{{Semantics: "FID", SSRCs: []uint32{primary, rtx}}}
		}
		out = append(out, ws)
	}
	return out
}

// primarySSRC is the SSRC the bridge forwards a video source on (JVB MediaSourceFactory): the
// first of the SIM group, else the first FID primary, else the first SSRC.
func primarySSRC(ms *colibri2.MediaSource) uint32 {
	for _, g := range ms.SSRCGroups {
		if g.Semantics == "SIM" && len(g.SSRCs) > 0 {
			return g.SSRCs[0]
		}
	}
	for _, g := range ms.SSRCGroups {
		if g.Semantics == "FID" && len(g.SSRCs) == 2 {
			return g.SSRCs[0]
		}
	}
	return ms.Sources[0].SSRC
}

func rtxOf(ms *colibri2.MediaSource, primary uint32) (uint32, bool) {
	i := slices.IndexFunc(ms.SSRCGroups, func(g colibri2.SSRCGroup) bool {
		return g.Semantics == "FID" && len(g.SSRCs) == 2 && g.SSRCs[0] == primary
	})
	if i < 0 {
		return 0, false
	}
	return ms.SSRCGroups[i].SSRCs[1], true
}
