package colibri2

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// addGoldenSeeds adds every testdata stanza plus a few hand-written edge cases.
func addGoldenSeeds(f *testing.F, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// FuzzDecodeConferenceModify: the decoder never panics, every error wraps ErrMalformed, and a
// decoded request survives Decode(Encode(x)) unchanged.
func FuzzDecodeConferenceModify(f *testing.F) {
	addGoldenSeeds(f,
		req("<endpoint id='a&#xD;b' stats-id='&#x9;'><sources><media-source type='AUDIO' id=' '/></sources></endpoint>"),
		req(strings.Repeat("<x>", 40)),
		"<conference-modify xmlns='jitsi:colibri2' meeting-id='m' create='1' rtcstats-enabled='FALSE'/>",
	)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := DecodeConferenceModify(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		enc := m.AppendXML(nil)
		back, err := DecodeConferenceModify(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed the value\n first: %+v\nsecond: %+v\n%s", m, back, enc)
		}
	})
}

func FuzzDecodeConferenceModified(f *testing.F) {
	addGoldenSeeds(f, "<conference-modified xmlns='jitsi:colibri2'/>")
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := DecodeConferenceModified(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		enc := m.AppendXML(nil)
		back, err := DecodeConferenceModified(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed the value\n first: %+v\nsecond: %+v\n%s", m, back, enc)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	addGoldenSeeds(f,
		"<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><error xmlns='jitsi:colibri2'/></error>",
		"<error xmlns='jabber:client' type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'> a\r\nb </text></error>",
	)
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := DecodeError(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		enc := wrapError(e)
		back, err := DecodeError(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		want := *e
		want.Type = e.ErrorType()
		if !reflect.DeepEqual(back, &want) {
			t.Fatalf("round trip changed the value\n first: %+v\nsecond: %+v\n%s", &want, back, enc)
		}
	})
}
