package colibri2

import "testing"

func TestValidateShape(t *testing.T) {
	expire := func(id string) Endpoint { return Endpoint{ID: id, Expire: true} }
	mute := func(id string) Endpoint { return Endpoint{ID: id, ForceMute: &ForceMute{Audio: true}} }
	notImpl := func(text string) *Error {
		return &Error{Condition: CondFeatureNotImplemented, Reason: ReasonFeatureNotImplemented, Text: text}
	}
	tests := []struct {
		name        string
		req         ConferenceModify
		wantErr     *Error
		wantIgnores bool
	}{
		{"conference expire", ConferenceModify{Expire: true}, nil, true},
		{"single endpoint create", ConferenceModify{Endpoints: []Endpoint{{ID: "a", Create: true}}}, nil, false},
		{"single transport update", ConferenceModify{Endpoints: []Endpoint{{ID: "a", Transport: &Transport{}}}}, nil, false},
		{"single sources update", ConferenceModify{Endpoints: []Endpoint{{ID: "a", Sources: &Sources{}}}}, nil, false},
		{"single media", ConferenceModify{Endpoints: []Endpoint{{ID: "a", Media: []Media{{Type: "audio"}}}}}, nil, false},
		{"single initial-last-n", ConferenceModify{Endpoints: []Endpoint{{ID: "a", InitialLastN: intPtr(3)}}}, nil, true},
		{"batch expire", ConferenceModify{Endpoints: []Endpoint{expire("a"), expire("b")}}, nil, true},
		{"batch force-mute", ConferenceModify{Endpoints: []Endpoint{mute("a"), mute("b"), mute("c")}}, nil, true},
		{"batch with sources", ConferenceModify{Endpoints: []Endpoint{mute("a"), {ID: "b", Sources: &Sources{}}}},
			notImpl("More than one endpoint per request is only supported for expire and force-mute (endpoint b has create, media, transport or sources)"), false},
		{"batch with create", ConferenceModify{Endpoints: []Endpoint{{ID: "a", Create: true}, expire("b")}},
			notImpl("More than one endpoint per request is only supported for expire and force-mute (endpoint a has create, media, transport or sources)"), false},
		{"batch with transport", ConferenceModify{Endpoints: []Endpoint{expire("a"), {ID: "b", Transport: &Transport{ICERestart: true}}}},
			notImpl("More than one endpoint per request is only supported for expire and force-mute (endpoint b has create, media, transport or sources)"), false},
		{"endpoint and relay", ConferenceModify{Endpoints: []Endpoint{expire("a")}, Relays: []Relay{{ID: "r", Expire: true}}},
			notImpl("Mixing endpoints and relays in one request is not supported"), true},
		{"two relays", ConferenceModify{Relays: []Relay{{ID: "r1", Expire: true}, {ID: "r2", Expire: true}}},
			notImpl("Only one relay per request is supported"), true},
		{"relay create", ConferenceModify{Relays: []Relay{{ID: "r", Create: true}}}, nil, false},
		{"relay update", ConferenceModify{Relays: []Relay{{ID: "r", Transport: &Transport{}}}}, nil, false},
		{"relay expire", ConferenceModify{Relays: []Relay{{ID: "r", Expire: true}}}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustEqual(t, tc.req.ValidateShape(), tc.wantErr)
			if got := tc.req.IgnoresUnknownEndpoints(); got != tc.wantIgnores {
				t.Errorf("IgnoresUnknownEndpoints() = %v, want %v", got, tc.wantIgnores)
			}
		})
	}
}

// TestValidateGolden: every golden request has a shape JVB accepts.
func TestValidateGolden(t *testing.T) {
	for _, tc := range goldenRequests {
		if err := tc.want.ValidateShape(); err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
}
