package xmpp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Namespaces of the c2s negotiation (RFC 6120 §5, §6, §7).
const (
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
)

// maxNegotiationBytes bounds what the server may send before the session starts.
const maxNegotiationBytes = 256 << 10

var errNegotiationTooLarge = errors.New("xmpp: stream negotiation larger than 256 KiB")

// negElement is a generic element of the stream negotiation (features, proceed, challenge…).
type negElement struct {
	XMLName  xml.Name
	Children []negElement `xml:",any"`
	Text     string       `xml:",chardata"`
}

func (e *negElement) child(space, local string) *negElement {
	for i := range e.Children {
		if e.Children[i].XMLName.Space == space && e.Children[i].XMLName.Local == local {
			return &e.Children[i]
		}
	}
	return nil
}

// byteReader hands the decoder one byte at a time. encoding/xml wraps any other reader in a
// bufio.Reader, which could read past the bind result into the session's first stanzas (or,
// before STARTTLS, into the TLS handshake); the session's own reader takes the connection
// over afterwards and must see every byte.
type byteReader struct {
	r    io.Reader
	left *int
}

func (b byteReader) ReadByte() (byte, error) {
	if *b.left <= 0 {
		return 0, errNegotiationTooLarge
	}
	var p [1]byte
	if _, err := io.ReadFull(b.r, p[:]); err != nil {
		return 0, err
	}
	*b.left--
	return p[0], nil
}

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := b.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// negotiation is our own c2s login, used when go-xmpp's SCRAM is rejected (see login).
type negotiation struct {
	conn   net.Conn
	dec    *xml.Decoder
	left   int
	domain string
}

// ownSCRAMLogin connects, negotiates STARTTLS like go-xmpp would, authenticates with
// SCRAM-SHA-1 (RFC 5802, no channel binding) and binds a resource. The returned connection is
// positioned right after the bind result, like go-xmpp's after takeOver.
func (c *Client) ownSCRAMLogin(ctx context.Context, a attempt) (*login, error) {
	d := net.Dialer{Timeout: c.loginTimeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("xmpp: login: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(c.loginTimeout))
	// Closing the connection is the only way to interrupt a blocked read when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	n := &negotiation{conn: conn, left: maxNegotiationBytes, domain: c.cfg.Domain}
	jid, err := n.run(c, a)
	if !stop() || err != nil {
		n.conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	_ = n.conn.SetDeadline(time.Time{})
	_, encrypted := n.conn.(*tls.Conn)
	return &login{conn: n.conn, jid: jid, encrypted: encrypted, mechanism: mechanismSCRAMSHA1}, nil
}

func (n *negotiation) run(c *Client, a attempt) (string, error) {
	feats, err := n.open()
	if err != nil {
		return "", err
	}
	starttls := feats.child(nsTLS, "starttls")
	switch {
	case a.startTLS && starttls == nil:
		return "", fmt.Errorf("%w: StartTLS is not supported by the server", errNoStartTLS)
	case a.startTLS || (starttls != nil && starttls.child(nsTLS, "required") != nil):
		if feats, err = n.startTLS(c); err != nil {
			return "", err
		}
	}
	if err := n.authenticate(c.cfg.Username, c.cfg.Password, feats); err != nil {
		return "", err
	}
	if feats, err = n.open(); err != nil {
		return "", err
	}
	return n.bind(feats)
}

// open sends a stream header (initially and after STARTTLS and SASL, RFC 6120 §4.3.3) and
// returns the server's stream features.
func (n *negotiation) open() (*negElement, error) {
	n.dec = xml.NewDecoder(byteReader{r: n.conn, left: &n.left})
	if err := n.write("<?xml version='1.0'?><stream:stream to='" + xmlAttr(n.domain) +
		"' xmlns='" + nsClient + "' xmlns:stream='" + nsStream + "' version='1.0'>"); err != nil {
		return nil, err
	}
	for {
		t, err := n.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("xmpp: login: stream header: %w", err)
		}
		if se, ok := t.(xml.StartElement); ok {
			if se.Name.Space != nsStream || se.Name.Local != "stream" {
				return nil, fmt.Errorf("xmpp: login: unexpected %s instead of a stream header", se.Name.Local)
			}
			break
		}
	}
	return n.expect(nsStream, "features")
}

// next reads the next top-level element; a stream error ends the negotiation.
func (n *negotiation) next() (*negElement, error) {
	for {
		t, err := n.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("xmpp: login: %w", err)
		}
		switch se := t.(type) {
		case xml.StartElement:
			var e negElement
			if err := n.dec.DecodeElement(&e, &se); err != nil {
				return nil, fmt.Errorf("xmpp: login: %w", err)
			}
			if e.XMLName.Space == nsStream && e.XMLName.Local == "error" {
				return nil, fmt.Errorf("%w: %s", ErrStreamError, firstChildName(&e))
			}
			return &e, nil
		case xml.EndElement:
			return nil, fmt.Errorf("xmpp: login: %w", ErrStreamClosed)
		}
	}
}

func (n *negotiation) expect(space, local string) (*negElement, error) {
	e, err := n.next()
	if err != nil {
		return nil, err
	}
	if e.XMLName.Space != space || e.XMLName.Local != local {
		return nil, fmt.Errorf("xmpp: login: got <%s xmlns='%s'>, want <%s>", e.XMLName.Local, e.XMLName.Space, local)
	}
	return e, nil
}

func (n *negotiation) write(s string) error {
	if _, err := io.WriteString(n.conn, s); err != nil {
		return fmt.Errorf("xmpp: login: write: %w", err)
	}
	return nil
}

// startTLS upgrades the connection (RFC 6120 §5) and restarts the stream.
func (n *negotiation) startTLS(c *Client) (*negElement, error) {
	if err := n.write("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
		return nil, err
	}
	if _, err := n.expect(nsTLS, "proceed"); err != nil {
		return nil, fmt.Errorf("xmpp: login: STARTTLS refused: %w", err)
	}
	tc := tls.Client(n.conn, c.tlsConfig())
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("xmpp: login: starttls handshake: %w", err)
	}
	n.conn = tc
	return n.open()
}

// authenticate runs SASL SCRAM-SHA-1 (RFC 6120 §6, RFC 5802). A mechanism the server does not
// offer or a <failure/> is errSASL, so that the caller may still try PLAIN.
func (n *negotiation) authenticate(user, password string, feats *negElement) error {
	if !offersMechanism(feats, mechanismSCRAMSHA1) {
		return fmt.Errorf("%w: server does not offer SCRAM-SHA-1", errSASL)
	}
	var nonce [18]byte
	_, _ = rand.Read(nonce[:])
	clientNonce := base64.RawStdEncoding.EncodeToString(nonce[:])
	first := scramGS2Header + scramClientFirstBare(user, clientNonce)
	if err := n.write("<auth xmlns='" + nsSASL + "' mechanism='SCRAM-SHA-1'>" +
		base64.StdEncoding.EncodeToString([]byte(first)) + "</auth>"); err != nil {
		return err
	}
	serverFirst, err := n.saslStep("challenge")
	if err != nil {
		return err
	}
	final, serverSig, err := scramClientFinal(user, password, clientNonce, serverFirst)
	if err != nil {
		return err
	}
	if err := n.write("<response xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString([]byte(final)) + "</response>"); err != nil {
		return err
	}
	serverFinal, err := n.saslStep("success")
	if err != nil {
		return err
	}
	return verifySCRAMServerFinal(serverFinal, serverSig)
}

// saslStep reads the next SASL element, which must be want, and returns its decoded payload.
func (n *negotiation) saslStep(want string) (string, error) {
	e, err := n.next()
	if err != nil {
		return "", err
	}
	if e.XMLName.Space == nsSASL && e.XMLName.Local == "failure" {
		return "", fmt.Errorf("%w: SCRAM-SHA-1: %s %s", errSASL, firstChildName(e), strings.TrimSpace(textOf(e, "text")))
	}
	if e.XMLName.Space != nsSASL || e.XMLName.Local != want {
		return "", fmt.Errorf("%w: SCRAM-SHA-1: got <%s>, want <%s>", errSASL, e.XMLName.Local, want)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
	if err != nil {
		return "", fmt.Errorf("%w: SCRAM-SHA-1: %s payload: %v", errSASL, want, err)
	}
	return string(b), nil
}

// bind asks for a server-generated resource (RFC 6120 §7) and opens the legacy session only
// where the server still requires it (RFC 3921 §3; RFC 6121 made it optional).
func (n *negotiation) bind(feats *negElement) (string, error) {
	if err := n.write("<iq type='set' id='bind_1'><bind xmlns='" + nsBind + "'/></iq>"); err != nil {
		return "", err
	}
	e, err := n.expect(nsClient, "iq")
	if err != nil {
		return "", err
	}
	b := e.child(nsBind, "bind")
	if b == nil || b.child(nsBind, "jid") == nil {
		return "", fmt.Errorf("xmpp: login: resource binding failed: %s", firstChildName(e))
	}
	jid := strings.TrimSpace(b.child(nsBind, "jid").Text)
	if s := feats.child(nsSession, "session"); s != nil && s.child(nsSession, "optional") == nil {
		if err := n.write("<iq type='set' id='sess_1'><session xmlns='" + nsSession + "'/></iq>"); err != nil {
			return "", err
		}
		if _, err := n.expect(nsClient, "iq"); err != nil {
			return "", err
		}
	}
	// The initial presence go-xmpp sends last, so that the server treats us as available.
	return jid, n.write("<presence/>")
}

func offersMechanism(feats *negElement, mech string) bool {
	if m := feats.child(nsSASL, "mechanisms"); m != nil {
		for _, c := range m.Children {
			if c.XMLName.Local == "mechanism" && strings.TrimSpace(c.Text) == mech {
				return true
			}
		}
	}
	return false
}

func firstChildName(e *negElement) string {
	for _, c := range e.Children {
		if c.XMLName.Local != "text" {
			return c.XMLName.Local
		}
	}
	return ""
}

func textOf(e *negElement, local string) string {
	for _, c := range e.Children {
		if c.XMLName.Local == local {
			return c.Text
		}
	}
	return ""
}

func xmlAttr(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}
