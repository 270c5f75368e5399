package integration

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
	"github.com/cityjitsi/videobridge/integration/focus"
)

const (
	meetingID = "beccf2ed-5441-4bfe-96d6-f0f3a6796378"
	roomJID   = "myroom@muc.meet.jitsi"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestBreweryPresence: the bridge started with the Debian package's jvb.conf (plain and
// STARTTLS+SCRAM Prosody) appears in the brewery with the stats Jicofo reads, and answers the
// health check and version IQs through the MUC as Jicofo sends them.
func TestBreweryPresence(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run("tls="+strconv.FormatBool(tls), func(t *testing.T) {
			p := debianProsody(t, tls)
			conf := debianConf(t, p) + "videobridge.health.require-valid-address = false\n"
			if tls {
				// A self-signed certificate, as docker deployments have.
				conf += "videobridge.apis.xmpp-client.configs.shard.DISABLE_CERTIFICATE_VERIFICATION = true\n" +
					"videobridge.apis.xmpp-client.configs.shard.SECURITY_MODE = required\n"
			}
			f := joinFocus(t, p)
			rb := startBridge(t, conf)
			stats, err := f.WaitBridge(ctxT(t, 20*time.Second), debianNick, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"drain": "false", "graceful_shutdown": "false", "shutting_down": "false",
				"healthy": "true", "conferences": "0", "participants": "0", "average_participant_stress": "0.01"}
			for k, v := range want {
				if stats[k] != v {
					t.Errorf("stat %s = %q, want %q", k, stats[k], v)
				}
			}
			for _, k := range []string{"stress_level", "version", "current_timestamp", "mucs_joined"} {
				if stats[k] == "" {
					t.Errorf("stat %s missing", k)
				}
			}
			if _, err := strconv.ParseFloat(stats["stress_level"], 64); err != nil {
				t.Errorf("stress_level %q is not a double", stats["stress_level"])
			}
			if _, ok := stats["relay_id"]; ok {
				t.Errorf("relay_id published although relays are disabled")
			}

			// Health check IQ, sent as Jicofo's JvbDoctor does.
			e := iq(t, f, "get", "<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>")
			if e.Attr("type") != "result" {
				t.Errorf("healthcheck answered %s", e.Raw)
			}
			// Version IQ.
			e = iq(t, f, "get", "<query xmlns='jabber:iq:version'/>")
			q := e.Child("query")
			if e.Attr("type") != "result" || q == nil || q.Child("name") == nil || q.Child("name").Text != "JVB" ||
				q.Child("version").Text != stats["version"] {
				t.Errorf("version answered %s", e.Raw)
			}
			if code, body := rb.get(t, "/about/health"); code != 200 || body != "" {
				t.Errorf("/about/health = %d %q", code, body)
			}
			// Metrics under JVB's names, with the XMPP connection state and the colibri2 counter.
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, metrics := rb.get(t, "/metrics")
				missing := ""
				for _, m := range []string{"jitsi_jvb_conferences 0", "jitsi_jvb_mucs_joined 1", "jitsi_jvb_muc_clients_connected 1",
					`jitsi_jvb_xmpp_connected{client="shard"} 1`, "jitsi_jvb_healthy 1", "jitsi_jvb_drain_mode 0"} {
					if !strings.Contains(metrics, m) {
						missing = m
					}
				}
				if missing == "" {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("/metrics lacks %q", missing)
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			// SIGTERM: the bridge leaves the brewery (Jicofo then moves its conferences).
			rb.stop(t)
			if err := f.WaitGone(ctxT(t, 10*time.Second), debianNick); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestUnhealthy: with require-valid-address (JVB's default) and only loopback candidates the
// bridge is unhealthy: the health IQ answers internal-server-error (Jicofo moves conferences)
// and /about/health answers 500 with the reason.
func TestUnhealthy(t *testing.T) {
	p := debianProsody(t, false)
	f := joinFocus(t, p)
	rb := startBridge(t, debianConf(t, p)+"ice4j.harvest.allowed-interfaces = [\"lo\"]\n")
	if _, err := f.WaitBridge(ctxT(t, 20*time.Second), debianNick, func(s focus.Stats) bool { return s["healthy"] == "false" }); err != nil {
		t.Fatal(err)
	}
	e := iq(t, f, "get", "<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>")
	if e.Attr("type") != "error" || e.Child("error") == nil || e.Child("error").Child("internal-server-error") == nil {
		t.Errorf("healthcheck answered %s", e.Raw)
	}
	code, body := rb.get(t, "/about/health")
	if code != 500 || !strings.Contains(body, "No valid IP addresses") {
		t.Errorf("/about/health = %d %q", code, body)
	}
}

func iq(t testing.TB, f *focus.Focus, typ, payload string) *focus.Element {
	t.Helper()
	p, err := f.SendIQ(f.OccupantJID(debianNick), typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Wait(ctxT(t, 15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkAllocation asserts the whole shape Jicofo needs from an endpoint-create answer (§3.9,
// pitfall 7): the nested ICE-UDP transport with credentials, fingerprint (actpass),
// candidates on the media port and rtcp-mux, and the SCTP port; plus the feedback sources.
func checkAllocation(t *testing.T, res *colibri2.ConferenceModified, epID string, mediaPort int) colibri2.Sources {
	t.Helper()
	if len(res.Endpoints) != 1 || res.Endpoints[0].ID != epID {
		t.Fatalf("endpoints in answer: %+v", res.Endpoints)
	}
	tr := res.Endpoints[0].Transport
	if tr == nil || tr.ICE == nil {
		t.Fatalf("answer for %s has no ICE transport", epID)
	}
	ice := tr.ICE
	if len(ice.Ufrag) < 4 || len(ice.Pwd) < 22 || !ice.RTCPMux {
		t.Errorf("ICE credentials/rtcp-mux: %+v", ice)
	}
	if len(ice.Fingerprints) != 1 || ice.Fingerprints[0].Hash != "sha-256" || ice.Fingerprints[0].Setup != "actpass" ||
		len(ice.Fingerprints[0].Fingerprint) != 95 {
		t.Errorf("fingerprint: %+v", ice.Fingerprints)
	}
	if len(ice.Candidates) == 0 {
		t.Errorf("no candidates")
	}
	hasLoopback := false
	for _, c := range ice.Candidates {
		if c.Type == "host" && c.Port != mediaPort {
			t.Errorf("host candidate %s:%d is not on the media port %d", c.IP, c.Port, mediaPort)
		}
		if c.Protocol != "udp" || c.Component != 1 || c.Priority == 0 || c.Foundation == "" || c.ID == "" {
			t.Errorf("candidate fields: %+v", c)
		}
		hasLoopback = hasLoopback || c.IP == "127.0.0.1"
	}
	if !hasLoopback {
		t.Errorf("no 127.0.0.1 host candidate: %+v", ice.Candidates)
	}
	if tr.SCTP == nil || tr.SCTP.Port != 5000 || tr.SCTP.Role != "server" {
		t.Errorf("sctp: %+v", tr.SCTP)
	}
	if res.Sources == nil || len(res.Sources.MediaSources) != 2 {
		t.Fatalf("feedback sources: %+v", res.Sources)
	}
	a, v := res.Sources.MediaSources[0], res.Sources.MediaSources[1]
	if a.Type != "audio" || a.ID != "jvb-a0" || len(a.Sources) != 1 || a.Sources[0].Name != "jvb-a0" ||
		v.Type != "video" || v.ID != "jvb-v0" || len(v.Sources) != 1 || v.Sources[0].Name != "jvb-v0" {
		t.Errorf("feedback sources: %+v", res.Sources)
	}
	return *res.Sources
}

func wantColibriError(t *testing.T, err error, cond string, reason colibri2.Reason, epID string) {
	t.Helper()
	var ce *colibri2.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want colibri2 error %s/%s, got %v", cond, reason, err)
	}
	if ce.Condition != cond || ce.Reason != reason || ce.EndpointID != epID {
		t.Errorf("error = %+v, want condition %s reason %q endpoint %q", ce, cond, reason, epID)
	}
}

func onlyEndpoint(t *testing.T, res *colibri2.ConferenceModified, err error, want colibri2.Endpoint) {
	t.Helper()
	if err != nil {
		t.Fatalf("request for %s failed: %v", want.ID, err)
	}
	if len(res.Endpoints) != 1 || res.Endpoints[0].ID != want.ID || res.Endpoints[0].Expire != want.Expire ||
		res.Endpoints[0].Transport != nil || res.Sources != nil || len(res.Relays) != 0 {
		t.Errorf("answer = %+v, want only endpoint %+v", res, want)
	}
}

// TestJicofoThreeParticipants plays Jicofo's call sequence (signaling.md §4) for three
// participants against the real bridge process through Prosody, asserting whole answers.
func TestJicofoThreeParticipants(t *testing.T) {
	p := debianProsody(t, false)
	f := joinFocus(t, p)
	rb := startBridge(t, debianConf(t, p)+"videobridge.apis.rest.enabled = true\nvideobridge.health.require-valid-address = false\n")
	if _, err := f.WaitBridge(ctxT(t, 20*time.Second), debianNick, nil); err != nil {
		t.Fatal(err)
	}
	mediaPort := rb.mediaPort(t)
	ctx := ctxT(t, 60*time.Second)
	do := func(req *colibri2.ConferenceModify) (*colibri2.ConferenceModified, error) {
		return f.Do(ctx, debianNick, req)
	}

	// §4.2: A and B allocate; Jicofo pipelines B's request before A's answer arrives.
	pa, err := f.Colibri(debianNick, focus.AllocateRequest(meetingID, roomJID, true, "79f0273e", "Garett-w1o", true))
	if err != nil {
		t.Fatal(err)
	}
	pb, err := f.Colibri(debianNick, focus.AllocateRequest(meetingID, "", false, "a1b2c3d4", "Blake-x2p", true))
	if err != nil {
		t.Fatal(err)
	}
	resA := waitColibri(t, ctx, pa)
	resB := waitColibri(t, ctx, pb)
	fbA := checkAllocation(t, resA, "79f0273e", mediaPort)
	fbB := checkAllocation(t, resB, "a1b2c3d4", mediaPort)
	if fbA.MediaSources[0].Sources[0].SSRC != fbB.MediaSources[0].Sources[0].SSRC ||
		fbA.MediaSources[1].Sources[0].SSRC != fbB.MediaSources[1].Sources[0].SSRC {
		t.Errorf("feedback sources differ between requests of one conference: %+v vs %+v", fbA, fbB)
	}
	if resA.Endpoints[0].Transport.ICE.Ufrag == resB.Endpoints[0].Transport.ICE.Ufrag {
		t.Errorf("two endpoints got the same ufrag")
	}

	// §4.3: session-accept → transport + sources update, answered with the bare endpoint.
	const fp = "BB:50:EE:83:47:4C:EB:04:4F:9E:32:5D:EC:42:9C:33:1E:E5:DF:17:46:C3:AA:20:E1:F5:C6:0B:E7:C4:78:BF"
	res, err := do(focus.AcceptRequest(meetingID, "79f0273e", "Garett-w1o", "sXoJ", "PirYicPKtYw4+mkIUOm1wWQm", fp, focus.SimulcastSources("79f0273e", 1000)))
	onlyEndpoint(t, res, err, colibri2.Endpoint{ID: "79f0273e"})
	res, err = do(focus.AcceptRequest(meetingID, "a1b2c3d4", "Blake-x2p", "Yt7q", "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8", fp, focus.SimulcastSources("a1b2c3d4", 2000)))
	onlyEndpoint(t, res, err, colibri2.Endpoint{ID: "a1b2c3d4"})

	// §4.4: C joins.
	res, err = do(focus.AllocateRequest(meetingID, "", false, "c9d0e1f2", "Casey-z3q", true))
	if err != nil {
		t.Fatal(err)
	}
	checkAllocation(t, res, "c9d0e1f2", mediaPort)
	res, err = do(focus.AcceptRequest(meetingID, "c9d0e1f2", "Casey-z3q", "Qw9e", "Zx1Cv2Bn3Mm4Aa5Ss6Dd7Ff8", fp, focus.SimulcastSources("c9d0e1f2", 3000)))
	onlyEndpoint(t, res, err, colibri2.Endpoint{ID: "c9d0e1f2"})

	// The brewery presence now counts the conference and its three endpoints.
	if _, err := f.WaitBridge(ctx, debianNick, func(s focus.Stats) bool {
		return s["conferences"] == "1" && s["participants"] == "3"
	}); err != nil {
		t.Errorf("presence did not report 1 conference / 3 participants: %v", err)
	}

	// §4.5: A starts a screen share: the complete new source set.
	src := focus.SimulcastSources("79f0273e", 1000)
	src.MediaSources = append(src.MediaSources, colibri2.MediaSource{Type: "video", ID: "79f0273e-v1",
		Sources: []colibri2.Source{{SSRC: 1500, Name: "79f0273e-v1", VideoType: "desktop"}}})
	res, err = do(&colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true,
		Endpoints: []colibri2.Endpoint{{ID: "79f0273e", StatsID: "Garett-w1o", Sources: src}}})
	onlyEndpoint(t, res, err, colibri2.Endpoint{ID: "79f0273e"})

	// §4.6: AV moderation force-mutes B and C in one batch.
	res, err = do(focus.ForceMuteRequest(meetingID, true, true, "a1b2c3d4", "c9d0e1f2"))
	if err != nil || len(res.Endpoints) != 2 || res.Endpoints[0].ID != "a1b2c3d4" || res.Endpoints[1].ID != "c9d0e1f2" {
		t.Errorf("force-mute batch: %+v %v", res, err)
	}

	// Errors (§3.13): unknown endpoint, duplicate create, relay, duplicate endpoint.
	_, err = do(&colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true,
		Endpoints: []colibri2.Endpoint{{ID: "nobody", Sources: &colibri2.Sources{}}}})
	wantColibriError(t, err, colibri2.CondItemNotFound, colibri2.ReasonUnknownEndpoint, "nobody")
	_, err = do(focus.AllocateRequest(meetingID, roomJID, true, "d3e4f5a6", "Dee", true))
	wantColibriError(t, err, colibri2.CondConflict, colibri2.ReasonConferenceAlreadyExists, "")
	_, err = do(focus.AllocateRequest(meetingID, "", false, "c9d0e1f2", "Casey-z3q", true))
	wantColibriError(t, err, colibri2.CondConflict, colibri2.ReasonNone, "")
	_, err = do(&colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true,
		Relays: []colibri2.Relay{{ID: "jvb-2", Create: true, Transport: &colibri2.Transport{}}}})
	wantColibriError(t, err, colibri2.CondFeatureNotImplemented, colibri2.ReasonNone, "") // relays disabled in jvb.conf

	// The bridge did not lose anything to the errors: /colibri/stats still counts 3.
	var st map[string]any
	code, body := rb.get(t, "/colibri/stats")
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil || st["participants"] != float64(3) || st["conferences"] != float64(1) {
		t.Errorf("/colibri/stats = %d %s", code, body)
	}

	// §4.6: C leaves → endpoint expire; then the conference ends.
	res, err = do(focus.ExpireEndpointRequest(meetingID, "c9d0e1f2"))
	onlyEndpoint(t, res, err, colibri2.Endpoint{ID: "c9d0e1f2", Expire: true})
	_, err = do(&colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true,
		Endpoints: []colibri2.Endpoint{{ID: "c9d0e1f2", Sources: &colibri2.Sources{}}}})
	wantColibriError(t, err, colibri2.CondItemNotFound, colibri2.ReasonUnknownEndpoint, "c9d0e1f2")
	res, err = do(focus.ExpireConferenceRequest(meetingID))
	if err != nil || len(res.Endpoints) != 0 || res.Sources != nil {
		t.Errorf("conference expire: %+v %v", res, err)
	}
	_, err = do(focus.ExpireEndpointRequest(meetingID, "79f0273e"))
	wantColibriError(t, err, colibri2.CondItemNotFound, colibri2.ReasonConferenceNotFound, "")
	if _, err := f.WaitBridge(ctx, debianNick, func(s focus.Stats) bool {
		return s["conferences"] == "0" && s["participants"] == "0"
	}); err != nil {
		t.Errorf("presence did not return to 0 conferences: %v", err)
	}
}

// TestMalformedRequests: bad input gets a clear error and disturbs no conference.
func TestMalformedRequests(t *testing.T) {
	p := debianProsody(t, false)
	f := joinFocus(t, p)
	startBridge(t, debianConf(t, p)+"videobridge.health.require-valid-address = false\n")
	if _, err := f.WaitBridge(ctxT(t, 20*time.Second), debianNick, nil); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 30*time.Second)
	if _, err := f.Do(ctx, debianNick, focus.AllocateRequest(meetingID, roomJID, true, "79f0273e", "A", true)); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"no meeting-id":   "<conference-modify xmlns='jitsi:colibri2'><endpoint id='x' expire='true'/></conference-modify>",
		"bad media type":  "<conference-modify xmlns='jitsi:colibri2' meeting-id='" + meetingID + "'><endpoint id='q' create='true'><media type='smell'/></endpoint></conference-modify>",
		"bad ssrc":        "<conference-modify xmlns='jitsi:colibri2' meeting-id='" + meetingID + "'><endpoint id='79f0273e'><sources><media-source type='audio' id='a'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/></media-source></sources></endpoint></conference-modify>",
		"unknown element": "<conference-modify xmlns='jitsi:colibri2' meeting-id='" + meetingID + "'><frobnicate/><endpoint id='79f0273e' wibble='1'><force-mute/></endpoint></conference-modify>",
		"unknown IQ":      "<whatever xmlns='urn:example:nothing'/>",
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := iq(t, f, "get", cases[n])
		got := e.Attr("type")
		want := "error"
		if n == "unknown element" { // unknown elements and attributes are ignored
			want = "result"
		}
		if got != want {
			t.Errorf("%s: answered %s", n, e.Raw)
		}
	}
	// The conference is intact: B still joins it.
	if _, err := f.Do(ctx, debianNick, focus.AllocateRequest(meetingID, "", false, "a1b2c3d4", "B", true)); err != nil {
		t.Errorf("conference disturbed by bad input: %v", err)
	}
}

func waitColibri(t *testing.T, ctx context.Context, p *focus.Pending) *colibri2.ConferenceModified {
	t.Helper()
	e, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := focus.ColibriResult(e)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDrainAndGracefulShutdown drives JVB's shutdown state machine through the REST API and
// checks what Jicofo sees: drain and graceful_shutdown in presence, creates refused with
// graceful_shutdown while existing conferences go on, shutting_down once the last endpoint
// leaves, and the process exiting after shutting-down-delay.
func TestDrainAndGracefulShutdown(t *testing.T) {
	p := debianProsody(t, false)
	f := joinFocus(t, p)
	rb := startBridge(t, debianConf(t, p)+`videobridge.health.require-valid-address = false
videobridge.apis.rest.enabled = true
videobridge.rest.shutdown.enabled = true
videobridge.shutdown.shutting-down-delay = 1 second
`)
	ctx := ctxT(t, 60*time.Second)
	if _, err := f.WaitBridge(ctx, debianNick, nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := rb.post(t, "/colibri/drain/enable", ""); code != 200 {
		t.Fatalf("drain enable: %d", code)
	}
	if _, err := f.WaitBridge(ctx, debianNick, func(s focus.Stats) bool { return s["drain"] == "true" }); err != nil {
		t.Fatal(err)
	}
	// A draining bridge still accepts conferences.
	if _, err := f.Do(ctx, debianNick, focus.AllocateRequest(meetingID, roomJID, true, "79f0273e", "A", true)); err != nil {
		t.Fatalf("create while draining: %v", err)
	}
	if code, _ := rb.post(t, "/colibri/drain/disable", ""); code != 200 {
		t.Fatalf("drain disable: %d", code)
	}

	if code, body := rb.post(t, "/colibri/shutdown", `{"graceful-shutdown": "true"}`); code != 200 {
		t.Fatalf("shutdown: %d %s", code, body)
	}
	if _, err := f.WaitBridge(ctx, debianNick, func(s focus.Stats) bool {
		return s["graceful_shutdown"] == "true" && s["drain"] == "false" && s["shutting_down"] == "false"
	}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Do(ctx, debianNick, focus.AllocateRequest("11111111-2222-3333-4444-555555555555", "other@muc.meet.jitsi", true, "b", "B", true))
	wantColibriError(t, err, colibri2.CondServiceUnavailable, colibri2.ReasonGracefulShutdown, "")
	// The existing conference keeps accepting participants.
	if _, err := f.Do(ctx, debianNick, focus.AllocateRequest(meetingID, "", false, "a1b2c3d4", "B", true)); err != nil {
		t.Fatalf("join existing conference in graceful shutdown: %v", err)
	}
	if _, err := f.Do(ctx, debianNick, focus.ExpireConferenceRequest(meetingID)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WaitBridge(ctx, debianNick, func(s focus.Stats) bool { return s["shutting_down"] == "true" }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rb.exited:
	case <-ctx.Done():
		t.Fatal("bridge did not exit after shutting-down-delay")
	}
	if err := f.WaitGone(ctx, debianNick); err != nil {
		t.Error(err)
	}
}
