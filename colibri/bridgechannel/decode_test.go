package bridgechannel

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// sameJSON reports whether a and b parse to the same generic value (key order, whitespace and
// number spelling such as -1 vs -1.0 do not matter).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("invalid JSON %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

const endpointStatsExample = `{"colibriClass":"EndpointStats","bitrate":{"upload":900,"download":1500,"audio":{"upload":40,"download":80},"video":{"upload":860,"download":1420}},
 "packetLoss":{"total":0,"upload":0,"download":0},"connectionQuality":100,"jvbRTT":23,"serverRegion":"eu-1",
 "maxEnabledResolution":720}`

// TestDecodeSpecExamples decodes every JSON example of media.md §1.3 into the whole expected
// value, then checks that encoding gives equivalent JSON (wantJSON where JVB's own encoding
// differs from the client's spelling: uppercase video types, explicit maxFrameRate).
func TestDecodeSpecExamples(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     Message
		wantJSON string // "" means: same as in
	}{
		{"ClientHello", `{"colibriClass":"ClientHello"}`, &ClientHello{}, ""},
		{"ServerHello", `{"colibriClass":"ServerHello"}`, &ServerHello{}, ""},
		{"ServerHello version", `{"colibriClass":"ServerHello","version":"2.3.123-gabcdef"}`,
			&ServerHello{Version: "2.3.123-gabcdef"}, ""},
		{"EndpointMessage C→B",
			`{"colibriClass":"EndpointMessage","to":"","msgPayload":{"type":"e2e-ping-request","id":1}}`,
			&EndpointMessage{MsgPayload: json.RawMessage(`{"type":"e2e-ping-request","id":1}`)}, ""},
		{"EndpointMessage B→C",
			`{"colibriClass":"EndpointMessage","to":"","from":"a1b2c3d4","msgPayload":{"type":"e2e-ping-request","id":1}}`,
			&EndpointMessage{From: "a1b2c3d4", MsgPayload: json.RawMessage(`{"type":"e2e-ping-request","id":1}`)}, ""},
		{"EndpointStats", endpointStatsExample,
			&EndpointStats{Raw: json.RawMessage(endpointStatsExample)}, ""},
		{"ReceiverVideoConstraints",
			`{"colibriClass":"ReceiverVideoConstraints",
			 "lastN":25,
			 "selectedSources":["B-v0"],
			 "onStageSources":["A-v0"],
			 "defaultConstraints":{"maxHeight":0},
			 "constraints":{"A-v0":{"maxHeight":720},"B-v0":{"maxHeight":180},"C-v0":{"maxHeight":180}},
			 "assumedBandwidthBps":-1}`,
			&ReceiverVideoConstraints{
				LastN:              ptr(25),
				SelectedSources:    &[]string{"B-v0"},
				OnStageSources:     &[]string{"A-v0"},
				DefaultConstraints: &VideoConstraints{MaxHeight: 0, MaxFrameRate: -1},
				Constraints: map[string]VideoConstraints{
					"A-v0": {MaxHeight: 720, MaxFrameRate: -1},
					"B-v0": {MaxHeight: 180, MaxFrameRate: -1},
					"C-v0": {MaxHeight: 180, MaxFrameRate: -1},
				},
				AssumedBandwidthBps: ptr(int64(-1)),
			},
			`{"colibriClass":"ReceiverVideoConstraints","lastN":25,"selectedSources":["B-v0"],"onStageSources":["A-v0"],
			 "defaultConstraints":{"maxHeight":0,"maxFrameRate":-1.0},
			 "constraints":{"A-v0":{"maxHeight":720,"maxFrameRate":-1.0},"B-v0":{"maxHeight":180,"maxFrameRate":-1.0},
			 "C-v0":{"maxHeight":180,"maxFrameRate":-1.0}},"assumedBandwidthBps":-1}`},
		{"ReceiverVideoConstraints initial",
			`{"colibriClass":"ReceiverVideoConstraints","assumedBandwidthBps":-1,"lastN":-1}`,
			&ReceiverVideoConstraints{LastN: ptr(-1), AssumedBandwidthBps: ptr(int64(-1))}, ""},
		{"LastNChangedEvent", `{"colibriClass":"LastNChangedEvent","lastN":5}`, &LastNChangedEvent{LastN: 5}, ""},
		{"SourceVideoTypeMessage",
			`{"colibriClass":"SourceVideoTypeMessage","sourceName":"a1b2c3d4-v1","videoType":"desktop"}`,
			&SourceVideoTypeMessage{SourceName: "a1b2c3d4-v1", VideoType: VideoTypeDesktop},
			`{"colibriClass":"SourceVideoTypeMessage","sourceName":"a1b2c3d4-v1","videoType":"DESKTOP"}`},
		{"VideoTypeMessage", `{"colibriClass":"VideoTypeMessage","videoType":"desktop"}`,
			&VideoTypeMessage{VideoType: VideoTypeDesktop},
			`{"colibriClass":"VideoTypeMessage","videoType":"DESKTOP"}`},
		{"ReceiverAudioSubscription",
			`{"colibriClass":"ReceiverAudioSubscription","all":true,"include":[],"exclude":["x-a0"]}`,
			&ReceiverAudioSubscription{All: true, Exclude: []string{"x-a0"}}, ""},
		{"ForwardedSources", `{"colibriClass":"ForwardedSources","forwardedSources":["A-v0","B-v0"]}`,
			&ForwardedSources{ForwardedSources: []string{"A-v0", "B-v0"}}, ""},
		{"SenderSourceConstraints",
			`{"colibriClass":"SenderSourceConstraints", "sourceName":"a1b2c3d4-v0", "maxHeight":180}`,
			&SenderSourceConstraints{SourceName: "a1b2c3d4-v0", MaxHeight: 180}, ""},
		{"DominantSpeakerEndpointChangeEvent",
			`{"colibriClass":"DominantSpeakerEndpointChangeEvent","dominantSpeakerEndpoint":"a1b2c3d4","previousSpeakers":["e5f6a7b8","c9d0e1f2"],"silence":false}`,
			&DominantSpeakerEndpointChangeEvent{DominantSpeakerEndpoint: "a1b2c3d4",
				PreviousSpeakers: []string{"e5f6a7b8", "c9d0e1f2"}}, ""},
		{"EndpointConnectivityStatusChangeEvent",
			`{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"a1b2c3d4","active":"false"}`,
			&EndpointConnectivityStatusChangeEvent{Endpoint: "a1b2c3d4", Active: false}, ""},
		{"ConnectionStats", `{"colibriClass":"ConnectionStats","estimatedDownlinkBandwidth":2345678}`,
			&ConnectionStats{EstimatedDownlinkBandwidth: 2345678}, ""},
		{"VideoSourcesMap",
			`{"colibriClass":"VideoSourcesMap","mappedSources":[
			  {"source":"a1b2c3d4-v0","owner":"a1b2c3d4","ssrc":2851843051,"rtx":1093284736,"videoType":"CAMERA"},
			  {"source":"e5f6a7b8-v1","owner":"e5f6a7b8","ssrc":381234567,"rtx":977123456,"videoType":"DESKTOP","mid":"v1"}]}`,
			&VideoSourcesMap{MappedSources: []VideoSourceMapping{
				{Source: "a1b2c3d4-v0", Owner: "a1b2c3d4", SSRC: 2851843051, RTX: 1093284736, VideoType: VideoTypeCamera},
				{Source: "e5f6a7b8-v1", Owner: "e5f6a7b8", SSRC: 381234567, RTX: 977123456, VideoType: VideoTypeDesktop, MID: "v1"},
			}}, ""},
		{"AudioSourcesMap",
			`{"colibriClass":"AudioSourcesMap","mappedSources":[{"source":"a1b2c3d4-a0","owner":"a1b2c3d4","ssrc":3012345678,"mid":"a0"}]}`,
			&AudioSourcesMap{MappedSources: []AudioSourceMapping{
				{Source: "a1b2c3d4-a0", Owner: "a1b2c3d4", SSRC: 3012345678, MID: "a0"}}}, ""},
		{"SyntheticSourceSendingChangeEvent",
			`{"colibriClass":"SyntheticSourceSendingChangeEvent","sourceName":"55555555-a0.hi","sending":true,"timestamp":123456789}`,
			&SyntheticSourceSendingChangeEvent{SourceName: "55555555-a0.hi", Sending: true, Timestamp: 123456789}, ""},
		{"AddReceiver",
			`{"colibriClass":"AddReceiver","bridgeId":"jvb-eu-1","sourceName":"a1b2c3d4-v0","videoConstraints":{"maxHeight":720,"maxFrameRate":-1.0}}`,
			&AddReceiver{BridgeID: "jvb-eu-1", SourceName: "a1b2c3d4-v0",
				VideoConstraints: VideoConstraints{MaxHeight: 720, MaxFrameRate: -1}}, ""},
		{"RemoveReceiver", `{"colibriClass":"RemoveReceiver","bridgeId":"jvb-eu-1","endpointId":"a1b2c3d4"}`,
			&RemoveReceiver{BridgeID: "jvb-eu-1", EndpointID: "a1b2c3d4"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode\n got %#v\nwant %#v", got, tt.want)
			}
			if got.Class() != tt.want.Class() {
				t.Fatalf("Class %q, want %q", got.Class(), tt.want.Class())
			}
			enc := Append(nil, got)
			want := tt.wantJSON
			if want == "" {
				want = tt.in
			}
			if !sameJSON(t, enc, []byte(want)) {
				t.Fatalf("encode\n got %s\nwant %s", enc, want)
			}
			if !strings.HasPrefix(string(enc), `{"colibriClass":"`+tt.want.Class()+`"`) {
				t.Fatalf("colibriClass is not the first member: %s", enc)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Message
	}{
		{"unknown fields ignored",
			`{"colibriClass":"LastNChangedEvent","lastN":3,"future":{"x":[1,2]},"onStageEndpoints":["a"]}`,
			&LastNChangedEvent{LastN: 3}},
		{"lastN as string", `{"colibriClass":"LastNChangedEvent","lastN":"5"}`, &LastNChangedEvent{LastN: 5}},
		{"lastN as integral float", `{"colibriClass":"LastNChangedEvent","lastN":5.0}`, &LastNChangedEvent{LastN: 5}},
		{"constraints: nonsense fields ignored, the rest kept",
			`{"colibriClass":"ReceiverVideoConstraints","lastN":"many","selectedSources":"B-v0",
			  "onStageSources":["A-v0",7,null],"defaultConstraints":180,
			  "constraints":{"A-v0":{"maxHeight":"360","maxFrameRate":"15"},"B-v0":"big","C-v0":{"maxFrameRate":30}},
			  "assumedBandwidthBps":1.5}`,
			&ReceiverVideoConstraints{
				OnStageSources: &[]string{"A-v0"},
				Constraints: map[string]VideoConstraints{
					"A-v0": {MaxHeight: 360, MaxFrameRate: 15},
					"C-v0": {MaxHeight: 0, MaxFrameRate: 30},
				},
			}},
		{"empty onStageSources is present, null is absent",
			`{"colibriClass":"ReceiverVideoConstraints","onStageSources":[],"selectedSources":null}`,
			&ReceiverVideoConstraints{OnStageSources: &[]string{}}},
		{"lastN beyond Java Int ignored",
			`{"colibriClass":"ReceiverVideoConstraints","lastN":4294967296}`,
			&ReceiverVideoConstraints{}},
		{"active as boolean", `{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"e","active":true}`,
			&EndpointConnectivityStatusChangeEvent{Endpoint: "e", Active: true}},
		{"active in upper case", `{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"e","active":"TRUE"}`,
			&EndpointConnectivityStatusChangeEvent{Endpoint: "e", Active: true}},
		{"video type in mixed case", `{"colibriClass":"SourceVideoTypeMessage","sourceName":"s","videoType":"Desktop_High_FPS"}`,
			&SourceVideoTypeMessage{SourceName: "s", VideoType: VideoTypeDesktopHighFPS}},
		{"legacy audio All", `{"colibriClass":"ReceiverAudioSubscription","mode":"All"}`,
			&ReceiverAudioSubscription{All: true}},
		{"legacy audio None", `{"colibriClass":"ReceiverAudioSubscription","mode":"None","list":["a"]}`,
			&ReceiverAudioSubscription{}},
		{"legacy audio Include", `{"colibriClass":"ReceiverAudioSubscription","mode":"Include","list":["a","b"]}`,
			&ReceiverAudioSubscription{Include: []string{"a", "b"}}},
		{"legacy audio Exclude", `{"colibriClass":"ReceiverAudioSubscription","mode":"Exclude","list":["a"]}`,
			&ReceiverAudioSubscription{All: true, Exclude: []string{"a"}}},
		{"mappings without source or ssrc skipped",
			`{"colibriClass":"VideoSourcesMap","mappedSources":[{"source":"a","ssrc":-1},{"ssrc":5},7,
			  {"source":"b","ssrc":"6","rtx":4294967296,"videoType":"hologram"}]}`,
			&VideoSourcesMap{MappedSources: []VideoSourceMapping{{Source: "b", SSRC: 6}}}},
		{"EndpointMessage keeps a non-object payload",
			`{"colibriClass":"EndpointMessage","to":"x","from":7,"msgPayload":"hi"}`,
			&EndpointMessage{To: "x", MsgPayload: json.RawMessage(`"hi"`)}},
		{"EndpointStats from", ` {"colibriClass":"EndpointStats","from":"a"} `,
			&EndpointStats{From: "a", Raw: json.RawMessage(` {"colibriClass":"EndpointStats","from":"a"} `)}},
		{"AddReceiver legacy endpointId",
			`{"colibriClass":"AddReceiver","bridgeId":"b","endpointId":"e","videoConstraints":{"maxHeight":180}}`,
			&AddReceiver{BridgeID: "b", EndpointID: "e", VideoConstraints: VideoConstraints{MaxHeight: 180, MaxFrameRate: -1}}},
		{"unknown class", `{"colibriClass":"BandwidthEstimation","bps":1}`,
			&Unknown{ClassName: "BandwidthEstimation", Raw: json.RawMessage(`{"colibriClass":"BandwidthEstimation","bps":1}`)}},
		{"duplicate key: last wins", `{"colibriClass":"LastNChangedEvent","lastN":1,"lastN":2}`,
			&LastNChangedEvent{LastN: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"not JSON", `colibriClass`, ErrMalformed},
		{"truncated", `{"colibriClass":"ClientHello"`, ErrMalformed},
		{"array", `[{"colibriClass":"ClientHello"}]`, ErrMalformed},
		{"null", `null`, ErrMalformed},
		{"no colibriClass", `{"lastN":5}`, ErrMalformed},
		{"colibriClass not a string", `{"colibriClass":5}`, ErrMalformed},
		{"trailing data", `{"colibriClass":"ClientHello"} {}`, ErrMalformed},
		{"LastN without lastN", `{"colibriClass":"LastNChangedEvent","lastN":"five"}`, ErrMalformed},
		{"EndpointMessage without to", `{"colibriClass":"EndpointMessage","msgPayload":{}}`, ErrMalformed},
		{"connectivity without active", `{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"e","active":"yes"}`, ErrMalformed},
		{"unknown video type", `{"colibriClass":"SourceVideoTypeMessage","sourceName":"s","videoType":"hologram"}`, ErrMalformed},
		{"audio subscription without all or mode", `{"colibriClass":"ReceiverAudioSubscription","include":["a"]}`, ErrMalformed},
		{"audio subscription unknown mode", `{"colibriClass":"ReceiverAudioSubscription","mode":"Custom"}`, ErrMalformed},
		{"synthetic timestamp out of range", `{"colibriClass":"SyntheticSourceSendingChangeEvent","sourceName":"s","sending":true,"timestamp":4294967296}`, ErrMalformed},
		{"AddReceiver without source", `{"colibriClass":"AddReceiver","bridgeId":"b","videoConstraints":{"maxHeight":1}}`, ErrMalformed},
		{"too large", `{"colibriClass":"EndpointMessage","to":"","x":"` + strings.Repeat("a", MaxMessageSize) + `"}`, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %#v, %v; want error %v", m, err, tt.want)
			}
		})
	}
}
