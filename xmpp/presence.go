package xmpp

import (
	"time"

	"go.uber.org/zap"
)

// joinAll sends the joining presence to every room, right after login.
func (s *session) joinAll() {
	stats := s.c.stats()
	s.mu.Lock()
	now := time.Now()
	var b []byte
	for i := range s.rooms {
		b = appendPresence(b, s.rooms[i].occupant, true, stats)
		s.rooms[i].nextJoin = now.Add(s.c.joinTimeout)
	}
	s.send(b)
	s.mu.Unlock()
	s.kickJoins()
}

// joinDue re-sends the joining presence to rooms whose retry time has come.
func (s *session) joinDue() {
	stats := s.c.stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	now := time.Now()
	var b []byte
	for _, i := range dueJoins(s.rooms, now) {
		s.log.Info("joining brewery room", zap.String("room", s.rooms[i].jid))
		b = appendPresence(b, s.rooms[i].occupant, true, stats)
		s.rooms[i].nextJoin = now.Add(s.c.joinTimeout)
	}
	if len(b) > 0 {
		s.send(b)
	}
}

// sendPresences publishes fresh stats in every joined room, without the MUC <x/> element.
func (s *session) sendPresences() {
	stats := s.c.stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	var b []byte
	for _, r := range s.rooms {
		if r.joined {
			b = appendPresence(b, r.occupant, false, stats)
		}
	}
	if len(b) > 0 {
		s.send(b)
	}
}

// leave sends unavailable presence to the joined rooms and closes our stream, then waits a
// little for the server to close its side so that it has processed what we sent.
func (s *session) leave() {
	s.mu.Lock()
	s.closing = true
	var b []byte
	for _, r := range s.rooms {
		if r.joined {
			b = appendUnavailable(b, r.occupant)
		}
	}
	s.send(append(b, streamClose...))
	s.mu.Unlock()
	t := time.NewTimer(s.c.closeWait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
	}
}

// handlePresence updates the join state of a room from a presence the MUC sent us.
func (s *session) handlePresence(st *stanza) {
	s.mu.Lock()
	idx, ev, created := classifyPresence(st, s.rooms, s.c.cfg.MUCNickname)
	if idx < 0 || ev == presenceOther {
		s.mu.Unlock()
		return
	}
	r := &s.rooms[idx]
	roomJID, closing := r.jid, s.closing
	switch ev {
	case presenceJoined:
		if !r.joined {
			s.log.Info("joined brewery room", zap.String("room", r.jid), zap.Bool("created", created))
		}
		r.joined, r.backoff = true, 0
	case presenceJoinFailed:
		r.joined = false
		r.backoff = nextBackoff(r.backoff, s.c.backoffMin, s.c.backoffMax)
		r.nextJoin = time.Now().Add(jittered(r.backoff))
		if st.ErrorCondition == "conflict" {
			s.log.Error("MUC nickname already in use in brewery room; MUC_NICKNAME must be unique per bridge",
				zap.String("room", r.jid), zap.String("nickname", s.c.cfg.MUCNickname), zap.Duration("retry_in", r.backoff))
		} else {
			s.log.Error("joining brewery room failed", zap.String("room", r.jid),
				zap.String("condition", st.ErrorCondition), zap.Duration("retry_in", r.backoff))
		}
	case presenceLeft:
		if !closing {
			r.joined = false
			r.backoff = nextBackoff(r.backoff, s.c.backoffMin, s.c.backoffMax)
			r.nextJoin = time.Now().Add(jittered(r.backoff))
			s.log.Warn("removed from brewery room; re-joining", zap.String("room", r.jid), zap.Strings("status", st.StatusCodes))
		}
	}
	s.mu.Unlock()
	if ev != presenceJoined {
		s.kickJoins()
	} else if created && !closing {
		s.configureRoom(roomJID)
	}
}

// configureRoom submits muc#roomconfig_whois=anyone for a room our join created (status 201).
// Best effort, as in jicoco: a refusal is only logged.
func (s *session) configureRoom(roomJID string) {
	id := s.c.newID("cfg")
	s.request(id, roomJID, appendRoomConfig(nil, id, roomJID), func(resp *stanza) {
		if resp.Type == "error" {
			s.log.Warn("configuring brewery room failed", zap.String("room", roomJID), zap.String("condition", resp.ErrorCondition))
			return
		}
		s.log.Info("brewery room configured", zap.String("room", roomJID))
	})
}

func (s *session) joinedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.rooms {
		if r.joined {
			n++
		}
	}
	return n
}

// kickJoins tells the timer loop that the join schedule changed.
func (s *session) kickJoins() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// timerLoop runs the periodic work of a session until it ends: stats presence every
// PresenceInterval, a XEP-0199 ping every ping interval (an unanswered one ends the session),
// and MUC (re-)joins when due.
func (s *session) timerLoop() {
	presence := time.NewTicker(s.c.cfg.PresenceInterval)
	defer presence.Stop()
	ping := time.NewTicker(s.c.pingInterval)
	defer ping.Stop()
	pingWait := time.NewTimer(time.Hour)
	pingWait.Stop()
	joins := time.NewTimer(time.Hour)
	joins.Stop()
	waiting := false
	for {
		select {
		case <-s.done:
			return
		case <-presence.C:
			s.sendPresences()
		case <-ping.C:
			if !waiting {
				waiting = true
				s.sendPing()
				pingWait.Reset(s.c.pingTimeout)
			}
		case <-s.pong:
			waiting = false
			pingWait.Stop()
		case <-pingWait.C:
			s.fail(ErrPingTimeout)
			return
		case <-joins.C:
			s.joinDue()
			s.resetJoinTimer(joins)
		case <-s.kick:
			s.resetJoinTimer(joins)
		}
	}
}

func (s *session) resetJoinTimer(t *time.Timer) {
	s.mu.Lock()
	at, ok := nextJoinAt(s.rooms)
	s.mu.Unlock()
	if !ok {
		t.Stop()
		return
	}
	t.Reset(max(0, time.Until(at)))
}

// sendPing pings our server. Any response, even an error, proves the connection is alive.
func (s *session) sendPing() {
	id := s.c.newID("ping")
	s.request(id, s.c.cfg.Domain, appendPing(nil, id, s.c.cfg.Domain), func(resp *stanza) {
		s.log.Debug("server answered ping", zap.String("type", resp.Type))
		select {
		case s.pong <- struct{}{}:
		default:
		}
	})
}
