package demo

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// Session timing and queues.
const (
	writeTimeout = 10 * time.Second
	// outQueue bounds the messages waiting for a page; a page that falls this far behind is
	// disconnected rather than buffered without bound.
	outQueue = 128
	// inQueue bounds the page's messages waiting for the focus (a page sends one at a time).
	inQueue = 8
)

// session is one page's signalling WebSocket. The reader goroutine only reads (so pongs are
// processed while a join waits for the bridge); one handler goroutine processes messages in
// order and owns the room membership; one writer drains the outgoing queue.
type session struct {
	f      *focus
	c      *websocket.Conn
	log    *zap.Logger
	ctx    context.Context
	cancel context.CancelFunc
	out    chan []byte

	// Owned by the handler goroutine.
	r *room
	m *member
}

// serveSession runs a session until the page goes away, then ends its participation.
func serveSession(ctx context.Context, f *focus, c *websocket.Conn, log *zap.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	s := &session{f: f, c: c, log: log, ctx: ctx, cancel: cancel, out: make(chan []byte, outQueue)}
	in := make(chan []byte, inQueue)
	var wg sync.WaitGroup
	wg.Go(s.writeLoop)
	wg.Go(s.pingLoop)
	wg.Go(func() { s.handleLoop(in) })
	s.readLoop(in)
	cancel()
	wg.Wait()
	_ = c.CloseNow()
}

// send queues a message for the page without blocking (outbox).
func (s *session) send(m serverMessage) {
	b, err := json.Marshal(m)
	if err != nil {
		s.log.Error("cannot encode a signalling message", zap.String("type", m.Type), zap.Error(err))
		return
	}
	select {
	case s.out <- b:
	default:
		s.log.Warn("page is not reading its signalling messages; disconnecting it")
		s.cancel()
	}
}

func (s *session) sendError(request string, e *pageError) {
	s.send(serverMessage{Type: msgError, Request: request, Code: e.Code, Message: e.Message})
}

func (s *session) readLoop(in chan<- []byte) {
	for {
		typ, b, err := s.c.Read(s.ctx)
		if err != nil {
			s.log.Debug("signalling socket closed", zap.Error(err))
			return
		}
		if typ != websocket.MessageText {
			s.sendError("", errPage(codeBadMessage, "signalling messages are JSON text"))
			continue
		}
		select {
		case in <- b:
		default:
			s.sendError("", errPage(codeBusy, "too many messages in flight"))
			return
		}
	}
}

func (s *session) writeLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case b := <-s.out:
			ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
			err := s.c.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				s.log.Debug("signalling write failed", zap.Error(err))
				s.cancel()
				return
			}
		}
	}
}

// pingLoop pings the page every KeepaliveInterval and ends the session when a pong does not
// come back within the next interval: a page that went away without closing (a closed laptop, a
// dead network) leaves the room instead of lingering.
func (s *session) pingLoop() {
	every := s.f.opts.KeepaliveInterval
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, every)
			err := s.c.Ping(ctx)
			cancel()
			if err != nil {
				s.log.Info("page stopped answering pings", zap.Error(err))
				s.cancel()
				return
			}
		}
	}
}

// handleLoop processes the page's messages in order; when the session ends, the participant
// leaves its room (a closed tab or a broken socket ends it cleanly).
func (s *session) handleLoop(in <-chan []byte) {
	defer func() {
		if s.m != nil {
			s.f.leave(s.r, s.m, "signalling closed")
		}
	}()
	for {
		select {
		case <-s.ctx.Done():
			return
		case b := <-in:
			s.handle(b)
		}
	}
}

func (s *session) handle(b []byte) {
	msg, err := decodeClientMessage(b)
	if err != nil {
		s.sendError("", errPage(codeBadMessage, "%v", err))
		return
	}
	if s.m != nil && !s.r.isMember(s.m) {
		s.r, s.m = nil, nil // the focus dropped it (conference-ended was sent)
	}
	switch msg.Type {
	case msgJoin:
		if s.m != nil {
			s.sendError(msg.Type, errPage(codeAlreadyJoined, "already in room %s", s.r.name))
			return
		}
		r, m, perr := s.f.join(s, msg.Room, msg.Name)
		if perr != nil {
			s.sendError(msg.Type, perr)
			return
		}
		s.r, s.m = r, m
	case msgAccept:
		if s.m == nil {
			s.sendError(msg.Type, errPage(codeNotJoined, "join a room first"))
			return
		}
		if perr := s.f.accept(s.r, s.m, msg); perr != nil {
			s.sendError(msg.Type, perr)
		}
	case msgLeave:
		if s.m == nil {
			s.sendError(msg.Type, errPage(codeNotJoined, "not in a room"))
			return
		}
		s.f.leave(s.r, s.m, "left")
		s.r, s.m = nil, nil
	}
}
