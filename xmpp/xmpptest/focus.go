package xmpptest

import (
	"bytes"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goxmpp "github.com/xmppo/go-xmpp"
)

// WaitTimeout bounds every wait of the focus helpers.
const WaitTimeout = 10 * time.Second

// Element is a generic XML element tree for assertions on received stanzas.
type Element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []Element  `xml:",any"`
	Text     string     `xml:",chardata"`
}

// Attr returns the value of the un-namespaced attribute local, "" if absent.
func (e *Element) Attr(local string) string {
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// Child returns the first child element with the given namespace and local name.
func (e *Element) Child(space, local string) *Element {
	for i := range e.Children {
		if c := &e.Children[i]; c.XMLName.Space == space && c.XMLName.Local == local {
			return c
		}
	}
	return nil
}

// Stats returns the <stat name value/> pairs of a presence's
// <stats xmlns='http://jitsi.org/protocol/colibri'>, or nil if it has none.
func (e *Element) Stats() map[string]string {
	st := e.Child("http://jitsi.org/protocol/colibri", "stats")
	if st == nil {
		return nil
	}
	m := map[string]string{}
	for _, c := range st.Children {
		if c.XMLName.Local == "stat" {
			m[c.Attr("name")] = c.Attr("value")
		}
	}
	return m
}

// Focus is a minimal Jicofo stand-in: it logs in with go-xmpp as the focus account, joins the
// brewery as "focus" and sends IQs to bridges' occupant JIDs. go-xmpp's Recv drops presence
// children, so every received stanza is also captured raw through its debug writer and parsed
// here; Recv only drives the reading.
type Focus struct {
	JID  string // full JID
	Room string
	Nick string

	cl      *goxmpp.Client
	capture *captureWriter

	mu      sync.Mutex
	stanzas []*Element
	changed chan struct{} // closed and replaced when a stanza arrives or reading ends
	readErr error

	drained chan struct{}
	parsed  chan struct{}
	ids     atomic.Uint64
}

// NewFocus logs in as p.Focus, joins p.Brewery with nickname "focus" and waits for its
// self-presence. The focus is closed in t.Cleanup.
func NewFocus(t testing.TB, p *Prosody) *Focus {
	t.Helper()
	pr, pw := io.Pipe()
	capture := &captureWriter{pw: pw}
	opts := goxmpp.Options{
		Host: p.Addr(), User: p.JID(p.Focus.User), Password: p.Focus.Password,
		NoTLS: true, StartTLS: p.TLS, InsecureAllowUnencryptedAuth: !p.TLS,
		TLSConfig: &tls.Config{ServerName: p.Domain, InsecureSkipVerify: true}, //nolint:gosec // self-signed test certificate
		// go-xmpp's SCRAM fails against Prosody 0.12; see package xmpp.
		Mechanism: "PLAIN", Debug: true, DebugWriter: capture, DialTimeout: WaitTimeout,
	}
	cl, err := opts.NewClient()
	if err != nil {
		t.Fatalf("xmpptest: focus login: %v", err)
	}
	capture.on.Store(true)
	f := &Focus{JID: cl.JID(), Room: p.Brewery, Nick: "focus", cl: cl, capture: capture,
		changed: make(chan struct{}), drained: make(chan struct{}), parsed: make(chan struct{})}
	go f.parse(pr)
	go f.drain()
	t.Cleanup(f.Close)
	f.Send(t, fmt.Sprintf("<presence to='%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
		escape(f.OccupantJID(f.Nick))))
	f.WaitPresence(t, f.OccupantJID(f.Nick), nil)
	return f
}

// OccupantJID is room/nick in the brewery.
func (f *Focus) OccupantJID(nick string) string { return f.Room + "/" + nick }

// Send writes raw XML to the stream.
func (f *Focus) Send(t testing.TB, raw string) {
	t.Helper()
	if _, err := f.cl.SendOrg(raw); err != nil {
		t.Fatalf("xmpptest: focus send: %v", err)
	}
}

// SendIQ sends <iq type=typ to=to>payload</iq> and returns the result or error IQ.
func (f *Focus) SendIQ(t testing.TB, to, typ, payload string) *Element {
	t.Helper()
	id := "focus-" + strconv.FormatUint(f.ids.Add(1), 10)
	f.Send(t, fmt.Sprintf("<iq type='%s' id='%s' to='%s'>%s</iq>", escape(typ), id, escape(to), payload))
	return f.wait(t, "iq "+id, func(e *Element) bool {
		typ := e.Attr("type")
		return e.XMLName.Local == "iq" && e.Attr("id") == id && (typ == "result" || typ == "error")
	}, 1)
}

// WaitPresence waits for a presence from the given JID that satisfies match (nil: any).
func (f *Focus) WaitPresence(t testing.TB, from string, match func(*Element) bool) *Element {
	t.Helper()
	return f.WaitPresences(t, from, match, 1)
}

// WaitPresences waits until n presences from the given JID satisfy match and returns the last.
func (f *Focus) WaitPresences(t testing.TB, from string, match func(*Element) bool, n int) *Element {
	t.Helper()
	return f.wait(t, fmt.Sprintf("%d presences from %s", n, from), func(e *Element) bool {
		return e.XMLName.Local == "presence" && e.Attr("from") == from && (match == nil || match(e))
	}, n)
}

// wait returns the n-th received stanza satisfying match, waiting up to WaitTimeout.
func (f *Focus) wait(t testing.TB, what string, match func(*Element) bool, n int) *Element {
	t.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	seen := 0
	for i := 0; ; {
		f.mu.Lock()
		for ; i < len(f.stanzas); i++ {
			if match(f.stanzas[i]) {
				if seen++; seen == n {
					e := f.stanzas[i]
					f.mu.Unlock()
					return e
				}
			}
		}
		changed, readErr := f.changed, f.readErr
		f.mu.Unlock()
		if readErr != nil {
			t.Fatalf("xmpptest: focus waiting for %s: stream ended: %v", what, readErr)
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("xmpptest: focus waited %v for %s", WaitTimeout, what)
		}
	}
}

// Close ends the focus's stream and waits for its goroutines. Safe to call twice.
func (f *Focus) Close() {
	_, _ = f.cl.SendOrg("</stream:stream>")
	timeout := time.After(WaitTimeout)
	for _, done := range []chan struct{}{f.drained, f.parsed} {
		select {
		case <-done:
		case <-timeout:
		}
	}
}

// drain keeps go-xmpp reading (it answers pings itself) until the stream ends.
func (f *Focus) drain() {
	defer close(f.drained)
	for {
		if _, err := f.cl.Recv(); err != nil {
			f.capture.pw.CloseWithError(err)
			return
		}
	}
}

// parse decodes the captured stream into stanzas.
func (f *Focus) parse(r io.Reader) {
	defer close(f.parsed)
	err := parseStream(r, func(e *Element) {
		f.mu.Lock()
		f.stanzas = append(f.stanzas, e)
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
	})
	f.mu.Lock()
	f.readErr = err
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	io.Copy(io.Discard, r) // keep go-xmpp's reads from blocking on the pipe
}

// parseStream decodes top-level elements of a stream whose header was already consumed.
func parseStream(r io.Reader, onStanza func(*Element)) error {
	const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	dec := xml.NewDecoder(io.MultiReader(strings.NewReader(header), r))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch se := tok.(type) {
		case xml.StartElement:
			e := new(Element)
			if err := dec.DecodeElement(e, &se); err != nil {
				return err
			}
			onStanza(e)
		case xml.EndElement:
			return errors.New("stream closed")
		}
	}
}

// captureWriter receives go-xmpp's debug output. Each read chunk arrives as one Write of
// "RECV " + chunk + "\n" (the newline is added); received chunks go to the parser once the
// login is done. Sent data ("SEND …", including SASL) is ignored.
type captureWriter struct {
	on atomic.Bool
	pw *io.PipeWriter
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.on.Load() && bytes.HasPrefix(b, []byte("RECV ")) {
		_, _ = w.pw.Write(bytes.TrimSuffix(b[len("RECV "):], []byte("\n")))
	}
	return len(b), nil
}

// escape escapes s for text and for attributes in either quote style.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
