package demo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeClientMessage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want clientMessage
		err  string
	}{
		{"join", `{"type":"join","room":"r","name":"Al"}`, clientMessage{Type: "join", Room: "r", Name: "Al"}, ""},
		{"leave with spaces", " {\"type\":\"leave\"}\n", clientMessage{Type: "leave"}, ""},
		{"accept", `{"type":"accept","transport":{"ufrag":"u","pwd":"p","fingerprints":[{"hash":"sha-256","setup":"active","value":"v"}],
			"candidates":[{"foundation":"1","component":1,"protocol":"udp","priority":5,"ip":"127.0.0.1","port":9,"type":"host","generation":0}]},
			"sources":[{"type":"audio","ssrcs":[1]},{"type":"video","ssrcs":[2,3],"groups":[{"semantics":"FID","ssrcs":[2,3]}]}]}`,
			clientMessage{Type: "accept",
				Transport: &wireTransport{Ufrag: "u", Pwd: "p", Fingerprints: []wireFingerprint{{Hash: "sha-256", Setup: "active", Value: "v"}},
					Candidates: []wireCandidate{{Foundation: "1", Component: 1, Protocol: "udp", Priority: 5, IP: "127.0.0.1", Port: 9, Type: "host"}}},
				Sources: []wireSource{{Type: "audio", SSRCs: []uint32{1}},
					{Type: "video", SSRCs: []uint32{2, 3}, Groups: []wireGroup{{Semantics: "FID", SSRCs: []uint32{2, 3}}}}}}, ""},
		{"unknown type", `{"type":"dance"}`, clientMessage{}, `unknown type "dance"`},
		{"no type", `{"room":"r"}`, clientMessage{}, "no type"},
		{"unknown field", `{"type":"join","room":"r","admin":true}`, clientMessage{}, "unknown field"},
		{"not an object", `["join"]`, clientMessage{}, "cannot unmarshal"},
		{"trailing data", `{"type":"leave"}{"type":"leave"}`, clientMessage{}, "data after"},
		{"trailing brace", `{"type":"leave"}}`, clientMessage{}, "data after"},
		{"ssrc out of range", `{"type":"accept","sources":[{"type":"audio","ssrcs":[4294967296]}]}`, clientMessage{}, "cannot unmarshal"},
		{"negative ssrc", `{"type":"accept","sources":[{"type":"audio","ssrcs":[-1]}]}`, clientMessage{}, "cannot unmarshal"},
		{"too big", `{"type":"join","name":"` + strings.Repeat("x", maxMessageBytes) + `"}`, clientMessage{}, "bytes (limit"},
		{"empty", ``, clientMessage{}, "EOF"},
	}
	for _, tt := range tests {
		got, err := decodeClientMessage([]byte(tt.in))
		if tt.err == "" {
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrMessage) || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err = %v, want ErrMessage containing %q", tt.name, err, tt.err)
		}
	}
}
