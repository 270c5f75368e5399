package control

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// TestErrors covers every error case of signaling.md §3.13, comparing the whole error.
func TestErrors(t *testing.T) {
	withEP := func(mod func(*colibri2.Endpoint)) colibri2.Endpoint {
		ep := createEP("ep1")
		mod(&ep)
		return ep
	}
	twoCreates := &colibri2.ConferenceModify{MeetingID: meeting, Create: true,
		Endpoints: []colibri2.Endpoint{createEP("a"), createEP("b")}}
	mixed := &colibri2.ConferenceModify{MeetingID: meeting, Endpoints: []colibri2.Endpoint{{ID: "a"}},
		Relays: []colibri2.Relay{{ID: "jvb-2", Expire: true}}}
	twoRelays := &colibri2.ConferenceModify{MeetingID: meeting,
		Relays: []colibri2.Relay{{ID: "r1", Expire: true}, {ID: "r2", Expire: true}}}
	batchWithSources := update(meeting, colibri2.Endpoint{ID: "a", ForceMute: &colibri2.ForceMute{Audio: true}},
		colibri2.Endpoint{ID: "b", Sources: &colibri2.Sources{}})
	existing := allocate(meeting, true, createEP("a")) // set up before the request under test
	noSCTP := func(id string) colibri2.Endpoint {
		ep := createEP(id)
		ep.Transport = &colibri2.Transport{ICEControlling: true}
		return ep
	}

	tests := []struct {
		name  string
		opts  func(*Options)
		setup []*colibri2.ConferenceModify
		// prep runs after setup (e.g. to enter graceful shutdown).
		prep func(*testBridge)
		req  *colibri2.ConferenceModify
		want *colibri2.Error
		// after checks state once the error was returned.
		after func(*testing.T, *testBridge)
	}{
		{
			name: "no conference and no create",
			req:  update(meeting, colibri2.Endpoint{ID: "a", ForceMute: &colibri2.ForceMute{}}),
			want: &colibri2.Error{Condition: "item-not-found", Reason: "conference_not_found",
				Text: "Conference not found for ID: " + meeting},
		},
		{
			name:  "create for an existing meeting-id",
			setup: []*colibri2.ConferenceModify{existing},
			req:   allocate(meeting, true, createEP("b")),
			want: &colibri2.Error{Condition: "conflict", Reason: "conference_already_exists",
				Text: "Conference already exists for ID: " + meeting},
		},
		{
			name:  "create in graceful shutdown",
			setup: []*colibri2.ConferenceModify{existing},
			prep:  func(tb *testBridge) { tb.StartGracefulShutdown() },
			req:   allocate("other-meeting", true, createEP("b")),
			want: &colibri2.Error{Condition: "service-unavailable", Reason: "graceful_shutdown",
				Text: "In graceful shutdown"},
		},
		{
			name:  "create while shutting down",
			prep:  func(tb *testBridge) { tb.StartShutdown() },
			req:   allocate(meeting, true, createEP("b")),
			want:  &colibri2.Error{Condition: "service-unavailable", Reason: "graceful_shutdown", Text: "In graceful shutdown"},
			after: func(t *testing.T, tb *testBridge) { assertNoConference(t, tb, meeting) },
		},
		{
			name: "conference name not a JID",
			req: &colibri2.ConferenceModify{MeetingID: meeting, Name: "not a jid", Create: true,
				Endpoints: []colibri2.Endpoint{createEP("a")}},
			want:  &colibri2.Error{Condition: "bad-request", Text: "Invalid conference name (not a JID)"},
			after: func(t *testing.T, tb *testBridge) { assertNoConference(t, tb, meeting) },
		},
		{
			name:  "update for unknown endpoint",
			setup: []*colibri2.ConferenceModify{existing},
			req:   update(meeting, colibri2.Endpoint{ID: "ghost", Sources: &colibri2.Sources{}}),
			want: &colibri2.Error{Condition: "item-not-found", Reason: "unknown_endpoint",
				Text: "Endpoint not found for ID: ghost", EndpointID: "ghost"},
		},
		{
			name:  "transport update for unknown endpoint",
			setup: []*colibri2.ConferenceModify{existing},
			req:   update(meeting, colibri2.Endpoint{ID: "ghost", Transport: clientTransport("u", "AA")}),
			want: &colibri2.Error{Condition: "item-not-found", Reason: "unknown_endpoint",
				Text: "Endpoint not found for ID: ghost", EndpointID: "ghost"},
		},
		{
			name:  "two endpoint creates in one request",
			req:   twoCreates,
			want:  twoCreates.ValidateShape(),
			after: func(t *testing.T, tb *testBridge) { assertEndpoints(t, tb, meeting) },
		},
		{name: "endpoint and relay mixed", setup: []*colibri2.ConferenceModify{existing}, req: mixed, want: mixed.ValidateShape()},
		{name: "two relays", setup: []*colibri2.ConferenceModify{existing}, req: twoRelays, want: twoRelays.ValidateShape()},
		{
			name: "batch carrying sources", setup: []*colibri2.ConferenceModify{existing, allocate(meeting, false, createEP("b"))},
			req: batchWithSources, want: batchWithSources.ValidateShape(),
		},
		{
			name:  "create without transport",
			setup: []*colibri2.ConferenceModify{existing},
			req:   allocate(meeting, false, withEP(func(e *colibri2.Endpoint) { e.Transport = nil })),
			want:  &colibri2.Error{Condition: "bad-request", Text: "Attempt to create endpoint ep1 with no <transport>"},
			after: func(t *testing.T, tb *testBridge) { assertEndpoints(t, tb, meeting, "a") },
		},
		{
			name:  "create without source-names",
			setup: []*colibri2.ConferenceModify{existing},
			req: allocate(meeting, false, withEP(func(e *colibri2.Endpoint) {
				e.Capabilities = []string{colibri2.CapSSRCRewriting}
			})),
			want:  &colibri2.Error{Condition: "bad-request", Text: "Source name support is mandatory."},
			after: func(t *testing.T, tb *testBridge) { assertEndpoints(t, tb, meeting, "a") },
		},
		{
			name:  "visitor created with sources",
			setup: []*colibri2.ConferenceModify{existing},
			req: allocate(meeting, false, withEP(func(e *colibri2.Endpoint) {
				e.MucRole, e.Sources = "visitor", cameraSources("ep1", 100)
			})),
			want:  &colibri2.Error{Condition: "bad-request", Text: "Attempt to set sources for visitor endpoint ep1"},
			after: func(t *testing.T, tb *testBridge) { assertEndpoints(t, tb, meeting, "a") },
		},
		{
			name: "visitor updated with sources",
			setup: []*colibri2.ConferenceModify{existing, allocate(meeting, false, withEP(func(e *colibri2.Endpoint) {
				e.MucRole = "visitor"
			}))},
			req:  update(meeting, colibri2.Endpoint{ID: "ep1", Sources: cameraSources("ep1", 100)}),
			want: &colibri2.Error{Condition: "bad-request", Text: "Attempt to set sources for visitor endpoint ep1"},
		},
		{
			name:  "sctp disabled",
			opts:  func(o *Options) { o.SCTPEnabled = false },
			setup: []*colibri2.ConferenceModify{allocate(meeting, true, noSCTP("a"))},
			req:   allocate(meeting, false, createEP("ep1")),
			want:  &colibri2.Error{Condition: "feature-not-implemented", Text: "SCTP support is not configured"},
		},
		{
			name:  "sctp role client",
			setup: []*colibri2.ConferenceModify{existing},
			req: allocate(meeting, false, withEP(func(e *colibri2.Endpoint) {
				e.Transport = &colibri2.Transport{ICEControlling: true, SCTP: &colibri2.SCTP{Role: "client"}}
			})),
			want:  &colibri2.Error{Condition: "feature-not-implemented", Text: "Unsupported SCTP role: CLIENT"},
			after: func(t *testing.T, tb *testBridge) { assertEndpoints(t, tb, meeting, "a") },
		},
		{
			name:  "sctp port not 5000",
			setup: []*colibri2.ConferenceModify{existing},
			req: allocate(meeting, false, withEP(func(e *colibri2.Endpoint) {
				e.Transport = &colibri2.Transport{ICEControlling: true, SCTP: &colibri2.SCTP{Port: 6000, Role: "SERVER"}}
			})),
			want: &colibri2.Error{Condition: "bad-request", Text: "Specific SCTP port requested, not supported."},
		},
		{
			name:  "endpoint already exists",
			setup: []*colibri2.ConferenceModify{existing},
			req:   allocate(meeting, false, createEP("a")),
			want:  &colibri2.Error{Condition: "conflict", Text: "Endpoint with ID a already exists"},
		},
		{
			name:  "relays disabled",
			setup: []*colibri2.ConferenceModify{existing},
			req:   &colibri2.ConferenceModify{MeetingID: meeting, Relays: []colibri2.Relay{{ID: "jvb-2", Create: true}}},
			want:  &colibri2.Error{Condition: "feature-not-implemented", Text: "Octo is disabled in configuration."},
		},
		{
			name:  "relays enabled but not implemented",
			opts:  func(o *Options) { o.RelaysEnabled, o.RelayID = true, "jvb-1" },
			setup: []*colibri2.ConferenceModify{existing},
			req:   &colibri2.ConferenceModify{MeetingID: meeting, Relays: []colibri2.Relay{{ID: "jvb-2", Create: true}}},
			want: &colibri2.Error{Condition: "feature-not-implemented", Reason: "feature_not_implemented",
				Text: `Relays are not supported by this bridge (relay "jvb-2")`},
		},
		{
			name:  "transport factory fails",
			setup: []*colibri2.ConferenceModify{existing},
			prep:  func(tb *testBridge) { tb.transports.fail = errors.New("port exhausted") },
			req:   allocate(meeting, false, createEP("ep1")),
			want: &colibri2.Error{Condition: "internal-server-error",
				Text: "Failed to create transport for endpoint ep1: port exhausted"},
			after: func(t *testing.T, tb *testBridge) { assertEndpoints(t, tb, meeting, "a") },
		},
		{
			name: "missing meeting-id",
			req:  &colibri2.ConferenceModify{Create: true, Endpoints: []colibri2.Endpoint{createEP("a")}},
			want: &colibri2.Error{Condition: "bad-request", Text: "Missing meeting-id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBridge(t, tt.opts)
			for _, req := range tt.setup {
				mustDo(t, tb.Videobridge, req)
			}
			if tt.prep != nil {
				tt.prep(tb)
			}
			resp, err := do(t, tb.Videobridge, tt.req)
			if resp != nil || !reflect.DeepEqual(err, tt.want) {
				t.Fatalf("got resp=%+v err=%#v\nwant err=%#v", resp, err, tt.want)
			}
			if tt.after != nil {
				tt.after(t, tb)
			}
		})
	}
}

func assertNoConference(t *testing.T, tb *testBridge, meetingID string) {
	t.Helper()
	if _, ok := tb.Conference(meetingID); ok {
		t.Fatalf("conference %s exists", meetingID)
	}
}

// assertEndpoints checks the conference's endpoint ids (after its queue has settled).
func assertEndpoints(t *testing.T, tb *testBridge, meetingID string, ids ...string) {
	t.Helper()
	tb.settle(t)
	info, ok := tb.Conference(meetingID)
	if !ok {
		t.Fatalf("conference %s missing", meetingID)
	}
	got := []string{}
	for _, ep := range info.Endpoints {
		got = append(got, ep.ID)
	}
	if len(ids) == 0 {
		ids = []string{}
	}
	if !reflect.DeepEqual(got, ids) {
		t.Fatalf("endpoints = %v, want %v", got, ids)
	}
}

// TestUnknownEndpointsIgnored: expire-only and force-mute-only requests answer unknown
// endpoints with an echo instead of an error (§3.11).
func TestUnknownEndpointsIgnored(t *testing.T) {
	tb := newTestBridge(t, nil)
	mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("a")))
	mustDo(t, tb.Videobridge, allocate(meeting, false, createEP("b")))
	tests := []struct {
		name string
		req  *colibri2.ConferenceModify
		want *colibri2.ConferenceModified
	}{
		{
			name: "force-mute batch with an unknown endpoint",
			req: update(meeting, colibri2.Endpoint{ID: "a", ForceMute: &colibri2.ForceMute{Audio: true}},
				colibri2.Endpoint{ID: "ghost", ForceMute: &colibri2.ForceMute{Audio: true}}),
			want: &colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: "a"}, {ID: "ghost"}}},
		},
		{
			name: "single force-mute for an unknown endpoint",
			req:  update(meeting, colibri2.Endpoint{ID: "ghost", ForceMute: &colibri2.ForceMute{Video: true}}),
			want: &colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: "ghost"}}},
		},
		{
			name: "expire batch with an unknown endpoint",
			req:  update(meeting, expireEP("ghost"), expireEP("b")),
			want: &colibri2.ConferenceModified{Endpoints: []colibri2.Endpoint{{ID: "ghost", Expire: true}, {ID: "b", Expire: true}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustDo(t, tb.Videobridge, tt.req)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	assertEndpoints(t, tb, meeting, "a")
	info, _ := tb.Conference(meeting)
	if info.Endpoints[0].ForceMute != (ForceMute{Audio: true}) {
		t.Fatalf("force-mute of a = %+v", info.Endpoints[0].ForceMute)
	}
}
