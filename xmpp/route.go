package xmpp

import (
	"encoding/xml"
	"errors"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// IQ is a request the bridge serves, as received.
type IQ struct {
	ID, From, To, Type string
	// Name and Namespace are those of the IQ's child element.
	Name, Namespace string
	// Payload is the child element's XML exactly as received (not re-serialized). Its root
	// declares its own default namespace when the sender wrote one, which Prosody and Smack do.
	Payload []byte
}

// Handler answers the IQs the bridge serves. HandleIQ is called from the client's read loop, in
// arrival order, and must not block. It answers by calling reply exactly once, possibly later
// from another goroutine. resultPayload is the child XML of the result IQ (nil for an empty
// result) and must be well-formed. A non-nil err produces an error IQ: a *colibri2.Error
// supplies the <error> type and content (condition, text, colibri2 extensions); any other error
// becomes internal-server-error with err.Error() as text, as JVB answers a handler exception.
// Replies after the connection they arrived on has dropped are discarded.
type Handler interface {
	HandleIQ(iq IQ, reply func(resultPayload []byte, err error))
}

// Stat is one <stat name value/> of the presence stats.
type Stat struct{ Name, Value string }

// iqAction is what the client does with an incoming IQ.
type iqAction int

const (
	iqIgnore     iqAction = iota // not a request and not a response
	iqResponse                   // result/error: resolve a pending request by id
	iqPing                       // XEP-0199 ping: answer result
	iqVersion                    // XEP-0092 version: answer ourselves
	iqDispatch                   // hand to the Handler
	iqForbidden                  // sender is not a brewery room
	iqBadRequest                 // request without a child element
)

// classifyIQ decides how to treat an IQ (signaling.md §1.4, pitfall 1): pings are answered
// whoever sends them; every other request must come from one of the brewery rooms (Jicofo
// addresses the bridge's occupant JID, so the MUC relays it with from=room/focus), else it is
// refused with forbidden as jicoco's MucClient does. rooms holds lowercased bare room JIDs.
func classifyIQ(typ, from string, child xml.Name, rooms map[string]bool) iqAction {
	switch typ {
	case "result", "error":
		return iqResponse
	case "get", "set":
	default:
		return iqIgnore
	}
	if typ == "get" && child.Space == nsPing && child.Local == "ping" {
		return iqPing
	}
	if !rooms[bareJID(from)] {
		return iqForbidden
	}
	switch {
	case child.Local == "":
		return iqBadRequest
	case typ == "get" && child.Space == nsVersion && child.Local == "query":
		return iqVersion
	}
	return iqDispatch
}

// errorReply renders a handler error as (error type, inner XML of <error>).
func errorReply(err error) (string, []byte) {
	var ce *colibri2.Error
	if errors.As(err, &ce) {
		return ce.ErrorType(), ce.AppendXML(nil)
	}
	return "cancel", appendCondition(nil, colibri2.CondInternalServerError, err.Error())
}
