package control

import "github.com/cityjitsi/videobridge/colibri/colibri2"

// Error constructors with JVB's exact conditions, reasons and texts (signaling.md §3.13,
// JVB Colibri2Util.kt / Colibri2ConferenceHandler.kt). The reason decides how Jicofo reacts,
// so these must not drift.

func errConferenceNotFound(meetingID string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondItemNotFound, Reason: colibri2.ReasonConferenceNotFound,
		Text: "Conference not found for ID: " + meetingID}
}

func errConferenceAlreadyExists(meetingID string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondConflict, Reason: colibri2.ReasonConferenceAlreadyExists,
		Text: "Conference already exists for ID: " + meetingID}
}

func errGracefulShutdown() *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondServiceUnavailable, Reason: colibri2.ReasonGracefulShutdown,
		Text: "In graceful shutdown"}
}

func errUnknownEndpoint(id string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondItemNotFound, Reason: colibri2.ReasonUnknownEndpoint,
		Text: "Endpoint not found for ID: " + id, EndpointID: id}
}

func errBadRequest(text string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondBadRequest, Text: text}
}

// errConflict carries no colibri2 reason on purpose: Jicofo then treats it as a bridge failure.
func errConflict(text string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondConflict, Text: text}
}

// errNotConfigured is feature-not-implemented without a colibri2 reason (SCTP or relays
// disabled in configuration), unlike the request-shape errors of ValidateShape.
func errNotConfigured(text string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondFeatureNotImplemented, Text: text}
}

func errNotImplemented(text string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondFeatureNotImplemented,
		Reason: colibri2.ReasonFeatureNotImplemented, Text: text}
}

func errInternal(text string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondInternalServerError, Text: text}
}

func errUnavailable(text string) *colibri2.Error {
	return &colibri2.Error{Condition: colibri2.CondServiceUnavailable, Text: text}
}
