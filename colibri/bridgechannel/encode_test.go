package bridgechannel

import (
	"encoding/json"
	"math"
	"testing"
)

// TestAppendExact pins the bytes of the messages the bridge sends most, in JVB's field order.
func TestAppendExact(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"ServerHello", &ServerHello{}, `{"colibriClass":"ServerHello"}`},
		{"ServerHello version", &ServerHello{Version: "2.3.1"}, `{"colibriClass":"ServerHello","version":"2.3.1"}`},
		{"connectivity active is a string", &EndpointConnectivityStatusChangeEvent{Endpoint: "a1b2c3d4", Active: true},
			`{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"a1b2c3d4","active":"true"}`},
		{"dominant speaker, no previous", &DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a"},
			`{"colibriClass":"DominantSpeakerEndpointChangeEvent","dominantSpeakerEndpoint":"a","previousSpeakers":[],"silence":false}`},
		{"forwarded sources empty", &ForwardedSources{},
			`{"colibriClass":"ForwardedSources","forwardedSources":[]}`},
		{"sender constraints unlimited", &SenderSourceConstraints{SourceName: "a-v0", MaxHeight: -1},
			`{"colibriClass":"SenderSourceConstraints","sourceName":"a-v0","maxHeight":-1}`},
		{"endpoint message keeps payload bytes",
			&EndpointMessage{To: "b", From: "a", MsgPayload: json.RawMessage(`{ "k" : [1, 2.50] }`)},
			`{"colibriClass":"EndpointMessage","to":"b","from":"a","msgPayload":{ "k" : [1, 2.50] }}`},
		{"endpoint message drops an invalid payload",
			&EndpointMessage{To: "", MsgPayload: json.RawMessage(`{`)},
			`{"colibriClass":"EndpointMessage","to":""}`},
		{"endpoint stats sets from", &EndpointStats{From: "a", Raw: json.RawMessage(`{"colibriClass":"EndpointStats","jvbRTT":23}`)},
			`{"colibriClass":"EndpointStats","jvbRTT":23,"from":"a"}`},
		{"endpoint stats without raw", &EndpointStats{From: "a"},
			`{"colibriClass":"EndpointStats","from":"a"}`},
		{"video map without optional fields", &VideoSourcesMap{MappedSources: []VideoSourceMapping{{Source: "s", SSRC: 1, RTX: 2}}},
			`{"colibriClass":"VideoSourcesMap","mappedSources":[{"source":"s","ssrc":1,"rtx":2}]}`},
		{"constraints sorted, frame rate as double",
			&ReceiverVideoConstraints{Constraints: map[string]VideoConstraints{"b": {MaxHeight: 180, MaxFrameRate: 15}, "a": {MaxHeight: -1, MaxFrameRate: 7.5}},
				OnStageSources: &[]string{}},
			`{"colibriClass":"ReceiverVideoConstraints","onStageSources":[],"constraints":{"a":{"maxHeight":-1,"maxFrameRate":7.5},"b":{"maxHeight":180,"maxFrameRate":15.0}}}`},
		{"non-finite frame rate", &AddReceiver{BridgeID: "b", SourceName: "s", VideoConstraints: VideoConstraints{MaxHeight: 1, MaxFrameRate: math.Inf(1)}},
			`{"colibriClass":"AddReceiver","bridgeId":"b","sourceName":"s","videoConstraints":{"maxHeight":1,"maxFrameRate":-1.0}}`},
		{"string escaping", &ForwardedSources{ForwardedSources: []string{"q\"\\\n\x01\u2028<\xff"}},
			`{"colibriClass":"ForwardedSources","forwardedSources":["q\"\\\n\u0001\u2028<\ufffd"]}`},
		{"unknown passes through", &Unknown{ClassName: "X", Raw: json.RawMessage(`{"colibriClass":"X","a":1}`)},
			`{"colibriClass":"X","a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Append([]byte("prefix"), tt.m)
			if string(got) != "prefix"+tt.want {
				t.Fatalf("\n got %s\nwant prefix%s", got, tt.want)
			}
		})
	}
}

func TestRewriteFrom(t *testing.T) {
	tests := []struct {
		name, raw, from, want string
	}{
		{"overwrite, rest kept byte for byte",
			`{"colibriClass":"EndpointMessage", "to":"", "from" : "mallory" ,"msgPayload":{"from":"x"}}`, "a1",
			`{"colibriClass":"EndpointMessage", "to":"", "from" : "a1" ,"msgPayload":{"from":"x"}}`},
		{"added when absent", `{"colibriClass":"EndpointMessage","to":"b","msgPayload":{}}`, "a1",
			`{"colibriClass":"EndpointMessage","to":"b","msgPayload":{},"from":"a1"}`},
		{"added before trailing whitespace", " {\"to\":\"b\"}\n", "a1", " {\"to\":\"b\",\"from\":\"a1\"}\n"},
		{"empty object", `{ }`, "a1", `{ "from":"a1"}`},
		{"non-string from replaced", `{"from":{"id":1},"to":""}`, "a1", `{"from":"a1","to":""}`},
		{"every duplicate replaced", `{"from":"x","to":"","from":"y"}`, "a1", `{"from":"a1","to":"","from":"a1"}`},
		{"escaped key spelling", `{"fr\u006fm":"mallory","to":""}`, "a1", `{"fr\u006fm":"a1","to":""}`},
		{"from with quotes escaped", `{"to":"","x":"}\"{"}`, `a"b`, `{"to":"","x":"}\"{","from":"a\"b"}`},
		{"nested from untouched", `{"p":[{"from":1}],"q":"from"}`, "a1", `{"p":[{"from":1}],"q":"from","from":"a1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteFrom([]byte(tt.raw), tt.from)
			if err != nil {
				t.Fatalf("RewriteFrom: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
			var v map[string]any
			if err := json.Unmarshal(got, &v); err != nil || v["from"] != tt.from {
				t.Fatalf("parsed from = %v (err %v), want %q", v["from"], err, tt.from)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":1`, `{} {}`, `null`} {
		dst := []byte("keep")
		got, err := AppendRewriteFrom(dst, []byte(bad), "a")
		if err == nil || string(got) != "keep" {
			t.Errorf("AppendRewriteFrom(%q) = %q, %v; want dst unchanged and an error", bad, got, err)
		}
	}
}

func TestRewriteFromAllocations(t *testing.T) {
	raw := []byte(`{"colibriClass":"EndpointMessage","to":"","from":"x","msgPayload":{"type":"e2e-ping-request","id":1}}`)
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = AppendRewriteFrom(dst[:0], raw, "a1b2c3d4")
	})
	if allocs != 0 {
		t.Fatalf("AppendRewriteFrom allocates %v times per call", allocs)
	}
}
