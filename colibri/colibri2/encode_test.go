package colibri2

import (
	"testing"
)

// TestEncodeExact pins the exact bytes of the small responses Jicofo sees most often and of
// the boolean-default rules (pitfall 9).
func TestEncodeExact(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"conference expire response", (&ConferenceModified{}).AppendXML(nil),
			"<conference-modified xmlns='jitsi:colibri2'/>"},
		{"endpoint expire echo", (&ConferenceModified{Endpoints: []Endpoint{{ID: "C", Expire: true}}}).AppendXML(nil),
			"<conference-modified xmlns='jitsi:colibri2'><endpoint xmlns='jitsi:colibri2' id='C' expire='true'/></conference-modified>"},
		{"endpoint update echo", (&ConferenceModified{Endpoints: []Endpoint{{ID: "79f0273e"}}}).AppendXML(nil),
			"<conference-modified xmlns='jitsi:colibri2'><endpoint xmlns='jitsi:colibri2' id='79f0273e'/></conference-modified>"},
		{"relay expire echo", (&ConferenceModified{Relays: []Relay{{ID: "R", Expire: true}}}).AppendXML(nil),
			"<conference-modified xmlns='jitsi:colibri2'><relay xmlns='jitsi:colibri2' id='R' expire='true'/></conference-modified>"},
		{"conference expire request", (&ConferenceModify{MeetingID: "m", Expire: true, RTCStatsEnabled: true}).AppendXML(nil),
			"<conference-modify xmlns='jitsi:colibri2' meeting-id='m' expire='true'/>"},
		{"rtcstats disabled", (&ConferenceModify{MeetingID: "m", Name: "r@muc", Create: true}).AppendXML(nil),
			"<conference-modify xmlns='jitsi:colibri2' meeting-id='m' name='r@muc' create='true' rtcstats-enabled='false'/>"},
		{"false booleans omitted", (&ConferenceModify{MeetingID: "m", RTCStatsEnabled: true, Endpoints: []Endpoint{{
			ID: "e", Transport: &Transport{SCTP: &SCTP{}}, ForceMute: &ForceMute{}, Sources: &Sources{},
		}}}).AppendXML(nil),
			"<conference-modify xmlns='jitsi:colibri2' meeting-id='m'><endpoint xmlns='jitsi:colibri2' id='e'>" +
				"<transport><sctp/></transport><sources xmlns='jitsi:colibri2'/><force-mute/></endpoint></conference-modify>"},
		{"true booleans written", (&ConferenceModify{MeetingID: "m", RTCStatsEnabled: true, Endpoints: []Endpoint{{
			ID: "e", Create: true, Diarize: true, MucRole: "visitor",
			Transport: &Transport{ICEControlling: true, UseUniquePort: true, ICERestart: true},
			ForceMute: &ForceMute{Audio: true, Video: true}, InitialLastN: intPtr(-1),
		}}}).AppendXML(nil),
			"<conference-modify xmlns='jitsi:colibri2' meeting-id='m'><endpoint xmlns='jitsi:colibri2' id='e' create='true' muc-role='visitor' diarize='true'>" +
				"<transport ice-controlling='true' use-unique-port='true' ice-restart='true'/><force-mute audio='true' video='true'/>" +
				"<initial-last-n value='-1'/></endpoint></conference-modify>"},
		{"ice restart answer", (&ConferenceModified{Endpoints: []Endpoint{{ID: "e", Transport: &Transport{ICE: &ICEUDPTransport{
			Ufrag: "u2", Pwd: "p2", ICEGeneration: intPtr(1), RTCPMux: true,
			WebSockets: []WebSocket{{URL: "wss://h/colibri-ws/j/c/e?pwd=x&y"}, {Active: true}},
		}}}}}).AppendXML(nil),
			"<conference-modified xmlns='jitsi:colibri2'><endpoint xmlns='jitsi:colibri2' id='e'><transport>" +
				"<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u2' pwd='p2' ice-generation='1'><rtcp-mux/>" +
				"<web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://h/colibri-ws/j/c/e?pwd=x&amp;y'/>" +
				"<web-socket xmlns='http://jitsi.org/protocol/colibri' active='true'/>" +
				"</transport></transport></endpoint></conference-modified>"},
		{"ssrc group and source details", appendMediaSource(nil, &MediaSource{
			Type: "video", ID: "e-v0", Synthetic: true,
			Sources: []Source{{SSRC: 1, Name: "e-v0", VideoType: "camera", RID: "h",
				Parameters: []Parameter{{Name: "msid", Value: "a b"}}, Owner: "jvb"}},
			SSRCGroups: []SSRCGroup{{Semantics: "FID", SSRCs: []uint32{1, 4294967295}}},
		}),
			"<media-source type='video' id='e-v0' synthetic='true'>" +
				"<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1' name='e-v0' videoType='camera' rid='h'>" +
				"<parameter name='msid' value='a b'/><ssrc-info xmlns='http://jitsi.org/jitmeet' owner='jvb'/></source>" +
				"<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='1'/><source ssrc='4294967295'/></ssrc-group>" +
				"</media-source>"},
		{"candidate without related address", appendCandidate(nil, &Candidate{Component: 1, Foundation: "1", ID: "c", Priority: 1, Protocol: "udp", Type: "host", IP: "10.0.0.1", Port: 10000}),
			"<candidate component='1' foundation='1' generation='0' id='c' network='0' priority='1' protocol='udp' type='host' ip='10.0.0.1' port='10000'/>"},
		{"error with text only", (&Error{Condition: CondBadRequest, Text: "Invalid conference name (not a JID)"}).AppendXML(nil),
			"<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>Invalid conference name (not a JID)</text>"},
		{"error golden exact", wantUnknownEndpointError().AppendXML(nil),
			"<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" +
				"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>Endpoint not found for ID: 79f0273e</text>" +
				"<error xmlns='jitsi:colibri2' reason='unknown_endpoint'/><endpoint xmlns='jitsi:colibri2' id='79f0273e'/>"},
		{"error without condition", (&Error{Reason: ReasonUnspecified}).AppendXML(nil),
			"<internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><error xmlns='jitsi:colibri2' reason='unspecified'/>"},
		{"error with garbage condition", (&Error{Condition: "a b'/><x"}).AppendXML(nil),
			"<internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", tc.got, tc.want)
			}
		})
	}
}

func TestAppendXMLAppends(t *testing.T) {
	prefix := []byte("<iq type='result'>")
	got := (&ConferenceModified{}).AppendXML(prefix)
	if want := "<iq type='result'><conference-modified xmlns='jitsi:colibri2'/>"; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct {
		name, in, wantAttr, wantText, wantBack string
	}{
		{"markup", `a'b"c<d>e&f`, "a&apos;b&quot;c&lt;d&gt;e&amp;f", `a'b"c&lt;d&gt;e&amp;f`, `a'b"c<d>e&f`},
		{"whitespace", "t\tn\nr\r", "t&#x9;n&#xA;r&#xD;", "t\tn\nr&#xD;", "t\tn\nr\r"},
		{"control char", "a\x01b", "a\uFFFDb", "a\uFFFDb", "a\uFFFDb"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb", "a\uFFFDb", "a\uFFFDb"},
		{"non-characters", "a\uFFFEb\U0001F600", "a\uFFFDb\U0001F600", "a\uFFFDb\U0001F600", "a\uFFFDb\U0001F600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendEscaped(nil, tc.in, true)); got != tc.wantAttr {
				t.Errorf("attr: got %q, want %q", got, tc.wantAttr)
			}
			if got := string(appendEscaped(nil, tc.in, false)); got != tc.wantText {
				t.Errorf("text: got %q, want %q", got, tc.wantText)
			}
			// Through a real parser: attribute and text values survive unchanged.
			m := &ConferenceModified{Endpoints: []Endpoint{{ID: "x" + tc.in, StatsID: tc.in, Transport: &Transport{
				ICE: &ICEUDPTransport{Fingerprints: []Fingerprint{{Fingerprint: "x" + tc.in + "x"}}},
			}}}}
			back, err := DecodeConferenceModified(m.AppendXML(nil))
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, []string{back.Endpoints[0].ID, back.Endpoints[0].StatsID, back.Endpoints[0].Transport.ICE.Fingerprints[0].Fingerprint},
				[]string{"x" + tc.wantBack, tc.wantBack, "x" + tc.wantBack + "x"})
		})
	}
}

func TestErrorType(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Condition: CondBadRequest}, "modify"},
		{Error{Condition: CondItemNotFound}, "cancel"},
		{Error{Condition: CondConflict}, "cancel"},
		{Error{Condition: CondFeatureNotImplemented}, "cancel"},
		{Error{Condition: CondServiceUnavailable}, "cancel"},
		{Error{Condition: CondInternalServerError}, "cancel"},
		{Error{Condition: CondForbidden}, "auth"}, // RFC 6120 §8.3.3.5
		{Error{Condition: "resource-constraint"}, "wait"},
		{Error{}, "cancel"},
		{Error{Condition: CondBadRequest, Type: "cancel"}, "cancel"}, // explicit type wins
	}
	for _, tc := range tests {
		if got := tc.e.ErrorType(); got != tc.want {
			t.Errorf("%+v: ErrorType() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestErrorRoundTrip(t *testing.T) {
	tests := []*Error{
		{Condition: CondItemNotFound, Text: "Conference not found for ID: m", Reason: ReasonConferenceNotFound},
		{Condition: CondConflict, Text: "Conference already exists for ID: m", Reason: ReasonConferenceAlreadyExists},
		{Condition: CondServiceUnavailable, Text: "In graceful shutdown", Reason: ReasonGracefulShutdown},
		{Condition: CondFeatureNotImplemented, Text: "x", Reason: ReasonFeatureNotImplemented},
		{Condition: CondBadRequest, Text: "Invalid conference name (not a JID) <&>"},
		{Condition: CondInternalServerError},
	}
	for _, e := range tests {
		got, err := DecodeError(wrapError(e))
		if err != nil {
			t.Fatal(err)
		}
		want := *e
		want.Type = e.ErrorType()
		mustEqual(t, got, &want)
	}
}

func BenchmarkEncodeResponse1(b *testing.B) {
	m := wantResponse1()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendXML(buf[:0])
	}
}
