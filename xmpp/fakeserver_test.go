package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// The fake server speaks just enough XMPP for go-xmpp's login (PLAIN, bind) and then lets a
// test script the server side stanza by stanza: misbehaviour Prosody cannot be made to show
// (malformed XML, huge stanzas, unanswered pings) and exact checks of what the client writes.

const (
	fakeDomain = "example.test"
	fakeRoom   = "brewery@muc.example.test"
	fakeNick   = "jvb1"
	fakeWait   = 5 * time.Second
)

var fakeOccupant = fakeRoom + "/" + fakeNick

type fakeServer struct {
	ln    net.Listener
	conns chan *fakeConn
	n     atomic.Int64
	wg    sync.WaitGroup
}

func startFakeServer(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{ln: ln, conns: make(chan *fakeConn, 16)}
	fs.wg.Add(1)
	go func() {
		defer fs.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fs.wg.Add(1)
			go func() {
				defer fs.wg.Done()
				fc, err := fakeLogin(c, fs.n.Add(1))
				if err != nil {
					c.Close()
					return
				}
				fs.conns <- fc
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		fs.wg.Wait()
		close(fs.conns)
		for c := range fs.conns {
			c.conn.Close()
		}
	})
	return fs
}

func (fs *fakeServer) port() int { return fs.ln.Addr().(*net.TCPAddr).Port }

// accept returns the next logged-in connection.
func (fs *fakeServer) accept(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case c := <-fs.conns:
		t.Cleanup(func() { c.conn.Close() })
		return c
	case <-time.After(fakeWait):
		t.Fatal("fake server: no connection")
		return nil
	}
}

type fakeConn struct {
	conn net.Conn
	dec  *xml.Decoder
	jid  string
}

// elem is a received top-level element: attributes and raw inner XML.
type elem struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   string     `xml:",innerxml"`
}

func (e *elem) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

var errClientStreamEnd = errors.New("client closed its stream")

const fakeHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
	"xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='" + fakeDomain + "' version='1.0'>"

func fakeLogin(c net.Conn, n int64) (*fakeConn, error) {
	f := &fakeConn{conn: c, dec: xml.NewDecoder(c), jid: "jvb@" + fakeDomain + "/fake" + strconv.FormatInt(n, 10)}
	steps := []struct{ expect, reply string }{
		{"", fakeHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
			"<mechanism>PLAIN</mechanism></mechanisms></stream:features>"},
		{"auth", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"},
		{"", fakeHeader + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"},
		{"iq", "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" + f.jid + "</jid></bind></iq>"},
		{"presence", ""}, // go-xmpp's initial presence
	}
	for _, s := range steps {
		id := ""
		if s.expect == "" {
			if err := f.expectStreamHeader(); err != nil {
				return nil, err
			}
		} else {
			e, err := f.next()
			if err != nil || e.XMLName.Local != s.expect {
				return nil, fmt.Errorf("login: want <%s>, got %v %v", s.expect, e, err)
			}
			id = e.attr("id")
		}
		if s.reply != "" {
			reply := s.reply
			if s.expect == "iq" {
				reply = fmt.Sprintf(s.reply, id)
			}
			if err := f.sendErr(reply); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

func (f *fakeConn) expectStreamHeader() error {
	_ = f.conn.SetReadDeadline(time.Now().Add(fakeWait))
	for {
		tok, err := f.dec.Token()
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "stream" {
			return nil
		}
	}
}

// next reads the client's next top-level element.
func (f *fakeConn) next() (*elem, error) {
	_ = f.conn.SetReadDeadline(time.Now().Add(fakeWait))
	for {
		tok, err := f.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := new(elem)
			if err := f.dec.DecodeElement(e, &t); err != nil {
				return nil, err
			}
			return e, nil
		case xml.EndElement:
			return nil, errClientStreamEnd
		}
	}
}

func (f *fakeConn) sendErr(s string) error {
	_ = f.conn.SetWriteDeadline(time.Now().Add(fakeWait))
	_, err := io.WriteString(f.conn, s)
	return err
}

func (f *fakeConn) send(t *testing.T, s string) {
	t.Helper()
	if err := f.sendErr(s); err != nil {
		t.Fatalf("fake server send: %v", err)
	}
}

// expect reads the next element and checks its name.
func (f *fakeConn) expect(t *testing.T, local string) *elem {
	t.Helper()
	e, err := f.next()
	if err != nil {
		t.Fatalf("fake server: want <%s>: %v", local, err)
	}
	if e.XMLName.Local != local {
		t.Fatalf("fake server: want <%s>, got <%s %v>%s", local, e.XMLName.Local, e.Attrs, e.Inner)
	}
	return e
}

// join reads the client's joining presence and answers with self-presence carrying codes.
func (f *fakeConn) join(t *testing.T, codes ...string) *elem {
	t.Helper()
	p := f.expect(t, "presence")
	if p.attr("to") != fakeOccupant {
		t.Fatalf("join presence to %q, want %q", p.attr("to"), fakeOccupant)
	}
	status := ""
	for _, c := range append([]string{"110"}, codes...) {
		status += "<status code='" + c + "'/>"
	}
	f.send(t, "<presence from='"+fakeOccupant+"' to='"+f.jid+"'><x xmlns='http://jabber.org/protocol/muc#user'>"+
		"<item affiliation='owner' role='moderator'/>"+status+"</x></presence>")
	return p
}

type handlerFunc func(iq IQ, reply func([]byte, error))

func (h handlerFunc) HandleIQ(iq IQ, reply func([]byte, error)) { h(iq, reply) }

// runFakeClient starts a client against fs with short timings; it is closed in t.Cleanup.
func runFakeClient(t *testing.T, fs *fakeServer, h Handler, stats func() []Stat, mod func(*Client)) *Client {
	t.Helper()
	cfg := Config{ID: "test", Host: "127.0.0.1", Port: fs.port(), Domain: fakeDomain, Username: "jvb",
		Password: "pw", MUCJIDs: []string{fakeRoom}, MUCNickname: fakeNick, SecurityMode: SecurityDisabled,
		PresenceInterval: time.Hour}
	c := New(cfg, h, stats, "2.3.99-gtest", zap.NewNop())
	c.backoffMin, c.backoffMax = 10*time.Millisecond, 50*time.Millisecond
	c.closeWait = 500 * time.Millisecond
	if mod != nil {
		mod(c)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after Close, want nil", err)
			}
		case <-time.After(fakeWait):
			t.Error("Run did not return after Close")
		}
	})
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(fakeWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
