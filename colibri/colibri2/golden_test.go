package colibri2

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	xmpp "github.com/xmppo/go-xmpp"
)

// Golden stanzas: the exact payloads of signaling.md §3–§4 (the IQ child only), in testdata/.

const meetingID = "beccf2ed-5441-4bfe-96d6-f0f3a6796378"

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func intPtr(n int) *int { return &n }

// videoFb is the rtcp-fb set Jicofo puts on every video codec (§3.4).
var videoFb = []RTCPFb{{Type: "ccm", Subtype: "fir"}, {Type: "nack"}, {Type: "nack", Subtype: "pli"}, {Type: "transport-cc"}}

func rtx(id uint8, apt string, fb []RTCPFb) PayloadType {
	return PayloadType{ID: id, Name: "rtx", ClockRate: 90000, Parameters: []Parameter{{Name: "apt", Value: apt}}, RTCPFbs: fb}
}

func opus() PayloadType {
	return PayloadType{
		ID: 111, Name: "opus", ClockRate: 48000, Channels: 2,
		Parameters: []Parameter{{Name: "minptime", Value: "10"}, {Name: "useinbandfec", Value: "1"}},
		RTCPFbs:    []RTCPFb{{Type: "transport-cc"}},
	}
}

const (
	uriTCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	uriMID = "urn:ietf:params:rtp-hdrext:sdes:mid"
)

// wantRequest1 is §4.2 request 1 with the full default media.
func wantRequest1() *ConferenceModify {
	rtxFb := videoFb[:3]
	return &ConferenceModify{
		MeetingID: meetingID, Name: "myroom@muc.meet.jitsi", Create: true, RTCStatsEnabled: true,
		Endpoints: []Endpoint{{
			ID: "79f0273e", Create: true, StatsID: "Garett-w1o",
			Media: []Media{{
				Type: "audio",
				PayloadTypes: []PayloadType{
					opus(),
					{ID: 126, Name: "telephone-event", ClockRate: 8000},
				},
				HeaderExtensions: []HeaderExtension{
					{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
					{ID: 10, URI: uriMID},
					{ID: 5, URI: uriTCC},
				},
				ExtmapAllowMixed: true,
			}, {
				Type: "video",
				PayloadTypes: []PayloadType{
					{ID: 41, Name: "AV1", ClockRate: 90000, RTCPFbs: videoFb},
					{ID: 100, Name: "VP8", ClockRate: 90000, RTCPFbs: videoFb},
					{ID: 107, Name: "H264", ClockRate: 90000, RTCPFbs: videoFb, Parameters: []Parameter{
						{Name: "profile-level-id", Value: "42e01f;level-asymmetry-allowed=1;packetization-mode=1;"}}},
					{ID: 101, Name: "VP9", ClockRate: 90000, RTCPFbs: videoFb},
					rtx(42, "41", rtxFb),
					rtx(96, "100", rtxFb),
					rtx(97, "101", rtxFb),
					rtx(99, "107", nil),
				},
				HeaderExtensions: []HeaderExtension{
					{ID: 11, URI: "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"},
					{ID: 10, URI: uriMID},
					{ID: 3, URI: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"},
					{ID: 5, URI: uriTCC},
				},
				ExtmapAllowMixed: true,
			}},
			Transport:    &Transport{ICEControlling: true, SCTP: &SCTP{}},
			Sources:      &Sources{},
			Capabilities: []string{CapSourceNames, CapSSRCRewriting},
		}},
	}
}

// simulcastSources is the §3.6 example: simulcast camera with RTX.
func simulcastSources() []MediaSource {
	v := func(ssrc uint32, vt string) Source { return Source{SSRC: ssrc, Name: "79f0273e-v0", VideoType: vt} }
	return []MediaSource{
		{Type: "audio", ID: "79f0273e-a0", Sources: []Source{{SSRC: 3166599606, Name: "79f0273e-a0"}}},
		{
			Type: "video", ID: "79f0273e-v0",
			Sources: []Source{v(437485591, "camera"), v(2958490935, ""), v(1565856603, ""), v(1153580044, ""), v(23279666, ""), v(382686375, "")},
			SSRCGroups: []SSRCGroup{
				{Semantics: "FID", SSRCs: []uint32{437485591, 2958490935}},
				{Semantics: "SIM", SSRCs: []uint32{437485591, 1565856603, 1153580044}},
				{Semantics: "FID", SSRCs: []uint32{1565856603, 23279666}},
				{Semantics: "FID", SSRCs: []uint32{1153580044, 382686375}},
			},
		},
	}
}

func update(ep Endpoint) *ConferenceModify {
	return &ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true, Endpoints: []Endpoint{ep}}
}

var goldenRequests = []struct {
	file string
	want *ConferenceModify
}{
	{"request1_create.xml", wantRequest1()},
	{"update_transport_sources.xml", update(Endpoint{
		ID: "79f0273e", StatsID: "Garett-w1o",
		Transport: &Transport{ICE: &ICEUDPTransport{
			Ufrag: "sXoJ", Pwd: "PirYicPKtYw4+mkIUOm1wWQm", RTCPMux: true,
			Fingerprints: []Fingerprint{{Hash: "sha-256", Setup: "active",
				Fingerprint: "BB:50:EE:83:47:4C:EB:04:4F:9E:32:5D:EC:42:9C:33:1E:E5:DF:17:46:C3:AA:20:E1:F5:C6:0B:E7:C4:78:BF"}},
		}},
		Sources:      &Sources{MediaSources: simulcastSources()},
		InitialLastN: intPtr(20),
	})},
	{"sources_update.xml", update(Endpoint{
		ID: "79f0273e", StatsID: "Garett-w1o",
		Sources: &Sources{MediaSources: append(simulcastSources(), MediaSource{
			Type: "video", ID: "79f0273e-v1",
			Sources: []Source{{
				SSRC: 2845211573, Name: "79f0273e-v1", VideoType: "desktop",
				Owner:      "myroom@muc.meet.jitsi/79f0273e",
				Parameters: []Parameter{{Name: "msid", Value: "screen-stream screen-track"}},
			}},
		})},
	})},
	{"ice_restart.xml", update(Endpoint{ID: "79f0273e", StatsID: "Garett-w1o", Transport: &Transport{ICERestart: true}})},
	{"goxmpp_dup_xmlns.xml", update(Endpoint{ID: "79f0273e", StatsID: "Garett-w1o", Transport: &Transport{ICERestart: true}})},
	{"force_mute_batch.xml", &ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true, Endpoints: []Endpoint{
		{ID: "79f0273e", ForceMute: &ForceMute{Audio: true}},
		{ID: "a1b2c3d4", ForceMute: &ForceMute{Audio: true, Video: true}},
		{ID: "0badcafe", ForceMute: &ForceMute{}},
	}}},
	{"endpoint_expire.xml", update(Endpoint{ID: "C", Expire: true})},
	{"conference_expire.xml", &ConferenceModify{MeetingID: meetingID, Expire: true, RTCStatsEnabled: true}},
	{"relay_create.xml", &ConferenceModify{MeetingID: meetingID, Relays: []Relay{{
		ID: "jvb-2-relay", Create: true, MeshID: "0",
		Media: []Media{
			{Type: "audio", PayloadTypes: []PayloadType{opus()},
				HeaderExtensions: []HeaderExtension{{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"}}},
			{Type: "video", PayloadTypes: []PayloadType{{ID: 100, Name: "VP8", ClockRate: 90000, RTCPFbs: []RTCPFb{{Type: "nack", Subtype: "pli"}}}},
				HeaderExtensions: []HeaderExtension{{ID: 3, URI: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"}}},
		},
		Transport: &Transport{UseUniquePort: true, ICEControlling: true, SCTP: &SCTP{Role: "client"}},
		Endpoints: &RelayEndpoints{Endpoints: []Endpoint{
			{ID: "e1e1e1e1", Create: true, StatsID: "Remote-1", Capabilities: []string{CapSourceNames},
				Sources: &Sources{MediaSources: []MediaSource{{Type: "audio", ID: "e1e1e1e1-a0",
					Sources: []Source{{SSRC: 1111, Name: "e1e1e1e1-a0"}}}}}},
			{ID: "f2f2f2f2", Expire: true},
		}},
	}}}},
	{"connects_unknown.xml", &ConferenceModify{
		MeetingID: "m-1", RTCStatsEnabled: true,
		Connects: &Connects{Connects: []Connect{{
			URL: "wss://transcriber.example.com/ws", Protocol: "mediajson", Type: "transcriber",
			Audio: true, ID: "t1", Create: true,
			HTTPHeaders: []HTTPHeader{{Name: "Authorization", Value: "Bearer abc&def"}},
			Ping:        &ConnectPing{Interval: "10000", Timeout: "5000"},
			Exports:     []string{"audio", "metadata"},
			Requests:    []string{"transcription"},
		}}},
		Endpoints: []Endpoint{{
			ID: "ep1", StatsID: "Ep-1", MucRole: "visitor", Diarize: true,
			ForceMute: &ForceMute{Audio: true}, Capabilities: []string{CapSourceNames},
		}},
	}},
}

// wantResponse1 is §4.2 response 1.
func wantResponse1() *ConferenceModified {
	return &ConferenceModified{
		Endpoints: []Endpoint{{
			ID: "79f0273e",
			Transport: &Transport{
				ICE: &ICEUDPTransport{
					Ufrag: "26ant1ioqu7qnr", Pwd: "9q8uj7tg6j4rc4i6ulc1pmsq9", RTCPMux: true,
					Fingerprints: []Fingerprint{{Hash: "sha-256", Setup: "actpass",
						Fingerprint: "F1:05:72:F8:F3:F4:B4:65:5B:9A:FC:81:24:11:23:78:D5:42:54:B1:F2:66:2F:82:CC:2B:01:1C:DB:98:BE:C0"}},
					Candidates: []Candidate{
						{Component: 1, Foundation: "1", ID: "5bbb5d5e101f870f0ffffffffdf286239", Priority: 2130706431,
							Protocol: "udp", Type: "host", IP: "172.18.0.4", Port: 10000},
						{Component: 1, Foundation: "2", ID: "56f8f898101f870f0fffffffff3be6336", Priority: 1694498815,
							Protocol: "udp", Type: "srflx", IP: "203.0.113.7", Port: 10000, RelAddr: "172.18.0.4", RelPort: 10000},
					},
				},
				SCTP: &SCTP{Port: 5000, Role: "server"},
			},
		}},
		Sources: &Sources{MediaSources: []MediaSource{
			{Type: "audio", ID: "jvb-a0", Sources: []Source{{SSRC: 3191927963, Name: "jvb-a0"}}},
			{Type: "video", ID: "jvb-v0", Sources: []Source{{SSRC: 1863439907, Name: "jvb-v0"}}},
		}},
	}
}

func wantUnknownEndpointError() *Error {
	return &Error{
		Condition: CondItemNotFound, Type: "cancel", Text: "Endpoint not found for ID: 79f0273e",
		Reason: ReasonUnknownEndpoint, EndpointID: "79f0273e",
	}
}

// mustEqual compares whole values and prints both as JSON when they differ.
func mustEqual(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("mismatch\n got: %s\nwant: %s", g, w)
	}
}

func TestDecodeConferenceModifyGolden(t *testing.T) {
	for _, tc := range goldenRequests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := DecodeConferenceModify(readGolden(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, got, tc.want)
		})
	}
}

// TestRequestRoundTrip checks Decode(Encode(x)) == x for every golden request value.
func TestRequestRoundTrip(t *testing.T) {
	for _, tc := range goldenRequests {
		t.Run(tc.file, func(t *testing.T) {
			enc := tc.want.AppendXML(nil)
			got, err := DecodeConferenceModify(enc)
			if err != nil {
				t.Fatalf("%v\n%s", err, enc)
			}
			mustEqual(t, got, tc.want)
		})
	}
}

// goXMPPIQ mirrors go-xmpp's clientIQ: the IQ child is unmarshalled into xmpp.XMLElement and
// re-marshalled with encoding/xml, which duplicates the xmlns attribute on the root.
type goXMPPIQ struct {
	XMLName xml.Name        `xml:"jabber:client iq"`
	Query   xmpp.XMLElement `xml:",any"`
}

func TestGoXMPPRemarshal(t *testing.T) {
	for _, tc := range goldenRequests {
		t.Run(tc.file, func(t *testing.T) {
			iq := "<iq xmlns='jabber:client' type='get' id='J7m2k-41'>" + string(tc.want.AppendXML(nil)) + "</iq>"
			var v goXMPPIQ
			if err := xml.Unmarshal([]byte(iq), &v); err != nil {
				t.Fatal(err)
			}
			payload, err := xml.Marshal(v.Query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeConferenceModify(payload)
			if err != nil {
				t.Fatalf("%v\n%s", err, payload)
			}
			mustEqual(t, got, tc.want)
		})
	}
}

func TestDecodeConferenceModifiedGolden(t *testing.T) {
	got, err := DecodeConferenceModified(readGolden(t, "response1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, wantResponse1())
}

func TestEncodeResponse1MatchesGolden(t *testing.T) {
	got := wantResponse1().AppendXML(nil)
	mustEqual(t, canonical(t, got), canonical(t, readGolden(t, "response1.xml")))
}

func TestEncodeErrorMatchesGolden(t *testing.T) {
	e := wantUnknownEndpointError()
	e.Type = "" // derived from the condition
	got := wrapError(e)
	mustEqual(t, canonical(t, got), canonical(t, readGolden(t, "error_unknown_endpoint.xml")))
}

func TestDecodeErrorGolden(t *testing.T) {
	got, err := DecodeError(readGolden(t, "error_unknown_endpoint.xml"))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, wantUnknownEndpointError())
}

// wrapError writes the enclosing <error type> the way the XMPP layer is expected to.
func wrapError(e *Error) []byte {
	b := openElem(nil, "error", "")
	b = appendAttr(b, "type", e.ErrorType())
	b = append(b, '>')
	b = e.AppendXML(b)
	return append(b, "</error>"...)
}

// node is a namespace-resolved XML tree: attribute order, quote style, prefixes, namespace
// declarations and whitespace between elements do not matter.
type node struct {
	Name     xml.Name
	Attrs    map[xml.Name]string
	Text     string
	Children []*node
}

func canonical(t testing.TB, b []byte) *node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err != nil {
			if root != nil && len(stack) == 0 {
				return root
			}
			t.Fatalf("canonical: %v\n%s", err, b)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tk.Name, Attrs: map[xml.Name]string{}}
			for _, a := range tk.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.Attrs[a.Name] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(bytes.TrimSpace(tk))
			}
		}
	}
}
