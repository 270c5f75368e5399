package xmpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"

	goxmpp "github.com/xmppo/go-xmpp"
	"go.uber.org/zap"
)

// Login errors.
var (
	ErrLoginTimeout  = errors.New("xmpp: login timed out")
	ErrGoXMPPLayout  = errors.New("xmpp: cannot reach go-xmpp's connection (library layout changed?)")
	errNoStartTLS    = errors.New("xmpp: server does not offer STARTTLS")
	errSASL          = errors.New("xmpp: SASL authentication failed")
	mechanismPLAIN   = "PLAIN"
	mechanismDefault = "" // let go-xmpp pick: it prefers the SCRAM family over PLAIN
	// mechanismSCRAMSHA1 is our own SCRAM-SHA-1 (ownSCRAMLogin), not go-xmpp's.
	mechanismSCRAMSHA1 = "SCRAM-SHA-1"
)

// login is an authenticated, bound XMPP connection handed over by go-xmpp.
type login struct {
	conn      net.Conn // *tls.Conn after STARTTLS
	jid       string   // full JID the server bound
	encrypted bool
	mechanism string
}

// attempt is one go-xmpp login configuration.
type attempt struct {
	startTLS  bool
	mechanism string
}

// login connects, negotiates STARTTLS and SASL, binds a resource and returns the connection.
//
// TLS: "required" needs STARTTLS; "ifpossible" uses it when offered (go-xmpp can only either
// demand or skip STARTTLS, so a server without it costs one extra connection); "disabled"
// skips it unless the server requires it. SASL: go-xmpp's choice first (SCRAM preferred); if
// the server rejects it, our own SCRAM-SHA-1 on a new connection; PLAIN last. go-xmpp v0.4.1's
// SCRAM cannot authenticate against Prosody 0.12 (it sends GS2 flag "y" but proves channel
// binding "n", c=biws; its -PLUS path without XEP-0440 leaves the binding data empty), and the
// issue asks for SCRAM-SHA-1, so PLAIN must not be what such a server ends up with. go-xmpp is
// still tried first on every login: it is the library the issue names, and a fixed release
// needs no fallback. PLAIN is only offered to a server over TLS or on a loopback host.
func (c *Client) login(ctx context.Context) (*login, error) {
	var tlsChoices []bool
	switch c.cfg.SecurityMode {
	case SecurityRequired:
		tlsChoices = []bool{true}
	case SecurityIfPossible:
		tlsChoices = []bool{true, false}
	default:
		tlsChoices = []bool{false}
	}
	var err error
	for _, startTLS := range tlsChoices {
		mechs := c.mechanisms(startTLS)
		for i, mech := range mechs {
			var l *login
			l, err = c.loginOnce(ctx, attempt{startTLS: startTLS, mechanism: mech})
			if err == nil {
				return l, nil
			}
			if ctx.Err() != nil {
				return nil, err
			}
			if !errors.Is(err, errSASL) || i == len(mechs)-1 {
				break
			}
			c.log.Info("SASL failed, trying the next mechanism", zap.String("mechanism", mechName(mech)),
				zap.String("next", mechName(mechs[i+1])), zap.Error(err))
		}
		if !errors.Is(err, errNoStartTLS) {
			return nil, err
		}
	}
	return nil, err
}

// mechanisms lists the SASL mechanisms to try, in order: go-xmpp's choice, our SCRAM-SHA-1,
// then PLAIN where it may be sent.
func (c *Client) mechanisms(startTLS bool) []string {
	if startTLS || isLoopbackHost(c.cfg.Host) {
		return []string{mechanismDefault, mechanismSCRAMSHA1, mechanismPLAIN}
	}
	return []string{mechanismDefault, mechanismSCRAMSHA1}
}

func mechName(mech string) string {
	switch mech {
	case mechanismDefault:
		return "go-xmpp's choice"
	case mechanismSCRAMSHA1:
		return "own SCRAM-SHA-1"
	}
	return mech
}

// isSASLFailure reports whether go-xmpp failed in the SASL exchange (its error texts start
// with "auth failure" or "SCRAM"), as opposed to a network or TLS failure.
func isSASLFailure(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "auth failure") || strings.HasPrefix(s, "SCRAM") ||
		strings.Contains(s, "channel-binding") || strings.HasPrefix(s, "no viable authentication")
}

// loginOnce runs go-xmpp's NewClient, which has no context: it runs on its own goroutine and,
// if ctx ends or the login timeout passes first, that goroutine closes the connection when
// NewClient eventually returns.
func (c *Client) loginOnce(ctx context.Context, a attempt) (*login, error) {
	if a.mechanism == mechanismSCRAMSHA1 {
		return c.ownSCRAMLogin(ctx, a)
	}
	opts := c.goxmppOptions(a)
	type outcome struct {
		l   *login
		err error
	}
	results := make(chan outcome)
	abandon := make(chan struct{})
	go func() {
		var o outcome
		cl, err := opts.NewClient()
		if err == nil {
			o.l, o.err = takeOver(cl)
		} else {
			o.err = classifyLoginError(err)
		}
		select {
		case results <- o:
		case <-abandon:
			if o.l != nil {
				o.l.conn.Close()
			}
		}
	}()
	timer := time.NewTimer(c.loginTimeout)
	defer timer.Stop()
	select {
	case o := <-results:
		return o.l, o.err
	case <-ctx.Done():
		close(abandon)
		return nil, ctx.Err()
	case <-timer.C:
		close(abandon)
		return nil, ErrLoginTimeout
	}
}

func (c *Client) goxmppOptions(a attempt) goxmpp.Options {
	return goxmpp.Options{
		Host:        net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port)),
		User:        c.cfg.Username + "@" + c.cfg.Domain,
		Password:    c.cfg.Password,
		DialTimeout: c.loginTimeout,
		// The c2s port speaks STARTTLS, never direct TLS (signaling.md §1.1).
		NoTLS:    true,
		StartTLS: a.startTLS,
		// Without STARTTLS we authenticate in the clear; go-xmpp then requires this flag.
		InsecureAllowUnencryptedAuth: !a.startTLS,
		TLSConfig:                    c.tlsConfig(),
		Mechanism:                    a.mechanism,
		// PLAIN only over TLS or to a loopback host.
		NoPLAIN: !a.startTLS && !isLoopbackHost(c.cfg.Host),
	}
}

func (c *Client) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         c.cfg.Domain,
		InsecureSkipVerify: c.cfg.DisableCertificateVerification, //nolint:gosec // DISABLE_CERTIFICATE_VERIFICATION, docker's self-signed certs
		MinVersion:         tls.VersionTLS12,
	}
}

// classifyLoginError marks go-xmpp's errors (plain strings) that change what the next attempt
// does: no STARTTLS (ifpossible falls back to a plain connection) and SASL failures (fall back
// to PLAIN).
func classifyLoginError(err error) error {
	switch {
	case strings.Contains(err.Error(), "StartTLS is not supported") ||
		strings.Contains(err.Error(), "StartTLS is required but the server doesn't support it"):
		return fmt.Errorf("%w: %v", errNoStartTLS, err)
	case isSASLFailure(err):
		return fmt.Errorf("%w: %v", errSASL, err)
	}
	return fmt.Errorf("xmpp: login: %w", err)
}

// takeOver returns the connection of a logged-in go-xmpp client. go-xmpp reads stanzas into
// structs that drop presence extensions and re-serialize IQ payloads, and does not export its
// connection, so the client reads the (pinned, v0.4.1) unexported field once and from then on
// owns the connection: go-xmpp is used for connect, STARTTLS, SASL and bind only. Nothing
// is left unread in go-xmpp's decoder: after the bind result the server sends nothing until the
// initial presence go-xmpp writes last, and the decoder never reads past an element's end.
func takeOver(cl *goxmpp.Client) (*login, error) {
	f := reflect.ValueOf(cl).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[net.Conn]() {
		return nil, ErrGoXMPPLayout
	}
	conn, _ := reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem().Interface().(net.Conn)
	if conn == nil {
		return nil, ErrGoXMPPLayout
	}
	_, encrypted := conn.(*tls.Conn)
	mech := cl.Mechanism // go-xmpp records only SCRAM mechanisms
	if mech == "" {
		mech = mechanismPLAIN
	}
	return &login{conn: conn, jid: cl.JID(), encrypted: encrypted, mechanism: mech}, nil
}
