package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll reads stanzas until an error.
func readAll(t testing.TB, in string, maxStanza int) ([]*stanza, error) {
	t.Helper()
	r, err := newStanzaReader(strings.NewReader(in), maxStanza)
	if err != nil {
		return nil, err
	}
	var out []*stanza
	for {
		st, err := r.next()
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
}

func TestStanzaReader(t *testing.T) {
	cm := "<conference-modify xmlns='jitsi:colibri2' meeting-id='m&amp;1'>\n <endpoint xmlns='jitsi:colibri2' id='a'/><x>t&lt;</x></conference-modify>"
	tests := []struct {
		name    string
		in      string
		want    []*stanza
		wantErr error
	}{{
		name: "iq payload kept verbatim, keepalive skipped, stream end",
		in:   " \n<iq type='get' id='x1' from='room@muc/focus' to='jvb@d/r'>" + cm + "</iq> </stream:stream>",
		want: []*stanza{{
			Name: xml.Name{Space: nsClient, Local: "iq"}, ID: "x1", From: "room@muc/focus", To: "jvb@d/r", Type: "get",
			Child: xml.Name{Space: "jitsi:colibri2", Local: "conference-modify"}, ChildRaw: []byte(cm),
		}},
		wantErr: ErrStreamClosed,
	}, {
		name: "self-closing payload and empty iq",
		in:   "<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><iq type='result' id='r'/>",
		want: []*stanza{
			{Name: xml.Name{Space: nsClient, Local: "iq"}, ID: "p", Type: "get",
				Child: xml.Name{Space: nsPing, Local: "ping"}, ChildRaw: []byte("<ping xmlns='urn:xmpp:ping'/>")},
			{Name: xml.Name{Space: nsClient, Local: "iq"}, ID: "r", Type: "result"},
		},
		wantErr: io.EOF,
	}, {
		name: "MUC self-presence with status codes, raw child not kept",
		in: "<presence from='r@m/n'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/>" +
			"<status code='110'/><status code='201'/></x></presence>",
		want: []*stanza{{Name: xml.Name{Space: nsClient, Local: "presence"}, From: "r@m/n",
			Child: xml.Name{Space: nsMUCUser, Local: "x"}, StatusCodes: []string{"110", "201"}}},
		wantErr: io.EOF,
	}, {
		name: "presence error condition skips text",
		in: "<presence from='r@m/n' type='error'><x xmlns='http://jabber.org/protocol/muc'/><error type='cancel'>" +
			"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>in use</text><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
		want: []*stanza{{Name: xml.Name{Space: nsClient, Local: "presence"}, From: "r@m/n", Type: "error",
			Child: xml.Name{Space: nsMUC, Local: "x"}, ErrorCondition: "conflict"}},
		wantErr: io.EOF,
	}, {
		name: "stream error",
		in:   "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
		want: []*stanza{{Name: xml.Name{Space: nsStream, Local: "error"},
			Child: xml.Name{Space: nsStreamErr, Local: "conflict"}, ErrorCondition: "conflict"}},
		wantErr: io.EOF,
	}, {
		name:    "malformed: mismatched end tag",
		in:      "<message><body>x</bodyy></message>",
		wantErr: &xml.SyntaxError{},
	}, {
		name:    "malformed: bad token",
		in:      "<iq type='get' id=unquoted/>",
		wantErr: &xml.SyntaxError{},
	}, {
		name:    "malformed: undefined entity",
		in:      "<message><body>&bogus;</body></message>",
		wantErr: &xml.SyntaxError{},
	}, {
		name:    "oversized stanza",
		in:      "<message><body>" + strings.Repeat("a", 5000) + "</body></message>",
		wantErr: ErrStanzaTooLarge,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.in, 4096)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stanzas:\n got %s\nwant %s", dump(got), dump(tc.want))
			}
			var syn *xml.SyntaxError
			switch {
			case errors.As(tc.wantErr, &syn):
				if !errors.As(err, &syn) {
					t.Errorf("err = %v, want a syntax error", err)
				}
			case errors.Is(tc.wantErr, io.EOF):
				// EOF inside the open stream element surfaces as a syntax error.
				if !errors.As(err, &syn) || !strings.Contains(err.Error(), "unexpected EOF") {
					t.Errorf("err = %v, want unexpected EOF", err)
				}
			case !errors.Is(err, tc.wantErr):
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestStanzaReaderBoundsMemory feeds one enormous attribute value (a single XML token) and
// checks the reader gives up after about MaxStanzaSize instead of reading it all.
func TestStanzaReaderBoundsMemory(t *testing.T) {
	src := &countingReader{r: io.MultiReader(strings.NewReader("<iq a='"), infinite('a'))}
	r, err := newStanzaReader(src, MaxStanzaSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.next(); !errors.Is(err, ErrStanzaTooLarge) {
		t.Fatalf("err = %v, want ErrStanzaTooLarge", err)
	}
	if limit := int64(MaxStanzaSize + readSlack); src.n > limit {
		t.Fatalf("read %d bytes, want at most %d", src.n, limit)
	}
}

// TestStanzaReaderManyStanzas checks that a long stream of small stanzas never trips the
// per-stanza limit and that the capture buffer stays small.
func TestStanzaReaderManyStanzas(t *testing.T) {
	one := "<iq type='set' id='i' from='r@m/f'><healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>"
	r, err := newStanzaReader(strings.NewReader(strings.Repeat(one, 20000)+"</stream:stream>"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		st, err := r.next()
		if errors.Is(err, ErrStreamClosed) {
			break
		}
		if err != nil {
			t.Fatalf("stanza %d: %v", n, err)
		}
		if string(st.ChildRaw) != "<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>" {
			t.Fatalf("stanza %d payload %q", n, st.ChildRaw)
		}
		if len(r.src.buf) > 4096+readSlack {
			t.Fatalf("capture buffer grew to %d", len(r.src.buf))
		}
	}
	if n != 20000 {
		t.Fatalf("read %d stanzas", n)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type infinite byte

func (b infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// FuzzStanzaReader: whatever the server sends, the reader must not panic, must respect the
// stanza limit, and an IQ payload it returns must be one well-formed element whose local
// name is the one reported.
func FuzzStanzaReader(f *testing.F) {
	for _, s := range []string{
		"<iq type='get' id='1' from='a@b/c'><conference-modify xmlns='jitsi:colibri2' meeting-id='x'/></iq>",
		"<presence from='r@m/n'><x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x></presence>",
		"<presence type='error'><error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
		"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
		"<iq><a:b xmlns:a='urn:x'><a:c/>text<!-- c --></a:b><second/></iq>",
		" <message><body>&lt;&#x41;</body></message>",
		"<iq type='set'><q xmlns='urn:q'><![CDATA[<x>]]></q></iq>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 2048
		r, err := newStanzaReader(bytes.NewReader(data), limit)
		if err != nil {
			t.Fatal(err) // the header is ours; it always parses
		}
		for i := 0; i < 1000; i++ {
			st, err := r.next()
			if err != nil {
				return
			}
			if len(st.ChildRaw) > limit {
				t.Fatalf("payload of %d bytes passed the %d limit", len(st.ChildRaw), limit)
			}
			if st.ChildRaw == nil {
				continue
			}
			d := xml.NewDecoder(bytes.NewReader(st.ChildRaw))
			tok, err := d.Token()
			for err == nil {
				if _, ok := tok.(xml.StartElement); ok {
					break
				}
				tok, err = d.Token()
			}
			se, ok := tok.(xml.StartElement)
			if err != nil || !ok || se.Name.Local != st.Child.Local {
				t.Fatalf("payload %q does not start with <%s>: %v", st.ChildRaw, st.Child.Local, err)
			}
			if err := d.Skip(); err != nil {
				t.Fatalf("payload %q is not one well-formed element: %v", st.ChildRaw, err)
			}
			if d.InputOffset() != int64(len(st.ChildRaw)) {
				t.Fatalf("payload %q has bytes after its element", st.ChildRaw)
			}
		}
	})
}

func dump(sts []*stanza) string {
	var b strings.Builder
	for _, st := range sts {
		fmt.Fprintf(&b, "%+v\n", *st)
	}
	return b.String()
}
