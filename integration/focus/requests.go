package focus

import (
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// Request builders that reproduce what Jicofo sends with its default configuration
// (signaling.md §4: codecs and header extensions from jicofo's reference.conf).

// JicofoAudio is the audio <media/> of Jicofo's default offer.
func JicofoAudio() colibri2.Media {
	return colibri2.Media{
		Type: "audio",
		PayloadTypes: []colibri2.PayloadType{
			{ID: 111, Name: "opus", ClockRate: 48000, Channels: 2,
				Parameters: []colibri2.Parameter{{Name: "minptime", Value: "10"}, {Name: "useinbandfec", Value: "1"}},
				RTCPFbs:    []colibri2.RTCPFb{{Type: "transport-cc"}}},
			{ID: 126, Name: "telephone-event", ClockRate: 8000},
		},
		HeaderExtensions: []colibri2.HeaderExtension{
			{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
			{ID: 10, URI: "urn:ietf:params:rtp-hdrext:sdes:mid"},
			{ID: 5, URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"},
		},
		ExtmapAllowMixed: true,
	}
}

func videoFbs() []colibri2.RTCPFb {
	return []colibri2.RTCPFb{{Type: "ccm", Subtype: "fir"}, {Type: "nack"}, {Type: "nack", Subtype: "pli"}, {Type: "transport-cc"}}
}

// JicofoVideo is the video <media/> of Jicofo's default offer (AV1, VP8, H264, VP9 with RTX).
func JicofoVideo() colibri2.Media {
	rtx := func(id, apt uint8, fb bool) colibri2.PayloadType {
		p := colibri2.PayloadType{ID: id, Name: "rtx", ClockRate: 90000,
			Parameters: []colibri2.Parameter{{Name: "apt", Value: itoa(int(apt))}}}
		if fb {
			p.RTCPFbs = []colibri2.RTCPFb{{Type: "ccm", Subtype: "fir"}, {Type: "nack"}, {Type: "nack", Subtype: "pli"}}
		}
		return p
	}
	return colibri2.Media{
		Type: "video",
		PayloadTypes: []colibri2.PayloadType{
			{ID: 41, Name: "AV1", ClockRate: 90000, RTCPFbs: videoFbs()},
			{ID: 100, Name: "VP8", ClockRate: 90000, RTCPFbs: videoFbs()},
			{ID: 107, Name: "H264", ClockRate: 90000, RTCPFbs: videoFbs(),
				Parameters: []colibri2.Parameter{{Name: "profile-level-id", Value: "42e01f;level-asymmetry-allowed=1;packetization-mode=1;"}}},
			{ID: 101, Name: "VP9", ClockRate: 90000, RTCPFbs: videoFbs()},
			rtx(42, 41, true), rtx(96, 100, true), rtx(97, 101, true), rtx(99, 107, false),
		},
		HeaderExtensions: []colibri2.HeaderExtension{
			{ID: 11, URI: "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"},
			{ID: 10, URI: "urn:ietf:params:rtp-hdrext:sdes:mid"},
			{ID: 3, URI: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"},
			{ID: 5, URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"},
		},
		ExtmapAllowMixed: true,
	}
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [12]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// AllocateRequest is Jicofo's endpoint allocation (§4.2): conference create on the first one.
func AllocateRequest(meetingID, room string, createConference bool, endpointID, statsID string, sctp bool) *colibri2.ConferenceModify {
	ep := colibri2.Endpoint{
		ID: endpointID, Create: true, StatsID: statsID,
		Media:        []colibri2.Media{JicofoAudio(), JicofoVideo()},
		Transport:    &colibri2.Transport{ICEControlling: true},
		Sources:      &colibri2.Sources{},
		Capabilities: []string{colibri2.CapSourceNames, colibri2.CapSSRCRewriting},
	}
	if sctp {
		ep.Transport.SCTP = &colibri2.SCTP{}
	}
	req := &colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true, Endpoints: []colibri2.Endpoint{ep}}
	if createConference {
		req.Create = true
		req.Name = room
	}
	return req
}

// SimulcastSources is a client's source set as Jicofo forwards it (§3.6): audio plus a
// 3-layer simulcast camera with RTX, SSRCs derived from base.
func SimulcastSources(endpointID string, base uint32) *colibri2.Sources {
	s1, s2, s3 := base+1, base+2, base+3
	r1, r2, r3 := base+11, base+12, base+13
	v := endpointID + "-v0"
	src := func(ssrc uint32, vt string) colibri2.Source {
		return colibri2.Source{SSRC: ssrc, Name: v, VideoType: vt}
	}
	return &colibri2.Sources{MediaSources: []colibri2.MediaSource{
		{Type: "audio", ID: endpointID + "-a0", Sources: []colibri2.Source{{SSRC: base, Name: endpointID + "-a0"}}},
		{Type: "video", ID: v,
			Sources: []colibri2.Source{src(s1, "camera"), src(r1, ""), src(s2, ""), src(r2, ""), src(s3, ""), src(r3, "")},
			SSRCGroups: []colibri2.SSRCGroup{
				{Semantics: "FID", SSRCs: []uint32{s1, r1}},
				{Semantics: "SIM", SSRCs: []uint32{s1, s2, s3}},
				{Semantics: "FID", SSRCs: []uint32{s2, r2}},
				{Semantics: "FID", SSRCs: []uint32{s3, r3}},
			}},
	}}
}

// AcceptRequest is the update Jicofo sends after a client's session-accept (§4.3).
func AcceptRequest(meetingID, endpointID, statsID, ufrag, pwd, fingerprint string, sources *colibri2.Sources) *colibri2.ConferenceModify {
	return &colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true, Endpoints: []colibri2.Endpoint{{
		ID: endpointID, StatsID: statsID,
		Transport: &colibri2.Transport{ICE: &colibri2.ICEUDPTransport{Ufrag: ufrag, Pwd: pwd, RTCPMux: true,
			Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "active", Fingerprint: fingerprint}}}},
		Sources: sources,
	}}}
}

// ExpireEndpointRequest expires one endpoint (§4.6).
func ExpireEndpointRequest(meetingID, endpointID string) *colibri2.ConferenceModify {
	return &colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true,
		Endpoints: []colibri2.Endpoint{{ID: endpointID, Expire: true}}}
}

// ExpireConferenceRequest expires the whole conference (§4.6).
func ExpireConferenceRequest(meetingID string) *colibri2.ConferenceModify {
	return &colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true, Expire: true}
}

// ForceMuteRequest is Jicofo's AV-moderation batch (§4.6): only force-mute children.
func ForceMuteRequest(meetingID string, audio, video bool, endpointIDs ...string) *colibri2.ConferenceModify {
	req := &colibri2.ConferenceModify{MeetingID: meetingID, RTCStatsEnabled: true}
	for _, id := range endpointIDs {
		req.Endpoints = append(req.Endpoints, colibri2.Endpoint{ID: id, ForceMute: &colibri2.ForceMute{Audio: audio, Video: video}})
	}
	return req
}
