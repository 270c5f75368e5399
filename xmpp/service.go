package xmpp

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// ConferenceService is what the bridge offers Jicofo over XMPP; bridge/control implements it.
type ConferenceService interface {
	// ConferenceModify must be called in arrival order and must not block; reply is called once.
	ConferenceModify(req *colibri2.ConferenceModify, reply func(*colibri2.ConferenceModified, error))
	// Health is nil when the bridge is healthy.
	Health() error
}

// ObserveFunc records one colibri2 request's outcome: "success" or the XMPP error condition.
type ObserveFunc func(result string, d time.Duration)

// BridgeHandler routes the IQs Jicofo sends a bridge (signaling.md §1.4, §2, §3) to a
// ConferenceService: health checks, and colibri2 conference-modify whether sent as get (what
// Jicofo does) or set.
type BridgeHandler struct {
	svc     ConferenceService
	observe ObserveFunc
	log     *zap.Logger
}

// NewBridgeHandler returns the Handler for the bridge's XMPP clients. observe may be nil.
func NewBridgeHandler(svc ConferenceService, observe ObserveFunc, log *zap.Logger) *BridgeHandler {
	if observe == nil {
		observe = func(string, time.Duration) {}
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &BridgeHandler{svc: svc, observe: observe, log: log.With(zap.String("component", "colibri2"))}
}

// HandleIQ implements Handler.
func (h *BridgeHandler) HandleIQ(iq IQ, reply func([]byte, error)) {
	switch {
	case iq.Namespace == colibri2.NSHealth && iq.Name == "healthcheck":
		reply(nil, healthError(h.svc.Health()))
	case iq.Namespace == colibri2.NS && iq.Name == "conference-modify":
		h.conferenceModify(iq, reply)
	case iq.Namespace == colibri2.NSColibri && (iq.Name == "graceful-shutdown" || iq.Name == "force-shutdown"):
		// JVB registers these legacy IQs but refuses them; shutdown goes through REST.
		reply(nil, &colibri2.Error{Condition: colibri2.CondServiceUnavailable,
			Text: "Unsupported IQ request " + iq.Name})
	default:
		reply(nil, &colibri2.Error{Condition: colibri2.CondFeatureNotImplemented,
			Text: "Unsupported IQ " + iq.Namespace + " " + iq.Name})
	}
}

// healthError maps a failed health check to internal-server-error, one of the two conditions
// on which Jicofo's JvbDoctor marks the bridge unhealthy (signaling.md §2).
func healthError(err error) error {
	if err == nil {
		return nil
	}
	return &colibri2.Error{Condition: colibri2.CondInternalServerError, Text: err.Error()}
}

func (h *BridgeHandler) conferenceModify(iq IQ, reply func([]byte, error)) {
	start := time.Now()
	req, err := colibri2.DecodeConferenceModify(iq.Payload)
	if err != nil {
		// JVB's parser drops such stanzas without an answer and Jicofo waits 15 s; answering
		// bad-request lets it fail the one invite at once (§3.2 allows it).
		h.log.Info("malformed colibri2 request", zap.String("id", iq.ID), zap.Error(err))
		h.observe(colibri2.CondBadRequest, time.Since(start))
		reply(nil, &colibri2.Error{Condition: colibri2.CondBadRequest, Text: err.Error()})
		return
	}
	h.svc.ConferenceModify(req, func(res *colibri2.ConferenceModified, err error) {
		if err != nil {
			h.observe(errorCondition(err), time.Since(start))
			reply(nil, err)
			return
		}
		h.observe("success", time.Since(start))
		reply(res.AppendXML(nil), nil)
	})
}

func errorCondition(err error) string {
	var ce *colibri2.Error
	if errors.As(err, &ce) && ce.Condition != "" {
		return ce.Condition
	}
	return colibri2.CondInternalServerError
}
