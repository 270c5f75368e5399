package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Message types, page → focus.
const (
	msgJoin   = "join"   // enter a room: Room, Name
	msgAccept = "accept" // the page's answer: Transport, Sources (Jingle session-accept)
	msgLeave  = "leave"  // leave the room, keep the socket for another join
)

// Message types, focus → page.
const (
	msgJoined            = "joined"             // allocation done: the bridge's offer pieces and the room
	msgParticipantJoined = "participant-joined" // someone entered the room (no media yet)
	msgSources           = "sources"            // someone's sources are known (Jingle source-add)
	msgParticipantLeft   = "participant-left"   // someone left (Jingle source-remove)
	msgError             = "error"
)

// Error codes sent to the page; Message explains them to a person.
const (
	codeBadMessage       = "bad-message"
	codeInvalidRoom      = "invalid-room"
	codeInvalidName      = "invalid-name"
	codeInvalidTransport = "invalid-transport"
	codeInvalidSources   = "invalid-sources"
	codeRoomFull         = "room-full"
	codeTooManyRooms     = "too-many-rooms"
	codeNotJoined        = "not-joined"
	codeAlreadyJoined    = "already-joined"
	codeAlreadyAccepted  = "already-accepted"
	codeBridge           = "bridge-error"
	codeBusy             = "busy"
	codeConferenceEnded  = "conference-ended" // pushed: the page is no longer in a room
)

// maxMessageBytes bounds one signalling message: an accept with 16 candidates and 7 SSRCs is
// about 4 KiB, so 64 KiB leaves room without letting a page make the focus buffer much.
const maxMessageBytes = 64 << 10

// clientMessage is any page → focus message; Type selects the fields that matter.
type clientMessage struct {
	Type      string         `json:"type"`
	Room      string         `json:"room,omitempty"`
	Name      string         `json:"name,omitempty"`
	Transport *wireTransport `json:"transport,omitempty"`
	Sources   []wireSource   `json:"sources,omitempty"`
}

// wireTransport is an ICE-UDP transport with DTLS fingerprints, the pieces of an SDP that
// Jingle's <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/> carries. The focus sends the
// bridge's (with WebSockets, the colibri-ws URLs) and the page sends its answer's.
type wireTransport struct {
	Ufrag        string            `json:"ufrag"`
	Pwd          string            `json:"pwd"`
	Fingerprints []wireFingerprint `json:"fingerprints"`
	Candidates   []wireCandidate   `json:"candidates,omitempty"`
	WebSockets   []string          `json:"webSockets,omitempty"`
}

type wireFingerprint struct {
	Hash  string `json:"hash"`
	Setup string `json:"setup"`
	Value string `json:"value"`
}

// wireCandidate is an a=candidate line (RFC 8839 §5.1) in parts.
type wireCandidate struct {
	Foundation string `json:"foundation"`
	Component  int    `json:"component"`
	Protocol   string `json:"protocol"`
	Priority   uint32 `json:"priority"`
	IP         string `json:"ip"`
	Port       int    `json:"port"`
	Type       string `json:"type"`
	Generation int    `json:"generation"`
	RelAddr    string `json:"relAddr,omitempty"`
	RelPort    int    `json:"relPort,omitempty"`
}

// wireSource is one media source: its SSRCs (a=ssrc) and groups (a=ssrc-group). The page leaves
// Name empty (the focus names sources <endpoint>-a0 and -v0, as lib-jitsi-meet does); the focus
// fills it in what it sends.
type wireSource struct {
	Type   string      `json:"type"` // audio or video
	Name   string      `json:"name,omitempty"`
	SSRCs  []uint32    `json:"ssrcs"`
	Groups []wireGroup `json:"groups,omitempty"`
}

type wireGroup struct {
	Semantics string   `json:"semantics"` // SIM or FID
	SSRCs     []uint32 `json:"ssrcs"`
}

// wireMedia is one <media/> of the allocation: what the page must offer itself on the bridge's
// behalf (payload types and header extensions, with Jicofo's numbers).
type wireMedia struct {
	Type             string            `json:"type"`
	PayloadTypes     []wirePayloadType `json:"payloadTypes"`
	HeaderExtensions []wireExtension   `json:"headerExtensions"`
	ExtmapAllowMixed bool              `json:"extmapAllowMixed,omitempty"`
}

type wirePayloadType struct {
	ID         uint8           `json:"id"`
	Name       string          `json:"name"`
	ClockRate  uint32          `json:"clockRate"`
	Channels   int             `json:"channels,omitempty"`
	Parameters []wireParameter `json:"parameters,omitempty"`
	RTCPFbs    []wireRTCPFb    `json:"rtcpFbs,omitempty"`
}

type wireParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type wireRTCPFb struct {
	Type    string `json:"type"`
	Subtype string `json:"subtype,omitempty"`
}

type wireExtension struct {
	ID  int    `json:"id"`
	URI string `json:"uri"`
}

// wireParticipant is another member of the room; Sources is empty until it has accepted.
type wireParticipant struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Sources []wireSource `json:"sources,omitempty"`
}

// serverMessage is any focus → page message.
type serverMessage struct {
	Type string `json:"type"`

	// joined
	Room         string            `json:"room,omitempty"`
	EndpointID   string            `json:"endpointId,omitempty"`
	Transport    *wireTransport    `json:"transport,omitempty"`
	SCTPPort     int               `json:"sctpPort,omitempty"`
	Media        []wireMedia       `json:"media,omitempty"`
	Participants []wireParticipant `json:"participants,omitempty"`

	// participant-joined, sources
	Participant *wireParticipant `json:"participant,omitempty"`
	// participant-left
	ID string `json:"id,omitempty"`

	// error
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Request string `json:"request,omitempty"` // the type of the message that failed
}

// pageError is a failure reported to the page.
type pageError struct {
	Code    string
	Message string
}

func (e *pageError) Error() string { return e.Code + ": " + e.Message }

func errPage(code, format string, args ...any) *pageError {
	return &pageError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrMessage is wrapped by decodeClientMessage's errors.
var ErrMessage = errors.New("demo: malformed signalling message")

// decodeClientMessage parses one page message strictly: a JSON object with a known type and no
// unknown fields (a page of this binary never sends any, so one is a bug worth reporting).
func decodeClientMessage(b []byte) (clientMessage, error) {
	var m clientMessage
	if len(b) > maxMessageBytes {
		return m, fmt.Errorf("%w: %d bytes (limit %d)", ErrMessage, len(b), maxMessageBytes)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return clientMessage{}, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) > 0 {
		return clientMessage{}, fmt.Errorf("%w: data after the JSON object", ErrMessage)
	}
	switch m.Type {
	case msgJoin, msgAccept, msgLeave:
		return m, nil
	case "":
		return clientMessage{}, fmt.Errorf("%w: no type", ErrMessage)
	}
	return clientMessage{}, fmt.Errorf("%w: unknown type %q", ErrMessage, m.Type)
}
