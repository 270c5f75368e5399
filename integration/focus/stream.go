package focus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/cityjitsi/videobridge/xmpp"
)

// stream is a minimal XMPP c2s client: STARTTLS, SASL (SCRAM-SHA-1 or PLAIN), resource binding,
// then a stanza loop that hands each top-level element over as a raw tree. The focus emulator
// needs presence children (the bridge's <stats>), which go-xmpp drops, so it reads the stream
// itself.
type stream struct {
	conn net.Conn
	dec  *xml.Decoder
	rec  *recorder
	jid  string

	wmu sync.Mutex
}

// Element is a generic XML element tree, enough to inspect stanzas in tests.
type Element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []Element  `xml:",any"`
	Text     string     `xml:",chardata"`
	// Raw is the element's own XML as received (only set on top-level stanzas and on the IQ child).
	Raw []byte `xml:"-"`
}

// Attr returns the attribute value with the given local name.
func (e *Element) Attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Child returns the first child with the given local name (any namespace).
func (e *Element) Child(name string) *Element {
	for i := range e.Children {
		if e.Children[i].XMLName.Local == name {
			return &e.Children[i]
		}
	}
	return nil
}

// dialOptions are the connection settings of the emulator's XMPP account.
type dialOptions struct {
	Addr      string // host:port
	Domain    string
	Username  string
	Password  string
	Resource  string
	TLS       bool // use STARTTLS (insecure: test certificates are self-signed)
	Mechanism string
}

func dial(ctx context.Context, o dialOptions) (*stream, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("focus: dial %s: %w", o.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	s := &stream{conn: conn}
	if err := s.login(o); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return s, nil
}

func (s *stream) restart(domain string) (*Element, error) {
	s.rec = &recorder{r: s.conn}
	s.dec = xml.NewDecoder(bufio.NewReader(s.rec))
	if _, err := fmt.Fprintf(s.conn, "<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", xmlEscape(domain)); err != nil {
		return nil, err
	}
	for {
		t, err := s.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("focus: stream header: %w", err)
		}
		if se, ok := t.(xml.StartElement); ok && se.Name.Local == "stream" {
			break
		}
	}
	return s.next()
}

func (s *stream) login(o dialOptions) error {
	feats, err := s.restart(o.Domain)
	if err != nil {
		return err
	}
	if o.TLS {
		if feats.Child("starttls") == nil {
			return errors.New("focus: server does not offer STARTTLS")
		}
		s.writeRaw("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
		if e, err := s.next(); err != nil || e.XMLName.Local != "proceed" {
			return fmt.Errorf("focus: starttls refused: %v", err)
		}
		tc := tls.Client(s.conn, &tls.Config{ServerName: o.Domain, InsecureSkipVerify: true}) //nolint:gosec // test certificates
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("focus: tls: %w", err)
		}
		s.conn = tc
		if feats, err = s.restart(o.Domain); err != nil {
			return err
		}
	}
	if err := s.auth(o, feats); err != nil {
		return err
	}
	if feats, err = s.restart(o.Domain); err != nil {
		return err
	}
	s.writeRaw(fmt.Sprintf("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>", xmlEscape(o.Resource)))
	e, err := s.next()
	if err != nil {
		return err
	}
	if b := e.Child("bind"); b == nil || b.Child("jid") == nil {
		return fmt.Errorf("focus: bind failed: %s", e.Raw)
	}
	s.jid = strings.TrimSpace(e.Child("bind").Child("jid").Text)
	return nil
}

func (s *stream) auth(o dialOptions, feats *Element) error {
	mechs := map[string]bool{}
	if m := feats.Child("mechanisms"); m != nil {
		for _, c := range m.Children {
			mechs[strings.TrimSpace(c.Text)] = true
		}
	}
	mech := o.Mechanism
	if mech == "" {
		mech = "PLAIN"
		if mechs["SCRAM-SHA-1"] {
			mech = "SCRAM-SHA-1"
		}
	}
	if !mechs[mech] {
		return fmt.Errorf("focus: SASL mechanism %s not offered", mech)
	}
	if mech == "PLAIN" {
		cred := base64.StdEncoding.EncodeToString([]byte("\x00" + o.Username + "\x00" + o.Password))
		s.writeRaw("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + cred + "</auth>")
		e, err := s.next()
		if err != nil || e.XMLName.Local != "success" {
			return fmt.Errorf("focus: SASL PLAIN failed: %v %s", err, raw(e))
		}
		return nil
	}
	return s.scramSHA1(o)
}

// scramSHA1 runs RFC 5802 SCRAM-SHA-1 without channel binding.
func (s *stream) scramSHA1(o dialOptions) error {
	nb := make([]byte, 18)
	_, _ = rand.Read(nb)
	sc := &xmpp.SCRAMSHA1{User: o.Username, Password: o.Password, ClientNonce: base64.RawStdEncoding.EncodeToString(nb)}
	s.writeRaw("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>" +
		base64.StdEncoding.EncodeToString([]byte(sc.ClientFirst())) + "</auth>")
	e, err := s.next()
	if err != nil || e.XMLName.Local != "challenge" {
		return fmt.Errorf("focus: SCRAM challenge: %v %s", err, raw(e))
	}
	chal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
	if err != nil {
		return fmt.Errorf("focus: SCRAM challenge: %w", err)
	}
	final, err := sc.ClientFinal(string(chal))
	if err != nil {
		return fmt.Errorf("focus: %w", err)
	}
	s.writeRaw("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(final)) + "</response>")
	e, err = s.next()
	if err != nil || e.XMLName.Local != "success" {
		return fmt.Errorf("focus: SCRAM failed: %v %s", err, raw(e))
	}
	serverFinal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
	if err != nil {
		return fmt.Errorf("focus: SCRAM success: %w", err)
	}
	return sc.VerifyServerFinal(string(serverFinal))
}

func raw(e *Element) []byte {
	if e == nil {
		return nil
	}
	return e.Raw
}

// next reads the next top-level element of the stream.
func (s *stream) next() (*Element, error) {
	for {
		start := s.dec.InputOffset()
		t, err := s.dec.Token()
		if err != nil {
			return nil, err
		}
		switch se := t.(type) {
		case xml.StartElement:
			var e Element
			if err := s.dec.DecodeElement(&e, &se); err != nil {
				return nil, err
			}
			e.Raw = s.rec.slice(start, s.dec.InputOffset())
			s.rec.discard(s.dec.InputOffset())
			return &e, nil
		case xml.EndElement:
			return nil, io.EOF // </stream:stream>
		}
	}
}

// recorder keeps the bytes the decoder has read so that a stanza's original text can be cut out
// by the decoder's input offsets.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // stream offset of buf[0]
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

func (r *recorder) slice(from, to int64) []byte {
	if from < r.base || to-r.base > int64(len(r.buf)) || from > to {
		return nil
	}
	return bytes.TrimSpace(append([]byte(nil), r.buf[from-r.base:to-r.base]...))
}

func (r *recorder) discard(upTo int64) {
	n := upTo - r.base
	if n <= 0 || n > int64(len(r.buf)) {
		return
	}
	r.buf = append(r.buf[:0], r.buf[n:]...)
	r.base = upTo
}

// ChildRaw returns the original text of the first child element of a stanza's raw XML.
func ChildRaw(raw []byte, name string) []byte {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	depth := 0
	for {
		start := dec.InputOffset()
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		switch se := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && se.Name.Local == name {
				if err := dec.Skip(); err != nil {
					return nil
				}
				return bytes.TrimSpace(raw[start:dec.InputOffset()])
			}
		case xml.EndElement:
			depth--
		}
	}
}

func (s *stream) writeRaw(x string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := io.WriteString(s.conn, x)
	return err
}

func (s *stream) close() {
	_ = s.writeRaw("</stream:stream>")
	_ = s.conn.Close()
}

func xmlEscape(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}
