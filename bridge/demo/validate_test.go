package demo

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

const chromeFingerprint = "BB:50:EE:83:47:4C:EB:04:4F:9E:32:5D:EC:42:9C:33:1E:E5:DF:17:46:C3:AA:20:E1:F5:C6:0B:E7:C4:78:BF"

func TestValidRoom(t *testing.T) {
	long := strings.Repeat("a", maxRoomLen)
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"MyRoom", "myroom", true},
		{"team-1_x.y", "team-1_x.y", true},
		{long, long, true},
		{long + "a", "", false},
		{"", "", false},
		{"a b", "", false},
		{"room@muc", "", false},
		{"ümlaut", "", false},
		{"../etc", "", false},
	}
	for _, tt := range tests {
		got, err := validRoom(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("validRoom(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && err.Code != codeInvalidRoom {
			t.Errorf("validRoom(%q) code %q", tt.in, err.Code)
		}
	}
}

func TestValidDisplayName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"  Alice  ", "Alice", true},
		{"Zoë 🎥", "Zoë 🎥", true},
		{strings.Repeat("é", maxNameRunes), strings.Repeat("é", maxNameRunes), true},
		{strings.Repeat("é", maxNameRunes+1), "", false},
		{"   ", "", false},
		{"a\x00b", "", false},
		{"a\nb", "", false},
		{"bad \xff utf8", "", false},
	}
	for _, tt := range tests {
		got, err := validDisplayName(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("validDisplayName(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// chromeTransport is a transport as the page reads it from Chrome's answer.
func chromeTransport() *wireTransport {
	return &wireTransport{Ufrag: "sXoJ", Pwd: "PirYicPKtYw4+mkIUOm1wWQm",
		Fingerprints: []wireFingerprint{{Hash: "SHA-256", Setup: "active", Value: strings.ToLower(chromeFingerprint)}},
		Candidates: []wireCandidate{
			{Foundation: "1467250027", Component: 1, Protocol: "udp", Priority: 2122260223, IP: "127.0.0.1", Port: 52034, Type: "host"},
			{Foundation: "842163049", Component: 1, Protocol: "UDP", Priority: 1686052607, IP: "203.0.113.9", Port: 52034,
				Type: "srflx", RelAddr: "127.0.0.1", RelPort: 52034},
		}}
}

func TestAnsweredTransport(t *testing.T) {
	got, err := answeredTransport(chromeTransport())
	if err != nil {
		t.Fatal(err)
	}
	want := &colibri2.ICEUDPTransport{Ufrag: "sXoJ", Pwd: "PirYicPKtYw4+mkIUOm1wWQm", RTCPMux: true,
		Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "active", Fingerprint: chromeFingerprint}},
		Candidates: []colibri2.Candidate{
			{Component: 1, Foundation: "1467250027", Priority: 2122260223, Protocol: "udp", Type: "host", IP: "127.0.0.1", Port: 52034},
			{Component: 1, Foundation: "842163049", Priority: 1686052607, Protocol: "udp", Type: "srflx", IP: "203.0.113.9",
				Port: 52034, RelAddr: "127.0.0.1", RelPort: 52034},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answeredTransport =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAnsweredTransportRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*wireTransport)
		want   string // part of the message
	}{
		{"short ufrag", func(w *wireTransport) { w.Ufrag = "abc" }, "ice-ufrag"},
		{"ufrag with space", func(w *wireTransport) { w.Ufrag = "ab cd" }, "ice-ufrag"},
		{"short pwd", func(w *wireTransport) { w.Pwd = "short" }, "ice-pwd"},
		{"no fingerprint", func(w *wireTransport) { w.Fingerprints = nil }, "fingerprints"},
		{"actpass", func(w *wireTransport) { w.Fingerprints[0].Setup = "actpass" }, "setup must be active or passive"},
		{"md5", func(w *wireTransport) { w.Fingerprints[0].Hash = "md5" }, "unsupported fingerprint hash"},
		{"short value", func(w *wireTransport) { w.Fingerprints[0].Value = "AB:CD" }, "32 colon-separated hex bytes"},
		{"not hex", func(w *wireTransport) { w.Fingerprints[0].Value = strings.Replace(chromeFingerprint, "BB", "XY", 1) }, "hex bytes"},
		{"web socket", func(w *wireTransport) { w.WebSockets = []string{"ws://x"} }, "web-socket"},
		{"tcp", func(w *wireTransport) { w.Candidates[0].Protocol = "tcp" }, "candidate 0: only UDP"},
		{"mdns", func(w *wireTransport) { w.Candidates[1].IP = "6a2b.local" }, "candidate 1: address"},
		{"rtcp component", func(w *wireTransport) { w.Candidates[0].Component = 2 }, "component"},
		{"port", func(w *wireTransport) { w.Candidates[0].Port = 70000 }, "port 70000"},
		{"type", func(w *wireTransport) { w.Candidates[0].Type = "bogus" }, "unknown candidate type"},
		{"foundation", func(w *wireTransport) { w.Candidates[0].Foundation = "" }, "foundation"},
		{"rel addr", func(w *wireTransport) { w.Candidates[1].RelAddr = "x" }, "related address"},
		{"too many", func(w *wireTransport) {
			for len(w.Candidates) <= maxCandidates {
				w.Candidates = append(w.Candidates, w.Candidates[0])
			}
		}, "at most 16"},
	}
	for _, tt := range tests {
		w := chromeTransport()
		tt.mutate(w)
		_, err := answeredTransport(w)
		if err == nil || err.Code != codeInvalidTransport || !strings.Contains(err.Message, tt.want) {
			t.Errorf("%s: err = %v, want invalid-transport containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := answeredTransport(nil); err == nil {
		t.Error("nil transport accepted")
	}
}

// simulcastAnswer is what the page reads from its munged answer: audio, and a camera with three
// layers and RTX, in Chrome's SSRC order.
func simulcastAnswer() []wireSource {
	return []wireSource{
		{Type: "audio", SSRCs: []uint32{1000}},
		{Type: "video", SSRCs: []uint32{11, 21, 12, 22, 13, 23}, Groups: []wireGroup{
			{Semantics: "FID", SSRCs: []uint32{11, 21}}, {Semantics: "FID", SSRCs: []uint32{12, 22}},
			{Semantics: "FID", SSRCs: []uint32{13, 23}}, {Semantics: "SIM", SSRCs: []uint32{11, 12, 13}},
		}},
	}
}

func TestAnsweredSources(t *testing.T) {
	got, err := answeredSources("ab12cd34", simulcastAnswer())
	if err != nil {
		t.Fatal(err)
	}
	v := "ab12cd34-v0"
	want := &colibri2.Sources{MediaSources: []colibri2.MediaSource{
		{Type: "audio", ID: "ab12cd34-a0", Sources: []colibri2.Source{{SSRC: 1000, Name: "ab12cd34-a0"}}},
		{Type: "video", ID: v, Sources: []colibri2.Source{{SSRC: 11, Name: v, VideoType: "camera"}, {SSRC: 21, Name: v},
			{SSRC: 12, Name: v}, {SSRC: 22, Name: v}, {SSRC: 13, Name: v}, {SSRC: 23, Name: v}},
			SSRCGroups: []colibri2.SSRCGroup{{Semantics: "FID", SSRCs: []uint32{11, 21}}, {Semantics: "FID", SSRCs: []uint32{12, 22}},
				{Semantics: "FID", SSRCs: []uint32{13, 23}}, {Semantics: "SIM", SSRCs: []uint32{11, 12, 13}}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answeredSources =\n%+v\nwant\n%+v", got, want)
	}
	// No sources at all (a page without camera and microphone) is an empty set, as Jicofo sends.
	if got, err := answeredSources("x", nil); err != nil || !reflect.DeepEqual(got, &colibri2.Sources{}) {
		t.Errorf("no sources = %+v, %v", got, err)
	}
}

func TestAnsweredSourcesRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func([]wireSource) []wireSource
		want   string
	}{
		{"two audio", func(s []wireSource) []wireSource { return append(s, s[0]) }, "one audio source"},
		{"two video", func(s []wireSource) []wireSource { return append(s, s[1]) }, "one video source"},
		{"data", func(s []wireSource) []wireSource { return append(s, wireSource{Type: "data", SSRCs: []uint32{5}}) }, "unknown source type"},
		{"audio two ssrcs", func(s []wireSource) []wireSource { s[0].SSRCs = []uint32{1, 2}; return s }, "exactly one"},
		{"audio ssrc 0", func(s []wireSource) []wireSource { s[0].SSRCs = []uint32{0}; return s }, "exactly one non-zero"},
		{"audio group", func(s []wireSource) []wireSource { s[0].Groups = s[1].Groups; return s }, "no SSRC groups"},
		{"video too many", func(s []wireSource) []wireSource { s[1].SSRCs = append(s[1].SSRCs, 99); return s }, "1 to 6 SSRCs"},
		{"video ssrc 0", func(s []wireSource) []wireSource { s[1].SSRCs[5] = 0; return s }, "SSRC 0"},
		{"unlisted", func(s []wireSource) []wireSource { s[1].Groups[0].SSRCs[1] = 77; return s }, "not listed"},
		{"two SIM", func(s []wireSource) []wireSource {
			s[1].Groups = append(s[1].Groups[:2], wireGroup{Semantics: "SIM", SSRCs: []uint32{11}}, wireGroup{Semantics: "SIM", SSRCs: []uint32{12}})
			return s
		}, "one SIM group"},
		{"FID of three", func(s []wireSource) []wireSource { s[1].Groups[0].SSRCs = []uint32{11, 21, 12}; return s }, "FID group"},
		{"shared RTX", func(s []wireSource) []wireSource { s[1].Groups[1].SSRCs = []uint32{12, 21}; return s }, "FID group"},
		{"FEC", func(s []wireSource) []wireSource { s[1].Groups[0].Semantics = "FEC-FR"; return s }, "unsupported SSRC group"},
		{"duplicate across", func(s []wireSource) []wireSource { s[0].SSRCs = []uint32{11}; return s }, "listed twice"},
		{"duplicate within", func(s []wireSource) []wireSource { s[1] = wireSource{Type: "video", SSRCs: []uint32{5, 5}}; return s }, "listed twice"},
	}
	for _, tt := range tests {
		_, err := answeredSources("ep", tt.mutate(simulcastAnswer()))
		if err == nil || err.Code != codeInvalidSources || !strings.Contains(err.Message, tt.want) {
			t.Errorf("%s: err = %v, want invalid-sources containing %q", tt.name, err, tt.want)
		}
	}
}
