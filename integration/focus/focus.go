// Package focus is a Jicofo emulator for tests and the bench harness: it logs in to Prosody,
// joins the bridge brewery MUC as Jicofo does, tracks every bridge's stats presence, and sends
// colibri2 requests to a bridge's occupant JID, pipelined like Jicofo sends them.
package focus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// Options say how the emulator reaches Prosody and which brewery it joins.
type Options struct {
	Addr     string // Prosody c2s host:port
	Domain   string // account domain, e.g. auth.meet.test
	Username string // "focus"
	Password string
	TLS      bool   // STARTTLS (certificate not verified: test servers are self-signed)
	Brewery  string // room JID, e.g. jvbbrewery@internal.auth.meet.test
	Nick     string // MUC nickname, default "focus" as Jicofo uses its username
	// ReplyTimeout bounds every request (Jicofo uses 15 s).
	ReplyTimeout time.Duration
}

// Stats is one bridge's latest <stats/> presence, by stat name.
type Stats map[string]string

// Focus is a connected emulator.
type Focus struct {
	opts Options
	s    *stream

	mu       sync.Mutex
	bridges  map[string]Stats // by occupant nick
	gone     map[string]bool  // nick sent unavailable
	changed  chan struct{}    // closed and replaced on every presence change
	pending  map[string]chan *Element
	closed   bool
	readErr  error
	idSeq    atomic.Uint64
	loopDone chan struct{}
}

// ErrClosed is returned for requests after the stream ended.
var ErrClosed = errors.New("focus: closed")

// Join logs in and joins the brewery room.
func Join(ctx context.Context, o Options) (*Focus, error) {
	if o.Nick == "" {
		o.Nick = "focus"
	}
	if o.ReplyTimeout == 0 {
		o.ReplyTimeout = 15 * time.Second
	}
	s, err := dial(ctx, dialOptions{Addr: o.Addr, Domain: o.Domain, Username: o.Username,
		Password: o.Password, Resource: "focus" + strconv.Itoa(int(time.Now().UnixNano()%1e6)), TLS: o.TLS})
	if err != nil {
		return nil, err
	}
	f := &Focus{opts: o, s: s, bridges: map[string]Stats{}, gone: map[string]bool{},
		changed: make(chan struct{}), pending: map[string]chan *Element{}, loopDone: make(chan struct{})}
	go f.readLoop()
	if err := s.writeRaw(fmt.Sprintf("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
		xmlEscape(o.Brewery), xmlEscape(o.Nick))); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// JID is the emulator's full JID.
func (f *Focus) JID() string { return f.s.jid }

// OccupantJID is the brewery occupant JID of a bridge nickname: where Jicofo sends IQs.
func (f *Focus) OccupantJID(nick string) string { return f.opts.Brewery + "/" + nick }

func (f *Focus) readLoop() {
	defer close(f.loopDone)
	for {
		e, err := f.s.next()
		if err != nil {
			f.mu.Lock()
			f.readErr = err
			f.closed = true
			for id, ch := range f.pending {
				close(ch)
				delete(f.pending, id)
			}
			f.mu.Unlock()
			return
		}
		switch e.XMLName.Local {
		case "presence":
			f.onPresence(e)
		case "iq":
			f.onIQ(e)
		}
	}
}

func (f *Focus) onPresence(e *Element) {
	from := e.Attr("from")
	room, nick, ok := strings.Cut(from, "/")
	if !ok || !strings.EqualFold(room, f.opts.Brewery) || nick == f.opts.Nick {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Attr("type") == "unavailable" {
		delete(f.bridges, nick)
		f.gone[nick] = true
	} else if st := e.Child("stats"); st != nil && st.XMLName.Space == colibri2.NSColibri {
		// Like Jicofo's BaseBrewery, only a presence carrying <stats> registers a bridge.
		stats := Stats{}
		for _, c := range st.Children {
			if c.XMLName.Local == "stat" {
				stats[c.Attr("name")] = c.Attr("value")
			}
		}
		f.bridges[nick] = stats
		delete(f.gone, nick)
	} else {
		return
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Focus) onIQ(e *Element) {
	typ := e.Attr("type")
	if typ == "get" || typ == "set" {
		// The emulator serves nothing; answer like an XMPP client without handlers.
		_ = f.s.writeRaw(fmt.Sprintf("<iq type='error' id='%s' to='%s'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
			xmlEscape(e.Attr("id")), xmlEscape(e.Attr("from"))))
		return
	}
	f.mu.Lock()
	ch := f.pending[e.Attr("id")]
	delete(f.pending, e.Attr("id"))
	f.mu.Unlock()
	if ch != nil {
		ch <- e
	}
}

// Bridge returns the last stats a bridge published, if it is in the brewery.
func (f *Focus) Bridge(nick string) (Stats, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.bridges[nick]
	return s, ok
}

// WaitBridge waits until the bridge has published stats for which accept returns true
// (nil accepts any).
func (f *Focus) WaitBridge(ctx context.Context, nick string, accept func(Stats) bool) (Stats, error) {
	for {
		f.mu.Lock()
		s, ok := f.bridges[nick]
		ch := f.changed
		closed := f.closed
		f.mu.Unlock()
		if ok && (accept == nil || accept(s)) {
			return s, nil
		}
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, fmt.Errorf("focus: waiting for bridge %q: %w", nick, ctx.Err())
		}
	}
}

// WaitGone waits until the bridge's occupant left the brewery.
func (f *Focus) WaitGone(ctx context.Context, nick string) error {
	for {
		f.mu.Lock()
		gone := f.gone[nick]
		ch := f.changed
		f.mu.Unlock()
		if gone {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("focus: waiting for bridge %q to leave: %w", nick, ctx.Err())
		}
	}
}

// Pending is an IQ in flight; Wait returns its answer.
type Pending struct {
	ch      chan *Element
	timeout time.Duration
	sent    time.Time
}

// SendIQ sends an IQ with the given type and child payload and returns without waiting, so
// several requests can be pipelined as Jicofo does.
func (f *Focus) SendIQ(to, typ, payload string) (*Pending, error) {
	id := "focus-" + strconv.FormatUint(f.idSeq.Add(1), 10)
	ch := make(chan *Element, 1)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, ErrClosed
	}
	f.pending[id] = ch
	f.mu.Unlock()
	p := &Pending{ch: ch, timeout: f.opts.ReplyTimeout, sent: time.Now()}
	err := f.s.writeRaw(fmt.Sprintf("<iq type='%s' id='%s' to='%s'>%s</iq>", typ, id, xmlEscape(to), payload))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Wait returns the response stanza (result or error).
func (p *Pending) Wait(ctx context.Context) (*Element, error) {
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case e, ok := <-p.ch:
		if !ok {
			return nil, ErrClosed
		}
		return e, nil
	case <-t.C:
		return nil, fmt.Errorf("focus: no reply within %v", p.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RoundTrip is how long the answer took; valid after Wait.
func (p *Pending) Sent() time.Time { return p.sent }

// Colibri sends a colibri2 conference-modify (as type='get', like Jicofo) without waiting.
func (f *Focus) Colibri(bridgeNick string, req *colibri2.ConferenceModify) (*Pending, error) {
	return f.SendIQ(f.OccupantJID(bridgeNick), "get", string(req.AppendXML(nil)))
}

// ColibriResult decodes the answer to a Colibri request: the conference-modified result, or the
// bridge's error as a *colibri2.Error.
func ColibriResult(e *Element) (*colibri2.ConferenceModified, error) {
	if e.Attr("type") == "error" {
		raw := ChildRaw(e.Raw, "error")
		ce, err := colibri2.DecodeError(raw)
		if err != nil {
			return nil, fmt.Errorf("focus: undecodable error %s: %w", e.Raw, err)
		}
		return nil, ce
	}
	raw := ChildRaw(e.Raw, "conference-modified")
	if raw == nil {
		return nil, fmt.Errorf("focus: result without conference-modified: %s", e.Raw)
	}
	return colibri2.DecodeConferenceModified(raw)
}

// Do sends one colibri2 request and waits for its answer.
func (f *Focus) Do(ctx context.Context, bridgeNick string, req *colibri2.ConferenceModify) (*colibri2.ConferenceModified, error) {
	p, err := f.Colibri(bridgeNick, req)
	if err != nil {
		return nil, err
	}
	e, err := p.Wait(ctx)
	if err != nil {
		return nil, err
	}
	return ColibriResult(e)
}

// Close leaves the room and closes the stream.
func (f *Focus) Close() {
	f.mu.Lock()
	already := f.closed
	f.mu.Unlock()
	if !already {
		_ = f.s.writeRaw(fmt.Sprintf("<presence type='unavailable' to='%s/%s'/>", xmlEscape(f.opts.Brewery), xmlEscape(f.opts.Nick)))
	}
	f.s.close()
	<-f.loopDone
}
