package colibri2

// ValidateShape applies JVB's request-shape rules (signaling.md §3.11) and returns nil or a
// feature-not-implemented error carrying the colibri2 reason feature_not_implemented:
//   - more than one <endpoint> only when none of them creates, or carries media, a transport
//     or sources (batch expire and batch force-mute);
//   - <endpoint> and <relay> not mixed in one request;
//   - at most one <relay>.
//
// Semantic checks (source-names capability, name as bare JID, transport on create, …) need
// bridge state or config and live in bridge/control.
func (r *ConferenceModify) ValidateShape() *Error {
	switch {
	case len(r.Endpoints) > 0 && len(r.Relays) > 0:
		return notImplemented("Mixing endpoints and relays in one request is not supported")
	case len(r.Relays) > 1:
		return notImplemented("Only one relay per request is supported")
	case len(r.Endpoints) > 1:
		for i := range r.Endpoints {
			if r.Endpoints[i].allocates() {
				return notImplemented("More than one endpoint per request is only supported for " +
					"expire and force-mute (endpoint " + r.Endpoints[i].ID + " has create, media, transport or sources)")
			}
		}
	}
	return nil
}

// IgnoresUnknownEndpoints reports whether unknown endpoints in r are answered with an empty
// <endpoint id/> echo instead of an unknown_endpoint error: true when no endpoint creates or
// carries media, a transport or sources, and every relay is being expired (expire-only and
// force-mute-only batches, §3.11). JVB uses the same rule to ignore unknown relays.
func (r *ConferenceModify) IgnoresUnknownEndpoints() bool {
	for i := range r.Endpoints {
		if r.Endpoints[i].allocates() {
			return false
		}
	}
	for i := range r.Relays {
		if !r.Relays[i].Expire {
			return false
		}
	}
	return true
}

// allocates reports whether ep needs the endpoint to exist (or be created) to make sense.
func (ep *Endpoint) allocates() bool {
	return ep.Create || len(ep.Media) > 0 || ep.Transport != nil || ep.Sources != nil
}

func notImplemented(text string) *Error {
	return &Error{
		Condition: CondFeatureNotImplemented,
		Reason:    ReasonFeatureNotImplemented,
		Text:      text,
	}
}
