package channel

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/cityjitsi/videobridge/bridge/speaker"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// IncomingQueue is the per-endpoint queue of received messages awaiting processing (JVB: 50,
// media.md §6). A message arriving while it is full is dropped and counted.
const IncomingQueue = 50

// errBackpressure is returned by a link that refuses a message because its peer is not
// reading (counted as an outgoing drop, not a write error).
var errBackpressure = errors.New("channel: transport back-pressure")

// link is one message transport of a Channel: the SCTP data channel or a colibri-ws socket.
type link interface {
	// send writes one text message. It may block for a bounded time.
	send(b []byte) error
	// close ends the transport without blocking; code and reason are for WebSocket close
	// frames and ignored by the data channel.
	close(code websocket.StatusCode, reason string)
}

// Stats are a Channel's counters since it was created.
type Stats struct {
	Received          uint64 // text messages received on either transport
	Sent              uint64 // messages written to a transport
	DroppedIncoming   uint64 // incoming queue full
	DroppedOutgoing   uint64 // outgoing queue full or the data channel's send buffer full
	NotConnected      uint64 // messages for the endpoint while it had no transport
	Malformed         uint64 // messages that did not decode
	Ignored           uint64 // decoded but not acted on: unknown or bridge-to-client classes, visitor messages, unknown targets, foreign sources
	Binary            uint64 // binary messages (PPID 53, WebSocket binary frames), which JVB ignores
	WriteErrors       uint64 // failed transport writes
	ExtraDataChannels uint64 // DCEP OPENs ignored because a channel is open (max-channels 1)
}

type counters struct {
	received, sent, droppedIn, droppedOut, notConnected, malformed, ignored, binary, writeErrors,
	extraDataChannels atomic.Uint64
}

// Channel is one endpoint's bridge channel. It is created by Hub.AddEndpoint and closed by
// Hub.RemoveEndpoint; its methods are safe for concurrent use.
type Channel struct {
	id      string
	visitor bool
	hub     *Hub
	log     *zap.Logger
	speaker *speaker.Speaker

	ctx    context.Context // cancelled when the channel closes
	cancel context.CancelFunc
	in     chan []byte // received messages, processed in order by one goroutine
	out    chan []byte // encoded messages, written by one goroutine

	mu     sync.Mutex // guards the fields below
	ws, dc link       // attached transports (nil when absent)
	last   link       // the transport that last received data, or that connected last
	closed bool
	audio  *bridgechannel.ReceiverAudioSubscription

	stats counters
}

func newChannel(h *Hub, id string, visitor bool, sp *speaker.Speaker) *Channel {
	c := &Channel{
		id: id, visitor: visitor, hub: h, speaker: sp,
		log: h.log.With(zap.String("endpoint", id)),
		in:  make(chan []byte, IncomingQueue),
		out: make(chan []byte, h.outQueue),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// ID is the endpoint id.
func (c *Channel) ID() string { return c.id }

// Speaker is the endpoint's dominant speaker input: the media path calls Level on it for every
// audio packet (see speaker.Speaker for its concurrency rules).
func (c *Channel) Speaker() *speaker.Speaker { return c.speaker }

// Connected reports whether a transport is attached.
func (c *Channel) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws != nil || c.dc != nil
}

// AudioSubscription returns the endpoint's latest ReceiverAudioSubscription, if it sent one.
// Without one a receiver gets all regular audio (media.md §1.3).
func (c *Channel) AudioSubscription() (bridgechannel.ReceiverAudioSubscription, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.audio == nil {
		return bridgechannel.ReceiverAudioSubscription{}, false
	}
	return *c.audio, true
}

// SetInitialLastN applies colibri2's initial-last-n: the receiver's lastN until the client sets
// one itself.
func (c *Channel) SetInitialLastN(n int) {
	c.hub.post(func() { c.hub.setInitialLastN(c, n) })
}

// Stats returns the channel's counters.
func (c *Channel) Stats() Stats {
	s := &c.stats
	return Stats{
		Received: s.received.Load(), Sent: s.sent.Load(), DroppedIncoming: s.droppedIn.Load(),
		DroppedOutgoing: s.droppedOut.Load(), NotConnected: s.notConnected.Load(), Malformed: s.malformed.Load(),
		Ignored: s.ignored.Load(), Binary: s.binary.Load(), WriteErrors: s.writeErrors.Load(),
		ExtraDataChannels: s.extraDataChannels.Load(),
	}
}

// attach makes l the endpoint's WebSocket (ws) or data channel and the transport for outgoing
// messages, closing the transport of the same kind it replaces with 1000 "replaced" (JVB
// ColibriWebSocketService). first, when set, is queued ahead of anything else sent on the new
// transport. It reports false when the channel is closed.
func (c *Channel) attach(l link, ws bool, first []byte) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	var old link
	if ws {
		old, c.ws = c.ws, l
	} else {
		old, c.dc = c.dc, l
	}
	// The newly connected transport is "last active" (media.md §1.2), so the resync that
	// follows goes to it.
	c.last = l
	if first != nil {
		select {
		case c.out <- first:
		default:
			c.stats.droppedOut.Add(1)
		}
	}
	c.mu.Unlock()
	if old != nil {
		old.close(websocket.StatusNormalClosure, "replaced")
	}
	return true
}

// connected announces a newly attached transport: the resync of media.md §1.2 follows.
func (c *Channel) connected() {
	c.hub.post(func() { c.hub.resync(c) })
}

// detach forgets l once its transport has ended.
func (c *Channel) detach(l link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == l {
		c.ws = nil
	}
	if c.dc == l {
		c.dc = nil
	}
	if c.last == l {
		c.last = nil
	}
}

// pick returns the transport for the next outgoing message: the one that last received data;
// without one, the data channel, else the WebSocket (media.md §1.2).
func (c *Channel) pick() link {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.last != nil:
		return c.last
	case c.dc != nil:
		return c.dc
	}
	return c.ws
}

// receive queues one message received on l. b must not be modified afterwards.
func (c *Channel) receive(l link, b []byte) {
	c.stats.received.Add(1)
	c.mu.Lock()
	if l != nil && (c.ws == l || c.dc == l) {
		c.last = l
	}
	c.mu.Unlock()
	select {
	case c.in <- b:
	default:
		c.stats.droppedIn.Add(1)
	}
}

// send encodes and queues m for the endpoint.
func (c *Channel) send(m bridgechannel.Message) {
	c.enqueue(bridgechannel.Marshal(m))
}

// enqueue queues an encoded message without blocking. While no transport is attached the
// message is dropped: the resync on connect brings the endpoint up to date.
func (c *Channel) enqueue(b []byte) {
	if !c.Connected() {
		c.stats.notConnected.Add(1)
		return
	}
	select {
	case c.out <- b:
	default:
		c.stats.droppedOut.Add(1)
	}
}

// writeLoop writes queued messages until the channel closes.
func (c *Channel) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case b := <-c.out:
			c.write(b)
		}
	}
}

func (c *Channel) write(b []byte) {
	l := c.pick()
	if l == nil {
		c.stats.notConnected.Add(1)
		return
	}
	switch err := l.send(b); {
	case err == nil:
		c.stats.sent.Add(1)
	case errors.Is(err, errBackpressure):
		c.stats.droppedOut.Add(1)
	default:
		c.stats.writeErrors.Add(1)
		c.log.Debug("bridge channel write failed", zap.Error(err))
	}
}

// readLoop processes received messages in order until the channel closes.
func (c *Channel) readLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case b := <-c.in:
			c.process(b)
		}
	}
}

// process decodes and handles one message. Decoding is lenient (bridgechannel.Decode); what
// does not decode is counted and dropped, never the channel (media.md §1.2).
func (c *Channel) process(b []byte) {
	m, err := bridgechannel.Decode(b)
	if err != nil {
		c.stats.malformed.Add(1)
		c.log.Debug("bridge channel message dropped", zap.Error(err))
		return
	}
	if _, ok := m.(*bridgechannel.ClientHello); ok {
		// Answered on the channel it came on (the one that last received data).
		c.send(&bridgechannel.ServerHello{})
		return
	}
	c.hub.do(c, func() { c.hub.handle(c, m, b) })
}

// close ends the channel: its transports are closed (the WebSocket with 1001 "endpoint closed",
// which a client alone in the meeting treats as final, media.md pitfall 15) and its goroutines
// stop. It does not wait.
func (c *Channel) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	ws, dc := c.ws, c.dc
	c.ws, c.dc, c.last = nil, nil, nil
	c.mu.Unlock()
	c.cancel()
	if ws != nil {
		ws.close(websocket.StatusGoingAway, "endpoint closed")
	}
	if dc != nil {
		dc.close(websocket.StatusGoingAway, "endpoint closed")
	}
}

func (c *Channel) setAudio(s bridgechannel.ReceiverAudioSubscription) {
	c.mu.Lock()
	c.audio = &s
	c.mu.Unlock()
}
