package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

func TestStanzaBuilders(t *testing.T) {
	req := &stanza{ID: "a'1", From: "jvbbrewery@internal.auth.meet.test/focus", To: "jvb@auth.meet.test/r", Type: "get"}
	stats := []Stat{{"stress_level", "0.01"}, {"", "dropped"}, {"drain", "false"}, {"region", `<"eu'&>`}}
	tests := []struct {
		name string
		got  []byte
		want string
	}{{
		name: "join presence",
		got:  appendPresence(nil, "room@muc/jvb-1", true, stats),
		want: "<presence to='room@muc/jvb-1'><x xmlns='http://jabber.org/protocol/muc'/>" +
			"<stats xmlns='http://jitsi.org/protocol/colibri'><stat name='stress_level' value='0.01'/>" +
			"<stat name='drain' value='false'/><stat name='region' value='&lt;&quot;eu&apos;&amp;&gt;'/></stats></presence>",
	}, {
		name: "update presence has no muc x",
		got:  appendPresence(nil, "room@muc/jvb-1", false, nil),
		want: "<presence to='room@muc/jvb-1'><stats xmlns='http://jitsi.org/protocol/colibri'></stats></presence>",
	}, {
		name: "unavailable",
		got:  appendUnavailable(nil, "room@muc/n"),
		want: "<presence to='room@muc/n' type='unavailable'/>",
	}, {
		name: "empty result swaps to and from, echoes id",
		got:  appendIQResult(nil, req, nil),
		want: "<iq type='result' id='a&apos;1' to='jvbbrewery@internal.auth.meet.test/focus' from='jvb@auth.meet.test/r'/>",
	}, {
		name: "result with payload",
		got:  appendIQResult(nil, &stanza{ID: "1", From: "r@m/f"}, []byte("<conference-modified xmlns='jitsi:colibri2'/>")),
		want: "<iq type='result' id='1' to='r@m/f'><conference-modified xmlns='jitsi:colibri2'/></iq>",
	}, {
		name: "forbidden",
		got:  appendIQError(nil, &stanza{ID: "1", From: "x@y/z"}, "auth", appendCondition(nil, "forbidden", "")),
		want: "<iq type='error' id='1' to='x@y/z'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
	}, {
		name: "internal-server-error from a plain error",
		got:  errorIQ(&stanza{ID: "1", From: "r@m/f"}, errors.New("no <valid> address")),
		want: "<iq type='error' id='1' to='r@m/f'><error type='cancel'><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" +
			"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>no &lt;valid&gt; address</text></error></iq>",
	}, {
		name: "colibri2 error keeps its extensions",
		got: errorIQ(&stanza{ID: "1", From: "r@m/f"}, &colibri2.Error{Condition: colibri2.CondItemNotFound,
			Text: "Conference not found", Reason: colibri2.ReasonConferenceNotFound}),
		want: "<iq type='error' id='1' to='r@m/f'><error type='cancel'>" +
			string((&colibri2.Error{Condition: colibri2.CondItemNotFound, Text: "Conference not found",
				Reason: colibri2.ReasonConferenceNotFound}).AppendXML(nil)) + "</error></iq>",
	}, {
		name: "version",
		got:  appendVersion(nil, "2.3.1-g<x>"),
		want: "<query xmlns='jabber:iq:version'><name>JVB</name><version>2.3.1-g&lt;x&gt;</version><os>Linux</os></query>",
	}, {
		name: "ping",
		got:  appendPing(nil, "p1", "auth.meet.test"),
		want: "<iq type='get' id='p1' to='auth.meet.test'><ping xmlns='urn:xmpp:ping'/></iq>",
	}, {
		name: "room config",
		got:  appendRoomConfig(nil, "c1", "jvbbrewery@muc"),
		want: "<iq type='set' id='c1' to='jvbbrewery@muc'><query xmlns='http://jabber.org/protocol/muc#owner'>" +
			"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>" +
			"<field var='muc#roomconfig_whois'><value>anyone</value></field></x></query></iq>",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", tc.got, tc.want)
			}
			if err := wellFormed(tc.got); err != nil {
				t.Errorf("not well-formed: %v", err)
			}
		})
	}
}

func TestColibri2ErrorType(t *testing.T) {
	typ, _ := errorReply(&colibri2.Error{Condition: colibri2.CondBadRequest})
	if typ != "modify" {
		t.Fatalf("bad-request error type %q, want modify", typ)
	}
}

func errorIQ(req *stanza, err error) []byte {
	typ, inner := errorReply(err)
	return appendIQError(nil, req, typ, inner)
}

// wellFormed checks b is a sequence of well-formed elements (namespace prefixes aside).
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(append(append([]byte("<root>"), b...), "</root>"...)))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}

// FuzzAppendEscaped: any string, escaped into an attribute and into text, must parse back to
// the same string with characters XML cannot carry replaced by U+FFFD.
func FuzzAppendEscaped(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>'\"", "a\tb\nc\rd", "\x00\x1f\uFFFE", "\xff\xfe", "é€😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendPresence(nil, "r@m/n", false, []Stat{{Name: "n", Value: s}})
		b = append(b, "<t>"...)
		b = appendEscaped(b, s, false)
		b = append(b, "</t>"...)
		var doc struct {
			Presence struct {
				Stats struct {
					Stat struct {
						Value string `xml:"value,attr"`
					} `xml:"stat"`
				} `xml:"stats"`
			} `xml:"presence"`
			T string `xml:"t"`
		}
		if err := xml.Unmarshal(append(append([]byte("<d>"), b...), "</d>"...), &doc); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		want := sanitized(s)
		if doc.Presence.Stats.Stat.Value != want {
			t.Fatalf("attribute round trip: got %q want %q", doc.Presence.Stats.Stat.Value, want)
		}
		if doc.T != want {
			t.Fatalf("text round trip: got %q want %q", doc.T, want)
		}
	})
}

func sanitized(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if (r == utf8.RuneError && size == 1) || !isXMLChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}
