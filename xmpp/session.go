package xmpp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
	"go.uber.org/zap"
)

// Session errors.
var (
	ErrPingTimeout  = errors.New("xmpp: server did not answer a ping")
	ErrStreamError  = errors.New("xmpp: stream error from server")
	errSessionEnded = errors.New("xmpp: connection closed by the client")
)

// session is one logged-in connection. Two goroutines serve it: the read loop (stanzas,
// IQ dispatch) and the timer loop (presence interval, pings, MUC re-joins). Every write goes
// through writer, one Write per call under a mutex.
type session struct {
	c     *Client
	login *login
	log   *zap.Logger
	w     writer
	rd    *stanzaReader

	mu      sync.Mutex // guards the fields below; held across presence writes to order them
	rooms   []room
	closing bool // leaving: no more presence
	pending map[string]pendingIQ

	pong chan struct{} // a ping was answered
	kick chan struct{} // the join schedule changed

	failOnce sync.Once
	done     chan struct{} // closed by fail
	err      error         // first failure; read after done
}

// pendingIQ is a request of ours awaiting its response.
type pendingIQ struct {
	to     string
	onResp func(*stanza)
}

func newSession(c *Client, l *login) (*session, error) {
	rd, err := newStanzaReader(l.conn, MaxStanzaSize)
	if err != nil {
		return nil, err
	}
	s := &session{
		c: c, login: l, rd: rd,
		log:     c.log.With(zap.String("jid", l.jid)),
		w:       writer{conn: l.conn, timeout: c.writeTimeout},
		pending: map[string]pendingIQ{},
		pong:    make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for _, r := range c.cfg.MUCJIDs {
		s.rooms = append(s.rooms, room{jid: r, occupant: r + "/" + c.cfg.MUCNickname})
	}
	return s, nil
}

// fail ends the session with err (the first one wins) and closes the connection, which
// unblocks the read loop.
func (s *session) fail(err error) {
	s.failOnce.Do(func() {
		s.err = err
		close(s.done)
		s.login.conn.Close()
	})
}

func (s *session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// send writes one or more stanzas; a failed write ends the session.
func (s *session) send(b []byte) {
	if err := s.w.write(b); err != nil {
		s.fail(fmt.Errorf("xmpp: write: %w", err))
	}
}

func (s *session) readLoop() error {
	for {
		st, err := s.rd.next()
		if err != nil {
			return fmt.Errorf("xmpp: read: %w", err)
		}
		switch {
		case st.is("iq"):
			s.handleIQ(st)
		case st.is("presence"):
			s.handlePresence(st)
		case st.Name.Space == nsStream && st.Name.Local == "error":
			return fmt.Errorf("%w: %s", ErrStreamError, st.ErrorCondition)
		}
	}
}

func (s *session) handleIQ(st *stanza) {
	switch classifyIQ(st.Type, st.From, st.Child, s.c.rooms) {
	case iqResponse:
		s.resolve(st)
	case iqPing:
		s.send(appendIQResult(nil, st, nil))
	case iqVersion:
		s.send(appendIQResult(nil, st, appendVersion(nil, s.c.version)))
	case iqForbidden:
		s.c.iqsRejected.Add(1)
		s.log.Info("refusing IQ from outside the brewery rooms", zap.String("from", st.From),
			zap.String("element", st.Child.Local), zap.String("namespace", st.Child.Space))
		s.send(appendIQError(nil, st, "auth", appendCondition(nil, colibri2.CondForbidden, "")))
	case iqBadRequest:
		s.send(appendIQError(nil, st, "modify", appendCondition(nil, colibri2.CondBadRequest, "IQ without a child element")))
	case iqDispatch:
		s.dispatch(st)
	}
}

// dispatch hands a request to the Handler with a reply function bound to this connection.
func (s *session) dispatch(st *stanza) {
	if s.c.h == nil {
		s.send(appendIQError(nil, st, "cancel", appendCondition(nil, colibri2.CondServiceUnavailable, "")))
		return
	}
	s.c.iqsReceived.Add(1)
	iq := IQ{ID: st.ID, From: st.From, To: st.To, Type: st.Type,
		Name: st.Child.Local, Namespace: st.Child.Space, Payload: st.ChildRaw}
	var replied atomic.Bool
	s.c.h.HandleIQ(iq, func(payload []byte, err error) {
		if !replied.CompareAndSwap(false, true) {
			s.log.Error("IQ answered twice; second reply dropped", zap.String("id", st.ID))
			return
		}
		var b []byte
		if err != nil {
			typ, inner := errorReply(err)
			b = appendIQError(nil, st, typ, inner)
		} else {
			b = appendIQResult(nil, st, payload)
		}
		if s.ended() {
			s.log.Debug("reply after the connection ended dropped", zap.String("id", st.ID))
			return
		}
		s.send(b)
	})
}

// request sends an IQ of ours and registers onResp for its result or error.
func (s *session) request(id, to string, b []byte, onResp func(*stanza)) {
	s.mu.Lock()
	s.pending[id] = pendingIQ{to: to, onResp: onResp}
	s.mu.Unlock()
	s.send(b)
}

// resolve routes a result/error to the request it answers. A response must come from the
// address the request went to (or carry no from, meaning our own server), so another user
// cannot answer our pings.
func (s *session) resolve(st *stanza) {
	s.mu.Lock()
	p, ok := s.pending[st.ID]
	if ok && (st.From == "" || strings.EqualFold(st.From, p.to)) {
		delete(s.pending, st.ID)
	} else {
		ok = false
	}
	s.mu.Unlock()
	if ok {
		p.onResp(st)
	}
}

// writer serializes writes to the connection. Each write has a deadline so that a stalled
// peer cannot block senders (and the mutex) forever.
type writer struct {
	mu      sync.Mutex
	conn    net.Conn
	timeout time.Duration
}

func (w *writer) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	_, err := w.conn.Write(b)
	return err
}
