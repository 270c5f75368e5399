package bridgechannel

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// normalized replaces the raw passthrough fields, whose bytes legitimately change when `from`
// is rewritten, by their parsed form so that round trips compare by meaning.
func normalized(t *testing.T, m Message) any {
	t.Helper()
	parse := func(b []byte) any {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("raw field is not JSON: %v: %q", err, b)
		}
		return v
	}
	switch m := m.(type) {
	case *EndpointStats:
		return struct {
			From string
			Raw  any
		}{m.From, parse(m.Raw)}
	case *EndpointMessage:
		c := *m
		if c.MsgPayload != nil {
			return struct {
				EndpointMessage
				Payload any
			}{EndpointMessage{To: c.To, From: c.From}, parse(c.MsgPayload)}
		}
		return c
	}
	return m
}

// FuzzDecode: Decode never panics, errors wrap a sentinel, and a decoded message re-encodes to
// valid JSON that decodes to the same value.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"colibriClass":"ClientHello"}`,
		`{"colibriClass":"EndpointMessage","to":"","msgPayload":{"type":"e2e-ping-request","id":1}}`,
		`{"colibriClass":"EndpointMessage","to":"","fr\u006fm":"x","from":1,"msgPayload":null}`,
		endpointStatsExample,
		`{"colibriClass":"ReceiverVideoConstraints","lastN":"25","selectedSources":["B-v0",1],"onStageSources":[],
		  "defaultConstraints":{"maxHeight":0},"constraints":{"A-v0":{"maxHeight":720,"maxFrameRate":1e300}},"assumedBandwidthBps":-1}`,
		`{"colibriClass":"SourceVideoTypeMessage","sourceName":"a-v1","videoType":"desktop","endpointId":"a"}`,
		`{"colibriClass":"ReceiverAudioSubscription","mode":"Exclude","list":["x-a0"]}`,
		`{"colibriClass":"DominantSpeakerEndpointChangeEvent","dominantSpeakerEndpoint":"a","previousSpeakers":["b"],"silence":"true"}`,
		`{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"a","active":"false"}`,
		`{"colibriClass":"VideoSourcesMap","mappedSources":[{"source":"a-v0","owner":"a","ssrc":1,"rtx":2,"videoType":"CAMERA","mid":"v0"}]}`,
		`{"colibriClass":"AudioSourcesMap","mappedSources":[{"source":"a-a0","ssrc":3}]}`,
		`{"colibriClass":"SyntheticSourceSendingChangeEvent","sourceName":"s","sending":true,"timestamp":4294967295}`,
		`{"colibriClass":"AddReceiver","bridgeId":"b","sourceName":"s","videoConstraints":{"maxHeight":720,"maxFrameRate":-1.0}}`,
		`{"colibriClass":"RemoveReceiver","bridgeId":"b","endpointId":"e"}`,
		`{"colibriClass":"ConnectionStats","estimatedDownlinkBandwidth":"2345678"}`,
		`{"colibriClass":"LastNChangedEvent","lastN":-1}`,
		`{"colibriClass":"ServerHello","version":"1\u2028"}`,
		`{"colibriClass":"Whatever","x":[1,{"y":"\ud800"}]}`,
		`{"colibriClass":"ForwardedSources","forwardedSources":["\u0000"]}`,
		"{\"colibriClass\":\"VideoTypeMessage\",\"videoType\":\"camera\",\"endpointId\":\"\xff\"}",
		`[]`, `null`, `{}`, `{"colibriClass":null}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		enc := Append(nil, m)
		if !json.Valid(enc) {
			t.Fatalf("invalid JSON from %T: %q", m, enc)
		}
		if len(enc) > MaxMessageSize {
			return // re-escaping can grow a message right at the cap
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode of %q: %v", enc, err)
		}
		if a, b := normalized(t, m), normalized(t, back); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the value\nfirst:  %#v\nsecond: %#v\n%s", a, b, enc)
		}
	})
}

// FuzzRewriteFrom: for any JSON object the rewritten bytes are valid JSON whose `from` is the
// given sender, and nothing else changes.
func FuzzRewriteFrom(f *testing.F) {
	f.Add([]byte(`{"to":"","from":"x","msgPayload":{"from":1}}`), "a1")
	f.Add([]byte(`{"fr\u006fm":"x","from":"y"}`), "\"")
	f.Add([]byte(` { } `), "\xff")
	f.Fuzz(func(t *testing.T, raw []byte, from string) {
		out, err := RewriteFrom(raw, from)
		if err != nil {
			if isObject(raw) {
				t.Fatalf("rejected a valid object: %v", err)
			}
			return
		}
		var before, after map[string]any
		if err := json.Unmarshal(raw, &before); err != nil {
			t.Fatalf("accepted a non-object: %q", raw)
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("output is not a JSON object: %v: %q", err, out)
		}
		var wantFrom string
		_ = json.Unmarshal(appendString(nil, from), &wantFrom) // from as any JSON reader sees it
		if after["from"] != wantFrom {
			t.Fatalf("from = %#v, want %q", after["from"], wantFrom)
		}
		delete(before, "from")
		delete(after, "from")
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("other members changed\nbefore %#v\nafter  %#v", before, after)
		}
	})
}
