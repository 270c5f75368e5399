package demo

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
	jicofo "github.com/cityjitsi/videobridge/integration/focus"
)

// conferenceModifier is the colibri2 entry point of bridge/control (Videobridge.ConferenceModify):
// the same call the XMPP handler makes for Jicofo's requests.
type conferenceModifier interface {
	ConferenceModify(req *colibri2.ConferenceModify, reply func(*colibri2.ConferenceModified, error))
}

// outbox queues messages to one page without blocking (session.send).
type outbox interface {
	send(m serverMessage)
}

// errBridgeTimeout: the bridge did not answer a request in time (Jicofo waits 15 s).
var errBridgeTimeout = errors.New("demo: the bridge did not answer in time")

// roomDomain makes a room name a bare JID, which the bridge requires as the conference name.
const roomDomain = "@conference.localhost"

// focus is the embedded Jicofo: rooms, their participants, and the colibri2 requests Jicofo
// would send for them.
type focus struct {
	cm   conferenceModifier
	opts Options
	log  *zap.Logger

	mu    sync.Mutex // guards rooms and room.refs; taken after a room's mu, never before
	rooms map[string]*room
}

// room is one meeting. Every change to it, including the bridge requests a change makes, runs
// under its mu, so requests reach the bridge in the order Jicofo's per-conference queue would
// send them and pages see membership changes in one order.
type room struct {
	name string
	refs int // guarded by focus.mu: members plus joins in progress; the room lives while > 0

	mu        sync.Mutex
	meetingID string // "" while the bridge has no conference for the room
	members   []*member
}

// member is a participant of a room.
type member struct {
	id, name, statsID string
	out               outbox
	sources           *colibri2.Sources // nil until the page accepted
}

func newFocus(cm conferenceModifier, opts Options) *focus {
	return &focus{cm: cm, opts: opts, log: opts.Log, rooms: map[string]*room{}}
}

// modify sends one request through the bridge's colibri2 path and waits for its answer.
func (f *focus) modify(req *colibri2.ConferenceModify) (*colibri2.ConferenceModified, error) {
	type result struct {
		resp *colibri2.ConferenceModified
		err  error
	}
	ch := make(chan result, 1) // the reply may come before ConferenceModify returns
	f.cm.ConferenceModify(req, func(resp *colibri2.ConferenceModified, err error) { ch <- result{resp, err} })
	t := time.NewTimer(f.opts.RequestTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-t.C:
		return nil, errBridgeTimeout
	}
}

// acquire returns the room with that name, creating it, and counts a reference to it.
func (f *focus) acquire(name string) (*room, *pageError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[name]
	if r == nil {
		if len(f.rooms) >= f.opts.MaxRooms {
			return nil, errPage(codeTooManyRooms, "this bridge already hosts %d demo rooms", f.opts.MaxRooms)
		}
		r = &room{name: name}
		f.rooms[name] = r
	}
	r.refs++
	return r, nil
}

// release drops a reference taken by acquire; the last one removes the room.
func (f *focus) release(r *room) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.refs--
	if r.refs == 0 && f.rooms[r.name] == r {
		delete(f.rooms, r.name)
	}
}

// join allocates an endpoint for a new participant (signaling.md §4.2) and sends it the bridge's
// offer pieces and the room; the others learn a participant joined.
func (f *focus) join(out outbox, roomName, displayName string) (*room, *member, *pageError) {
	name, perr := validRoom(roomName)
	if perr != nil {
		return nil, nil, perr
	}
	display, perr := validDisplayName(displayName)
	if perr != nil {
		return nil, nil, perr
	}
	r, perr := f.acquire(name)
	if perr != nil {
		return nil, nil, perr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m, joined, perr := f.allocate(r, out, display)
	if perr != nil {
		f.release(r)
		return nil, nil, perr
	}
	for _, o := range r.members {
		o.out.send(serverMessage{Type: msgParticipantJoined, Participant: &wireParticipant{ID: m.id, Name: m.name}})
	}
	r.members = append(r.members, m)
	out.send(joined)
	f.log.Info("participant joined", zap.String("room", r.name), zap.String("endpoint", m.id),
		zap.Int("participants", len(r.members)))
	return r, m, nil
}

// allocate sends the endpoint create, recreating the conference once if the bridge ended it
// behind the focus's back (its endpoints expired). r.mu must be held.
func (f *focus) allocate(r *room, out outbox, display string) (*member, serverMessage, *pageError) {
	if len(r.members) >= f.opts.MaxParticipants {
		return nil, serverMessage{}, errPage(codeRoomFull, "room %s is full (%d participants)", r.name, f.opts.MaxParticipants)
	}
	m := &member{id: r.newEndpointID(), name: display, out: out}
	m.statsID = "demo-" + m.id
	for attempt := 0; ; attempt++ {
		create := r.meetingID == ""
		if create {
			r.meetingID = newMeetingID()
		}
		req := jicofo.AllocateRequest(r.meetingID, r.name+roomDomain, create, m.id, m.statsID, f.opts.SCTP)
		// Classic SSRC mode (media.md §2.3): the page signals remote sources itself, as
		// lib-jitsi-meet does without the ssrc-rewriting capability.
		req.Endpoints[0].Capabilities = []string{colibri2.CapSourceNames}
		resp, err := f.modify(req)
		if err == nil {
			return f.joinedMessage(r, m, req, resp)
		}
		var cerr *colibri2.Error
		if !create && attempt == 0 && errors.As(err, &cerr) && cerr.Reason == colibri2.ReasonConferenceNotFound {
			f.endConference(r, "the bridge ended the conference; join again")
			continue
		}
		if errors.Is(err, errBridgeTimeout) {
			// The request may still be processed: undo it behind itself, in order.
			f.cm.ConferenceModify(f.undoAllocation(r, m, create), func(*colibri2.ConferenceModified, error) {})
		}
		if create {
			r.meetingID = ""
		}
		f.log.Warn("allocation failed", zap.String("room", r.name), zap.Error(err))
		return nil, serverMessage{}, bridgeError("allocating a connection", err)
	}
}

func (f *focus) undoAllocation(r *room, m *member, create bool) *colibri2.ConferenceModify {
	if create {
		return jicofo.ExpireConferenceRequest(r.meetingID)
	}
	return jicofo.ExpireEndpointRequest(r.meetingID, m.id)
}

// joinedMessage builds what Jicofo's session-initiate carries: the bridge's transport, the
// media it allocated, and the other participants' sources. r.mu must be held.
func (f *focus) joinedMessage(r *room, m *member, req *colibri2.ConferenceModify,
	resp *colibri2.ConferenceModified) (*member, serverMessage, *pageError) {
	var ep *colibri2.Endpoint
	if resp != nil {
		if i := slices.IndexFunc(resp.Endpoints, func(e colibri2.Endpoint) bool { return e.ID == m.id }); i >= 0 {
			ep = &resp.Endpoints[i]
		}
	}
	var t *wireTransport
	var port int
	err := errNoTransport
	if ep != nil {
		t, port, err = bridgeOffer(ep.Transport)
	}
	if err != nil {
		if len(r.members) == 0 {
			f.expireConference(r)
		} else {
			f.expireEndpoint(r, m.id)
		}
		return nil, serverMessage{}, bridgeError("allocating a connection", err)
	}
	msg := serverMessage{Type: msgJoined, Room: r.name, EndpointID: m.id, Transport: t, SCTPPort: port,
		Media: offerMedia(req.Endpoints[0].Media), Participants: []wireParticipant{}}
	for _, o := range r.members {
		msg.Participants = append(msg.Participants, wireParticipant{ID: o.id, Name: o.name, Sources: receiverSources(o.sources)})
	}
	return m, msg, nil
}

// accept forwards the page's answered transport and sources to the bridge (signaling.md §4.3)
// and tells the others about the new sources (Jingle source-add).
func (f *focus) accept(r *room, m *member, msg clientMessage) *pageError {
	ice, perr := answeredTransport(msg.Transport)
	if perr != nil {
		return perr
	}
	srcs, perr := answeredSources(m.id, msg.Sources)
	if perr != nil {
		return perr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.members, m) {
		return errPage(codeNotJoined, "not in a room (the conference ended)")
	}
	if m.sources != nil {
		return errPage(codeAlreadyAccepted, "the answer was already accepted")
	}
	if perr := r.checkSSRCsFree(m, srcs); perr != nil {
		return perr
	}
	req := jicofo.AcceptRequest(r.meetingID, m.id, m.statsID, ice.Ufrag, ice.Pwd, "", srcs)
	// The whole answered transport: every fingerprint with its own setup, and the candidates.
	req.Endpoints[0].Transport.ICE = ice
	if _, err := f.modify(req); err != nil {
		f.log.Warn("accept failed", zap.String("room", r.name), zap.String("endpoint", m.id), zap.Error(err))
		return bridgeError("accepting the answer", err)
	}
	m.sources = srcs
	add := serverMessage{Type: msgSources, Participant: &wireParticipant{ID: m.id, Name: m.name, Sources: receiverSources(srcs)}}
	for _, o := range r.members {
		if o != m {
			o.out.send(add)
		}
	}
	return nil
}

// checkSSRCsFree rejects sources that reuse another participant's SSRC: the bridge demultiplexes
// by SSRC, so a clash would send one participant's media to the other's receivers.
func (r *room) checkSSRCsFree(m *member, s *colibri2.Sources) *pageError {
	for _, o := range r.members {
		if o == m || o.sources == nil {
			continue
		}
		for _, oms := range o.sources.MediaSources {
			for _, os := range oms.Sources {
				for _, ms := range s.MediaSources {
					if slices.ContainsFunc(ms.Sources, func(x colibri2.Source) bool { return x.SSRC == os.SSRC }) {
						return errPage(codeInvalidSources, "SSRC %d is already used in this room", os.SSRC)
					}
				}
			}
		}
	}
	return nil
}

// leave removes a participant: the bridge expires its endpoint, or the whole conference when it
// was the last one (signaling.md §4.6), and the others drop its sources. It does nothing for a
// member already gone.
func (f *focus) leave(r *room, m *member, reason string) {
	r.mu.Lock()
	i := slices.Index(r.members, m)
	if i < 0 {
		r.mu.Unlock()
		return
	}
	r.members = slices.Delete(r.members, i, i+1)
	if len(r.members) == 0 {
		f.expireConference(r)
	} else {
		f.expireEndpoint(r, m.id)
	}
	for _, o := range r.members {
		o.out.send(serverMessage{Type: msgParticipantLeft, ID: m.id})
	}
	f.log.Info("participant left", zap.String("room", r.name), zap.String("endpoint", m.id),
		zap.String("reason", reason), zap.Int("participants", len(r.members)))
	r.mu.Unlock()
	f.release(r)
}

// endConference drops every member after the bridge lost the conference; their pages get an
// error and may join again. r.mu must be held.
func (f *focus) endConference(r *room, why string) {
	gone := r.members
	r.members, r.meetingID = nil, ""
	for _, o := range gone {
		o.out.send(serverMessage{Type: msgError, Code: codeConferenceEnded, Message: why})
		f.release(r)
	}
	f.log.Warn("conference lost", zap.String("room", r.name), zap.Int("participants", len(gone)))
}

// isMember reports whether m is still in r (endConference may have dropped it).
func (r *room) isMember(m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.members, m)
}

// expireEndpoint and expireConference log failures only: the bridge ends what it cannot find
// anyway, and Jicofo ignores these answers too.
func (f *focus) expireEndpoint(r *room, id string) {
	if _, err := f.modify(jicofo.ExpireEndpointRequest(r.meetingID, id)); err != nil {
		f.log.Info("endpoint expire failed", zap.String("room", r.name), zap.String("endpoint", id), zap.Error(err))
	}
}

func (f *focus) expireConference(r *room) {
	if _, err := f.modify(jicofo.ExpireConferenceRequest(r.meetingID)); err != nil {
		f.log.Info("conference expire failed", zap.String("room", r.name), zap.Error(err))
	}
	r.meetingID = ""
}

// newEndpointID returns 8 hex characters unused in the room, like Jitsi Meet's MUC nicknames.
// r.mu must be held.
func (r *room) newEndpointID() string {
	for {
		var b [4]byte
		_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
		id := hex.EncodeToString(b[:])
		if !slices.ContainsFunc(r.members, func(m *member) bool { return m.id == id }) {
			return id
		}
	}
}

// newMeetingID returns a random (version 4) UUID, the form of Jicofo's meeting ids.
func newMeetingID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// bridgeError explains a failed bridge request to the page.
func bridgeError(doing string, err error) *pageError {
	var cerr *colibri2.Error
	switch {
	case errors.As(err, &cerr):
		return errPage(codeBridge, "the bridge refused %s: %s", doing, cerr.Text)
	case errors.Is(err, errBridgeTimeout):
		return errPage(codeBridge, "the bridge did not answer in time while %s", doing)
	}
	return errPage(codeBridge, "%s failed: %v", doing, err)
}
