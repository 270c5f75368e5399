package xmpp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XML namespaces the client reads or writes.
const (
	nsClient     = "jabber:client"
	nsStream     = "http://etherx.jabber.org/streams"
	nsStreamErr  = "urn:ietf:params:xml:ns:xmpp-streams"
	nsStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsPing       = "urn:xmpp:ping"
	nsVersion    = "jabber:iq:version"
	nsMUC        = "http://jabber.org/protocol/muc"
	nsMUCUser    = "http://jabber.org/protocol/muc#user"
	nsMUCOwner   = "http://jabber.org/protocol/muc#owner"
	nsDataForms  = "jabber:x:data"
	nsColibri    = "http://jitsi.org/protocol/colibri"
	nsRoomConfig = "http://jabber.org/protocol/muc#roomconfig"
)

// MaxStanzaSize bounds one incoming stanza. A bigger one closes the connection (and the
// client reconnects) instead of being buffered: colibri2 requests are a few KiB, and an
// unbounded buffer would let a misbehaving peer exhaust memory.
const MaxStanzaSize = 1 << 20

// readSlack is how far the capture buffer may run ahead of the stanza being parsed: the xml
// decoder reads through a 4 KiB bufio.Reader, so it never pulls more than that past a token.
const readSlack = 64 << 10

// Stream-level read errors.
var (
	ErrStanzaTooLarge = errors.New("xmpp: stanza larger than 1 MiB")
	ErrStreamClosed   = errors.New("xmpp: server closed the stream")
)

// streamHeader is decoded before the first byte from the server. go-xmpp has consumed the
// server's real stream header during login; the decoder still needs the namespace bindings it
// declared (default jabber:client, prefix stream) and an open element so that the closing
// </stream:stream> matches.
const streamHeader = "<stream:stream xmlns='" + nsClient + "' xmlns:stream='" + nsStream + "'>"

// stanza is the envelope of one top-level element of the stream, with the few facts the client
// routes on. Only an IQ's first child is kept as raw bytes.
type stanza struct {
	Name               xml.Name // iq, presence, message in jabber:client; error in the stream namespace
	ID, From, To, Type string
	Child              xml.Name // first child element; zero if none
	ChildRaw           []byte   // the first child's XML exactly as received (IQs only)
	ErrorCondition     string   // first urn:...:xmpp-stanzas element inside <error>
	StatusCodes        []string // MUC <x xmlns='…muc#user'><status code/> values
}

func (s *stanza) is(local string) bool { return s.Name.Space == nsClient && s.Name.Local == local }

// stanzaReader splits the server's byte stream into stanzas. It keeps the bytes of the stanza
// being parsed (to hand an IQ payload over verbatim, without re-serializing it) and refuses to
// buffer more than MaxStanzaSize of one stanza.
type stanzaReader struct {
	dec *xml.Decoder
	src *captureReader
	max int64
}

func newStanzaReader(r io.Reader, maxStanza int) (*stanzaReader, error) {
	src := &captureReader{src: io.MultiReader(strings.NewReader(streamHeader), r), limit: maxStanza + readSlack}
	sr := &stanzaReader{dec: xml.NewDecoder(src), src: src, max: int64(maxStanza)}
	tok, err := sr.dec.Token()
	if err != nil {
		return nil, err
	}
	if se, ok := tok.(xml.StartElement); !ok || se.Name.Space != nsStream || se.Name.Local != "stream" {
		return nil, fmt.Errorf("xmpp: stream header: unexpected %T", tok)
	}
	src.discard(sr.dec.InputOffset())
	return sr, nil
}

// next returns the next stanza. Whitespace keep-alives, comments and processing instructions
// between stanzas are skipped. It returns ErrStreamClosed on </stream:stream>.
func (r *stanzaReader) next() (*stanza, error) {
	for {
		start := r.dec.InputOffset()
		tok, err := r.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return r.readStanza(t, start)
		case xml.EndElement:
			return nil, ErrStreamClosed
		}
		r.src.discard(r.dec.InputOffset())
	}
}

// readStanza consumes the rest of the stanza opened by se, which began at input offset start.
func (r *stanzaReader) readStanza(se xml.StartElement, start int64) (*stanza, error) {
	st := &stanza{Name: se.Name}
	for _, a := range se.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "id":
			st.ID = a.Value
		case "from":
			st.From = a.Value
		case "to":
			st.To = a.Value
		case "type":
			st.Type = a.Value
		}
	}
	keepChild := st.is("iq")
	depth := 1
	var child, cur xml.Name // first child; current depth-2 element
	childStart, childDone := int64(-1), false
	for depth > 0 {
		off := r.dec.InputOffset()
		if off-start > r.max {
			return nil, ErrStanzaTooLarge
		}
		tok, err := r.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 2:
				cur = t.Name
				if childStart < 0 {
					child, childStart = t.Name, off
				}
				if st.Name.Space == nsStream && st.ErrorCondition == "" && t.Name.Space == nsStreamErr && t.Name.Local != "text" {
					st.ErrorCondition = t.Name.Local // <stream:error><condition/>
				}
			case 3:
				r.inspect(st, cur, t)
			}
		case xml.EndElement:
			depth--
			if depth == 1 && !childDone && childStart >= 0 {
				childDone = true
				st.Child = child
				if keepChild {
					st.ChildRaw = r.src.bytes(childStart, r.dec.InputOffset())
				}
			}
		}
	}
	end := r.dec.InputOffset()
	if end-start > r.max {
		return nil, ErrStanzaTooLarge
	}
	r.src.discard(end)
	return st, nil
}

// inspect records what a grandchild of the stanza says: the stanza error condition, or a MUC
// status code.
func (r *stanzaReader) inspect(st *stanza, parent xml.Name, el xml.StartElement) {
	switch {
	case parent.Space == nsClient && parent.Local == "error":
		if st.ErrorCondition == "" && el.Name.Space == nsStanzas && el.Name.Local != "text" {
			st.ErrorCondition = el.Name.Local
		}
	case parent.Space == nsMUCUser && parent.Local == "x" && el.Name.Space == nsMUCUser && el.Name.Local == "status":
		for _, a := range el.Attr {
			if a.Name.Space == "" && a.Name.Local == "code" {
				st.StatusCodes = append(st.StatusCodes, a.Value)
			}
		}
	}
}

// captureReader keeps every byte read from src from the start of the current stanza on, so the
// reader can slice an element's raw XML by decoder offsets. It fails once more than limit bytes
// are held, which bounds memory even for a single enormous token.
type captureReader struct {
	src   io.Reader
	buf   []byte // input bytes from offset base on
	base  int64
	limit int
}

func (c *captureReader) Read(p []byte) (int, error) {
	room := c.limit - len(c.buf)
	if room <= 0 {
		return 0, ErrStanzaTooLarge
	}
	if len(p) > room {
		p = p[:room]
	}
	n, err := c.src.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// discard forgets the bytes before input offset off.
func (c *captureReader) discard(off int64) {
	k := int(off - c.base)
	if k <= 0 {
		return
	}
	k = min(k, len(c.buf))
	n := copy(c.buf, c.buf[k:])
	c.buf = c.buf[:n]
	c.base += int64(k)
	if cap(c.buf) > 4*readSlack && n < readSlack {
		// Give back the memory of a past large stanza.
		c.buf = append(make([]byte, 0, readSlack), c.buf...)
	}
}

// bytes returns a copy of the input between offsets from and to.
func (c *captureReader) bytes(from, to int64) []byte {
	i, j := int(from-c.base), int(to-c.base)
	if i < 0 || j > len(c.buf) || i > j {
		return nil // cannot happen: the stanza start is never discarded while it is parsed
	}
	return append([]byte(nil), c.buf[i:j]...)
}
