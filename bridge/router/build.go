package router

// Build computes the routing Snapshot of a conference. It is pure: the same Config gives an
// equal Snapshot, and cfg is not retained (names and slices are copied where kept).
func Build(cfg Config) *Snapshot {
	s := &Snapshot{
		Endpoints: make([]Endpoint, len(cfg.Endpoints)),
		routes:    make(map[uint32]Route),
	}
	for i := range cfg.Endpoints {
		s.Endpoints[i] = endpointOf(&cfg.Endpoints[i])
	}
	for i := range cfg.Endpoints {
		ec := &cfg.Endpoints[i]
		for _, a := range ec.Audio {
			s.addSource(i, KindAudio, a.Name, []Encoding{{SSRC: a.SSRC}})
		}
		for _, v := range ec.Video {
			s.addSource(i, KindVideo, v.Name, v.Encodings)
		}
	}
	return s
}

// endpointOf derives the routing view of an endpoint from its signaled media.
func endpointOf(ec *EndpointConfig) Endpoint {
	e := Endpoint{ID: ec.ID, Visitor: ec.Visitor, ForceMuteAudio: ec.ForceMuteAudio, ForceMuteVideo: ec.ForceMuteVideo}
	for _, pt := range ec.PayloadTypes {
		if pt.PT > 127 {
			continue
		}
		switch pt.Kind {
		case KindAudio:
			e.AcceptsAudio = true
		case KindVideo:
			e.AcceptsVideo = true
		}
		c := CodecOf(pt.Name)
		e.Codecs[pt.PT] = c
		if c == CodecRTX && pt.APT >= 0 && pt.APT <= 127 {
			e.RTX.Set(pt.PT, uint8(pt.APT))
			e.RTXFor[pt.APT] = pt.PT
		}
		if pt.Kind == KindVideo && pt.PLI {
			e.PLI = true
		}
	}
	for _, he := range ec.HeaderExtensions {
		switch he.URI {
		case URIAudioLevel:
			e.Ext.AudioLevel = he.ID
		case URITransportCC:
			e.Ext.TransportCC = he.ID
		case URIAbsSendTime:
			e.Ext.AbsSendTime = he.ID
		case URIMID:
			e.Ext.MID = he.ID
		case URIDependencyDescriptor:
			e.Ext.DependencyDescriptor = he.ID
		case URIVideoOrientation:
			e.Ext.VideoOrientation = he.ID
		}
	}
	return e
}

// addSource adds one source of endpoint owner with its routes and subscribers. A source whose
// SSRCs are all taken already (or zero) is left out.
func (s *Snapshot) addSource(owner int, kind Kind, name string, encs []Encoding) {
	idx := len(s.Sources)
	src := Source{Name: name, Owner: owner, Kind: kind}
	for _, enc := range encs {
		if enc.SSRC == 0 || len(src.SSRCs) > 127 {
			continue
		}
		if _, dup := s.routes[enc.SSRC]; dup {
			s.Conflicts++
			continue
		}
		e := int8(len(src.SSRCs))
		s.routes[enc.SSRC] = Route{Source: idx, Encoding: e}
		rtx := enc.RTX
		if rtx != 0 {
			if _, dup := s.routes[rtx]; dup {
				s.Conflicts++
				rtx = 0
			} else {
				s.routes[rtx] = Route{Source: idx, Encoding: e, RTX: true}
			}
		}
		src.SSRCs = append(src.SSRCs, enc.SSRC)
		src.RTX = append(src.RTX, rtx)
	}
	if len(src.SSRCs) == 0 {
		return
	}
	src.Subscribers = s.subscribers(owner, kind)
	s.Sources = append(s.Sources, src)
}

// subscribers lists the endpoints a source of owner is sent to: every other endpoint that
// negotiated the kind. A visitor's media goes nowhere (JVB forwards only its PLI/FIR).
func (s *Snapshot) subscribers(owner int, kind Kind) []int {
	if s.Endpoints[owner].Visitor {
		return nil
	}
	var out []int
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		if i == owner || (kind == KindAudio && !e.AcceptsAudio) || (kind == KindVideo && !e.AcceptsVideo) {
			continue
		}
		out = append(out, i)
	}
	return out
}
