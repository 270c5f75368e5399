package control

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// fuzzSeeds are Jicofo-shaped requests for the meeting the fuzz bridge already has (endpoints
// 79f0273e and a1b2c3d4) or for a new one.
var fuzzSeeds = []string{
	`<conference-modify xmlns='jitsi:colibri2' meeting-id='m'><endpoint id='e1' create='true'><transport ice-controlling='true'><sctp/></transport><capability name='source-names'/></endpoint></conference-modify>`,
	`<conference-modify xmlns='jitsi:colibri2' meeting-id='beccf2ed-5441-4bfe-96d6-f0f3a6796378'><endpoint id='79f0273e'><transport><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u' pwd='p'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA:BB</fingerprint><candidate component='1' foundation='1' generation='0' id='x' network='0' priority='1' protocol='udp' type='host' ip='192.0.2.1' port='5000'/></transport></transport></endpoint></conference-modify>`,
	`<conference-modify xmlns='jitsi:colibri2' meeting-id='beccf2ed-5441-4bfe-96d6-f0f3a6796378'><endpoint id='a1b2c3d4'><sources><media-source type='video' id='a-v0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1'/><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2'/><ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='1'/><source ssrc='2'/></ssrc-group></media-source></sources></endpoint></conference-modify>`,
	`<conference-modify xmlns='jitsi:colibri2' meeting-id='beccf2ed-5441-4bfe-96d6-f0f3a6796378' expire='true'/>`,
	`<conference-modify xmlns='jitsi:colibri2' meeting-id='beccf2ed-5441-4bfe-96d6-f0f3a6796378'><endpoint id='79f0273e' expire='true'/><endpoint id='a1b2c3d4' expire='true'/></conference-modify>`,
	`<conference-modify xmlns='jitsi:colibri2' meeting-id='beccf2ed-5441-4bfe-96d6-f0f3a6796378'><relay id='r' create='true'/></conference-modify>`,
}

// FuzzConferenceModify drives decoded requests (the XMPP trust boundary) through the colibri2
// semantics twice each: every request is answered exactly once, successful answers echo the
// requested endpoints in order, and the registry counters agree with the snapshots.
func FuzzConferenceModify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	if files, _ := filepath.Glob("../../colibri/colibri2/testdata/*.xml"); len(files) > 0 {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := colibri2.DecodeConferenceModify(data)
		if err != nil {
			return
		}
		tb := newTestBridge(t, func(o *Options) { o.RelaysEnabled = len(data)%2 == 0 })
		mustDo(t, tb.Videobridge, allocate(meeting, true, createEP("79f0273e")))
		mustDo(t, tb.Videobridge, allocate(meeting, false, createEP("a1b2c3d4")))
		for range 2 {
			resp, cerr := do(t, tb.Videobridge, req)
			if cerr != nil {
				continue
			}
			if len(resp.Endpoints) != len(req.Endpoints) {
				t.Fatalf("response has %d endpoints for %d requested", len(resp.Endpoints), len(req.Endpoints))
			}
			for i := range resp.Endpoints {
				if resp.Endpoints[i].ID != req.Endpoints[i].ID {
					t.Fatalf("response endpoint %d is %q, want %q", i, resp.Endpoints[i].ID, req.Endpoints[i].ID)
				}
			}
		}
		tb.settle(t)
		var total int64
		for s := range map[string]bool{meeting: true, req.MeetingID: true} {
			info, ok := tb.Conference(s)
			if !ok {
				continue
			}
			seen := map[string]bool{}
			for _, ep := range info.Endpoints {
				if seen[ep.ID] {
					t.Fatalf("duplicate endpoint %q", ep.ID)
				}
				seen[ep.ID] = true
			}
			total += int64(len(info.Endpoints))
		}
		if got := tb.localEndpoints.Load(); got != total {
			t.Fatalf("local endpoint counter %d, snapshots %d", got, total)
		}
	})
}
