package xmpp

import (
	"slices"
	"time"
)

// room is the join state of one brewery room within one connection.
type room struct {
	jid      string // bare room JID as configured
	occupant string // jid/nickname
	joined   bool
	// nextJoin is when to (re-)send the joining presence while not joined: after a failure
	// (backoff) or, while a join is outstanding, when it is given up as lost.
	nextJoin time.Time
	backoff  time.Duration
}

// presenceEvent is what a presence means for our own membership of a room.
type presenceEvent int

const (
	presenceOther      presenceEvent = iota // someone else's presence, or not from a brewery room
	presenceJoined                          // our self-presence: we are in the room
	presenceJoinFailed                      // error presence for our occupant JID (e.g. 409 conflict)
	presenceLeft                            // our unavailable self-presence: kicked, room destroyed
)

// MUC status codes (XEP-0045 §15.6).
const (
	statusSelfPresence = "110"
	statusRoomCreated  = "201"
)

// classifyPresence maps a presence to a room index and what it says about our membership.
// Self-presence is recognized by the occupant JID (status 110 is not required: the MUC
// addresses our own occupant JID back to us either way). created reports status 201, the room
// was just created by our join.
func classifyPresence(st *stanza, rooms []room, nickname string) (idx int, ev presenceEvent, created bool) {
	idx = slices.IndexFunc(rooms, func(r room) bool { return bareJID(r.jid) == bareJID(st.From) })
	if idx < 0 {
		return -1, presenceOther, false
	}
	self := resourcePart(st.From) == nickname || slices.Contains(st.StatusCodes, statusSelfPresence)
	switch {
	case st.Type == "error" && (self || resourcePart(st.From) == ""):
		return idx, presenceJoinFailed, false
	case !self:
		return idx, presenceOther, false
	case st.Type == "unavailable":
		return idx, presenceLeft, false
	case st.Type == "":
		return idx, presenceJoined, slices.Contains(st.StatusCodes, statusRoomCreated)
	}
	return idx, presenceOther, false
}

// dueJoins returns the indexes of rooms whose (re-)join is due at now.
func dueJoins(rooms []room, now time.Time) []int {
	var due []int
	for i, r := range rooms {
		if !r.joined && !now.Before(r.nextJoin) {
			due = append(due, i)
		}
	}
	return due
}

// nextJoinAt returns the earliest pending join time, or false if every room is joined.
func nextJoinAt(rooms []room) (time.Time, bool) {
	var at time.Time
	found := false
	for _, r := range rooms {
		if !r.joined && (!found || r.nextJoin.Before(at)) {
			at, found = r.nextJoin, true
		}
	}
	return at, found
}
