package colibri2

import (
	"errors"
	"strings"
	"testing"
)

// req wraps body in a minimal valid <conference-modify>.
func req(body string) string {
	return "<conference-modify xmlns='jitsi:colibri2' meeting-id='m'>" + body + "</conference-modify>"
}

func ep(body string) string {
	return req("<endpoint xmlns='jitsi:colibri2' id='e'>" + body + "</endpoint>")
}

func TestDecodeConferenceModifyMalformed(t *testing.T) {
	tests := []struct {
		name, payload, wantMsg string
	}{
		{"not XML", "garbage", "text before the root element"},
		{"only whitespace", " \n ", "unexpected end of XML"},
		{"empty", "", "unexpected end of XML"},
		{"text before root", "x<conference-modify xmlns='jitsi:colibri2' meeting-id='m'/>", "text before the root element"},
		{"wrong root", "<conference-modified xmlns='jitsi:colibri2'/>", "root element is {jitsi:colibri2}conference-modified"},
		{"root without namespace", "<conference-modify meeting-id='m'/>", "root element is {}conference-modify"},
		{"truncated", "<conference-modify xmlns='jitsi:colibri2' meeting-id='m'><endpoint id='e'>", "unexpected EOF"},
		{"mismatched tags", "<conference-modify xmlns='jitsi:colibri2' meeting-id='m'><a></b></conference-modify>", "element <a> closed by </b>"},
		{"undefined entity", req("<endpoint id='&foo;'/>"), "invalid character entity &foo;"},
		{"missing meeting-id", "<conference-modify xmlns='jitsi:colibri2'/>", `<conference-modify>: missing or blank attribute "meeting-id"`},
		{"blank meeting-id", "<conference-modify xmlns='jitsi:colibri2' meeting-id='  '/>", `missing or blank attribute "meeting-id"`},
		{"invalid create", "<conference-modify xmlns='jitsi:colibri2' meeting-id='m' create='yes'/>", `attribute "create": "yes" is not a boolean`},
		{"invalid rtcstats-enabled", "<conference-modify xmlns='jitsi:colibri2' meeting-id='m' rtcstats-enabled=''/>", `attribute "rtcstats-enabled": "" is not a boolean`},
		{"endpoint without id", req("<endpoint/>"), `<endpoint>: missing or blank attribute "id"`},
		{"relay without id", req("<relay/>"), `<relay>: missing or blank attribute "id"`},
		{"invalid muc-role", req("<endpoint id='e' muc-role='owner'/>"), `attribute "muc-role": "owner" is not one of moderator, participant, visitor, none`},
		{"media without type", ep("<media/>"), `endpoint "e": colibri2: malformed: <media>: missing attribute "type"`},
		{"media with invalid type", ep("<media type='data'/>"), `attribute "type": "data" is not one of audio, video`},
		{"payload-type without id", ep("<media type='audio'><payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' name='opus'/></media>"), `<payload-type>: missing attribute "id"`},
		{"payload-type id out of range", ep("<media type='audio'><payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='128'/></media>"), `"128" is not an integer in [0, 127]`},
		{"non-numeric clockrate", ep("<media type='audio'><payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='1' clockrate='fast'/></media>"), `attribute "clockrate": "fast"`},
		{"rtp-hdrext id 0", ep("<media type='audio'><rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='0' uri='u'/></media>"), `"0" is not an integer in [1, 255]`},
		{"sctp non-integer port", ep("<transport><sctp port='five'/></transport>"), `<sctp>: attribute "port": "five" is not an integer in [0, 65535]`},
		{"sctp port out of range", ep("<transport><sctp port='70000'/></transport>"), `"70000" is not an integer in [0, 65535]`},
		{"sctp invalid role", ep("<transport><sctp role='peer'/></transport>"), `attribute "role": "peer" is not one of server, client`},
		{"invalid ice-restart", ep("<transport ice-restart='maybe'/>"), `attribute "ice-restart": "maybe" is not a boolean`},
		{"negative ice-generation", ep("<transport><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ice-generation='-1'/></transport>"), `attribute "ice-generation": "-1"`},
		{"candidate bad port", ep("<transport><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate port='x'/></transport></transport>"), `<candidate>: attribute "port": "x"`},
		{"media-source without type", ep("<sources><media-source id='e-a0'/></sources>"), `<media-source>: missing attribute "type"`},
		{"media-source without id", ep("<sources><media-source type='audio'/></sources>"), `<media-source>: missing or blank attribute "id"`},
		{"non-numeric ssrc", ep("<sources><media-source type='audio' id='a'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='abc'/></media-source></sources>"), `<source>: attribute "ssrc": "abc" is not an integer in [0, 4294967295]`},
		{"ssrc above 32 bits", ep("<sources><media-source type='audio' id='a'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4294967296'/></media-source></sources>"), `"4294967296" is not an integer`},
		{"source without ssrc", ep("<sources><media-source type='audio' id='a'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' name='a'/></media-source></sources>"), `<source>: missing attribute "ssrc"`},
		{"ssrc-group with bad ssrc", ep("<sources><media-source type='video' id='v'><ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='1'/><source ssrc='-2'/></ssrc-group></media-source></sources>"), `attribute "ssrc": "-2"`},
		{"force-mute invalid", ep("<force-mute audio='on'/>"), `<force-mute>: attribute "audio": "on" is not a boolean`},
		{"capability without name", ep("<capability/>"), `<capability>: missing or blank attribute "name"`},
		{"initial-last-n without value", ep("<initial-last-n/>"), `<initial-last-n>: missing attribute "value"`},
		{"initial-last-n non-numeric", ep("<initial-last-n value='all'/>"), `attribute "value": "all"`},
		{"relay endpoint without id", req("<relay id='r'><endpoints><endpoint create='true'/></endpoints></relay>"), `relay "r": colibri2: malformed: <endpoint>: missing or blank attribute "id"`},
		{"connect invalid boolean", req("<connects><connect audio='y'/></connects>"), `<connect>: attribute "audio": "y" is not a boolean`},
		{"error inside unknown element", req("<unknown><x></y></unknown>"), "element <x> closed by </y>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConferenceModify([]byte(tc.payload))
			if err == nil {
				t.Fatalf("decoded %+v, want error", got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestDecodeBooleans(t *testing.T) {
	tests := []struct {
		attr      string
		wantValue bool
		wantErr   bool
	}{
		{"", false, false}, // absent: default
		{" create='true'", true, false},
		{" create='TRUE'", true, false},
		{" create='True'", true, false},
		{" create='1'", true, false},
		{" create='false'", false, false},
		{" create='FaLsE'", false, false},
		{" create='0'", false, false},
		{" create='yes'", false, true},
		{" create=' true'", false, true},
		{" create='2'", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.attr, func(t *testing.T) {
			got, err := DecodeConferenceModify([]byte("<conference-modify xmlns='jitsi:colibri2' meeting-id='m'" + tc.attr + "/>"))
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, got, &ConferenceModify{MeetingID: "m", Create: tc.wantValue, RTCStatsEnabled: true})
		})
	}
}

func TestDecodeRTCStatsEnabledDefaultsTrue(t *testing.T) {
	tests := []struct {
		attr string
		want bool
	}{
		{"", true},
		{" rtcstats-enabled='true'", true},
		{" rtcstats-enabled='false'", false},
		{" rtcstats-enabled='FALSE'", false},
		{" rtcstats-enabled='0'", false},
	}
	for _, tc := range tests {
		got, err := DecodeConferenceModify([]byte("<conference-modify xmlns='jitsi:colibri2' meeting-id='m'" + tc.attr + "/>"))
		if err != nil {
			t.Fatal(err)
		}
		if got.RTCStatsEnabled != tc.want {
			t.Errorf("%q: RTCStatsEnabled = %v, want %v", tc.attr, got.RTCStatsEnabled, tc.want)
		}
	}
}

// TestDecodeNamespaces covers namespace inheritance and prefixes: matching is by resolved
// namespace, never by the literal prefix or the repeated xmlns.
func TestDecodeNamespaces(t *testing.T) {
	want := &ConferenceModify{MeetingID: "m", RTCStatsEnabled: true, Endpoints: []Endpoint{{
		ID: "e",
		Transport: &Transport{ICE: &ICEUDPTransport{
			Ufrag: "u", RTCPMux: true,
			Candidates: []Candidate{{Component: 1, Port: 9}},
		}},
	}}}
	tests := []struct{ name, payload string }{
		{"default namespaces", req("<endpoint id='e'><transport><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u'><rtcp-mux/><candidate component='1' port='9'/></transport></transport></endpoint>")},
		{"prefixes", "<c:conference-modify xmlns:c='jitsi:colibri2' xmlns:i='urn:xmpp:jingle:transports:ice-udp:1' meeting-id='m'><c:endpoint id='e'><c:transport><i:transport ufrag='u'><i:rtcp-mux/><i:candidate component='1' port='9'/></i:transport></c:transport></c:endpoint></c:conference-modify>"},
		{"redundant xmlns everywhere", "<conference-modify xmlns='jitsi:colibri2' xmlns='jitsi:colibri2' meeting-id='m'><endpoint xmlns='jitsi:colibri2' id='e'><transport xmlns='jitsi:colibri2'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u'><rtcp-mux xmlns='urn:xmpp:jingle:transports:ice-udp:1'/><candidate component='1' port='9'/></transport></transport></endpoint></conference-modify>"},
		{"wrong-namespace twins ignored", req("<endpoint id='e'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='x'/><transport><rtcp-mux/><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u'><rtcp-mux/><candidate component='1' port='9'/><fingerprint>AA</fingerprint></transport></transport><x:sources xmlns:x='urn:other'/></endpoint>")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConferenceModify([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, got, want)
		})
	}
}

// TestDecodeLastSingletonWins: repeated singleton children keep the last one, like Smack's
// builders; repeated lists accumulate.
func TestDecodeLastSingletonWins(t *testing.T) {
	payload := ep("<force-mute audio='true'/><force-mute video='true'/><initial-last-n value='1'/><initial-last-n value='-1'/><capability name='a'/><capability name='b'/>")
	got, err := DecodeConferenceModify([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, &ConferenceModify{MeetingID: "m", RTCStatsEnabled: true, Endpoints: []Endpoint{{
		ID: "e", ForceMute: &ForceMute{Video: true}, InitialLastN: intPtr(-1), Capabilities: []string{"a", "b"},
	}}})
}

func TestDecodeFingerprintAndCandidateDetails(t *testing.T) {
	payload := ep("<transport><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u' pwd='p' ice-generation='2'>" +
		"<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='passive' required='true' cryptex='true'>\n  AB:CD\n</fingerprint>" +
		"<candidate component='1' foundation='f' generation='1' id='c1' network='3' priority='4294967295' protocol='tcp' type='host' ip='::1' port='443' tcptype='passive'/>" +
		"<web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://h/colibri-ws/x?pwd=a&amp;b'/>" +
		"<web-socket xmlns='http://jitsi.org/protocol/colibri' active='true'/>" +
		"</transport></transport>")
	got, err := DecodeConferenceModify([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got.Endpoints[0].Transport, &Transport{ICE: &ICEUDPTransport{
		Ufrag: "u", Pwd: "p", ICEGeneration: intPtr(2),
		Fingerprints: []Fingerprint{{Hash: "sha-256", Setup: "passive", Required: "true", Cryptex: true, Fingerprint: "AB:CD"}},
		Candidates: []Candidate{{Component: 1, Foundation: "f", Generation: 1, ID: "c1", Network: 3, Priority: 4294967295,
			Protocol: "tcp", Type: "host", IP: "::1", Port: 443, TCPType: "passive"}},
		WebSockets: []WebSocket{{URL: "wss://h/colibri-ws/x?pwd=a&b"}, {Active: true}},
	}})
}

func TestDecodeParametersAcceptRTPNamespace(t *testing.T) {
	payload := ep("<media type='video'><rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='2' uri='u' senders='sendonly'>" +
		"<parameter name='attributes' value='x'/><parameter xmlns='urn:xmpp:jingle:apps:rtp:1' name='p' value='y'/>" +
		"<parameter xmlns='urn:other' name='ignored' value='z'/></rtp-hdrext>" +
		"<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='112' name='red' clockrate='48000'><parameter value='111/111'/></payload-type></media>")
	got, err := DecodeConferenceModify([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got.Endpoints[0].Media, []Media{{
		Type:             "video",
		PayloadTypes:     []PayloadType{{ID: 112, Name: "red", ClockRate: 48000, Parameters: []Parameter{{Value: "111/111"}}}},
		HeaderExtensions: []HeaderExtension{{ID: 2, URI: "u", Senders: "sendonly", Parameters: []Parameter{{Name: "attributes", Value: "x"}, {Name: "p", Value: "y"}}}},
	}})
}

func TestDecodeNormalisesCase(t *testing.T) {
	payload := req("<endpoint id='e' muc-role='MODERATOR'><media type='Audio'/><transport><sctp role='Server'/></transport>" +
		"<sources><media-source type='VIDEO' id='e-v0' synthetic='true'/></sources></endpoint>")
	got, err := DecodeConferenceModify([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got.Endpoints[0], Endpoint{
		ID: "e", MucRole: "moderator", Media: []Media{{Type: "audio"}},
		Transport: &Transport{SCTP: &SCTP{Role: "server"}},
		Sources:   &Sources{MediaSources: []MediaSource{{Type: "video", ID: "e-v0", Synthetic: true}}},
	})
}

func TestDecodeLimits(t *testing.T) {
	deep := strings.Repeat("<x>", maxDepth) + strings.Repeat("</x>", maxDepth)
	shallow := strings.Repeat("<x>", maxDepth-2) + strings.Repeat("</x>", maxDepth-2)
	endpoints := func(n int) string { return req(strings.Repeat("<endpoint id='e' expire='true'/>", n)) }
	sources := func(n int) string {
		return ep("<sources><media-source type='audio' id='a'>" +
			strings.Repeat("<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1'/>", n/2) +
			"<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'>" + strings.Repeat("<source ssrc='1'/>", n-n/2) + "</ssrc-group>" +
			"</media-source></sources>")
	}
	tests := []struct {
		name, payload, wantMsg string
	}{
		{"depth at limit", req(shallow), ""},
		{"depth over limit", req(deep), "nested deeper than 32"},
		{"endpoints at limit", endpoints(maxEndpoints), ""},
		{"endpoints over limit", endpoints(maxEndpoints + 1), "more than 1000 endpoints"},
		{"sources at limit", sources(maxSources), ""},
		{"sources over limit", sources(maxSources + 1), "more than 10000 sources"},
		{"elements over limit", req(strings.Repeat("<u/>", maxElements)), "more than 100000 elements"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeConferenceModify([]byte(tc.payload))
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want ErrMalformed with %q", err, tc.wantMsg)
			}
		})
	}
}

func TestDecodeConferenceModifiedErrors(t *testing.T) {
	tests := []struct{ name, payload, wantMsg string }{
		{"request instead of response", "<conference-modify xmlns='jitsi:colibri2' meeting-id='m'/>", "want {jitsi:colibri2}conference-modified"},
		{"endpoint without id", "<conference-modified xmlns='jitsi:colibri2'><endpoint/></conference-modified>", `missing or blank attribute "id"`},
		{"feedback source bad ssrc", "<conference-modified xmlns='jitsi:colibri2'><sources><media-source type='audio' id='jvb-a0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='x'/></media-source></sources></conference-modified>", `"x" is not an integer`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeConferenceModified([]byte(tc.payload))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want ErrMalformed with %q", err, tc.wantMsg)
			}
		})
	}
}

func TestDecodeConferenceModifiedEmptyAndExpire(t *testing.T) {
	tests := []struct {
		payload string
		want    *ConferenceModified
	}{
		{"<conference-modified xmlns='jitsi:colibri2'/>", &ConferenceModified{}},
		{"<conference-modified xmlns='jitsi:colibri2'><endpoint xmlns='jitsi:colibri2' id='C' expire='true'/></conference-modified>",
			&ConferenceModified{Endpoints: []Endpoint{{ID: "C", Expire: true}}}},
		{"<conference-modified xmlns='jitsi:colibri2'><relay xmlns='jitsi:colibri2' id='R'/><sources xmlns='jitsi:colibri2'/></conference-modified>",
			&ConferenceModified{Relays: []Relay{{ID: "R"}}, Sources: &Sources{}}},
	}
	for _, tc := range tests {
		got, err := DecodeConferenceModified([]byte(tc.payload))
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, got, tc.want)
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name, payload string
		want          *Error
		wantMsg       string
	}{
		{
			name:    "graceful shutdown in jabber:client",
			payload: "<error xmlns='jabber:client' type='cancel' code='503'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>In graceful shutdown</text><error xmlns='jitsi:colibri2' reason='GRACEFUL_SHUTDOWN'/></error>",
			want:    &Error{Condition: CondServiceUnavailable, Type: "cancel", Text: "In graceful shutdown", Reason: ReasonGracefulShutdown},
		},
		{
			name:    "colibri2 error without reason is unspecified",
			payload: "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><error xmlns='jitsi:colibri2'/></error>",
			want:    &Error{Condition: CondConflict, Type: "cancel", Reason: ReasonUnspecified},
		},
		{
			name:    "plain XMPP error has no reason",
			payload: "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'> Source name support is mandatory. </text><unknown/></error>",
			want:    &Error{Condition: CondBadRequest, Type: "modify", Text: " Source name support is mandatory. "},
		},
		{name: "invalid reason", payload: "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><error xmlns='jitsi:colibri2' reason='conference-not-found'/></error>", wantMsg: `"conference-not-found" is not a colibri2 error reason`},
		{name: "no condition", payload: "<error type='cancel'><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>x</text></error>", wantMsg: "no stanza error condition"},
		{name: "endpoint without id", payload: "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><endpoint xmlns='jitsi:colibri2'/></error>", wantMsg: `missing or blank attribute "id"`},
		{name: "not an error", payload: "<conference-modified xmlns='jitsi:colibri2'/>", wantMsg: "want an XMPP <error/>"},
		{name: "colibri2 error as root", payload: "<error xmlns='jitsi:colibri2' reason='unspecified'/>", wantMsg: "want an XMPP <error/>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeError([]byte(tc.payload))
			if tc.wantMsg != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want ErrMalformed with %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, got, tc.want)
		})
	}
}

func BenchmarkDecodeRequest1(b *testing.B) {
	payload := readGolden(b, "request1_create.xml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeConferenceModify(payload); err != nil {
			b.Fatal(err)
		}
	}
}
