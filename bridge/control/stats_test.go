package control

import (
	"reflect"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// jvbStatKeys is VideobridgeStatisticsShim's order (signaling.md §5.2) minus the muc_* keys,
// with relay_id, release and region present.
var jvbStatKeys = []string{
	"incoming_loss", "outgoing_loss", "overall_loss", "endpoints_with_high_outgoing_loss", "tcc_unmatched_feedback",
	"local_active_endpoints", "bit_rate_download", "bit_rate_upload", "packet_rate_download", "packet_rate_upload",
	"rtt_aggregate", "num_eps_oversending", "octo_conferences", "inactive_conferences", "p2p_conferences",
	"endpoints", "participants", "receive_only_endpoints", "inactive_endpoints", "octo_endpoints",
	"endpoints_sending_audio", "endpoints_sending_video", "largest_conference", "octo_receive_bitrate",
	"octo_receive_packet_rate", "octo_send_bitrate", "octo_send_packet_rate", "endpoints_with_suspended_sources",
	"total_conferences_created", "total_conferences_completed", "total_conference_seconds", "total_participants",
	"total_visitors", "num_eps_no_msg_transport_after_delay", "total_relays", "num_relays_no_msg_transport_after_delay",
	"total_keyframes_received", "total_layering_changes_received", "total_video_stream_milliseconds_received",
	"stress_level", "conferences", "visitors", "local_endpoints", "total_data_channel_messages_received",
	"total_data_channel_messages_sent", "total_colibri_web_socket_messages_received",
	"total_colibri_web_socket_messages_sent", "total_bytes_received", "endpoints_ice_failed", "dtls_failed_endpoints",
	"relays_ice_failed", "dtls_failed_relays", "total_bytes_sent", "total_packets_received", "total_packets_sent",
	"total_bytes_received_octo", "total_bytes_sent_octo", "total_packets_received_octo", "total_packets_sent_octo",
	"total_dominant_speaker_changes", "preemptive_kfr_sent", "preemptive_kfr_suppressed", "total_ice_failed",
	"total_ice_succeeded", "total_ice_succeeded_relayed", "average_participant_stress", "threads",
	"graceful_shutdown", "shutting_down", "drain", "current_timestamp", "relay_id",
	"endpoints_with_spurious_remb", "healthy", "endpoints_disconnected", "endpoints_reconnected",
	"version", "release", "region",
}

func TestStatsKeysAndTypes(t *testing.T) {
	tb := newTestBridge(t, func(o *Options) {
		o.RelaysEnabled, o.RelayID, o.Release, o.Region = true, "jvb-1", "123", "eu-west-1"
	})
	stats := tb.Stats()
	var names []string
	for _, s := range stats {
		names = append(names, s.Name)
		switch s.Value.(type) {
		case int64, float64, bool, string:
		default:
			t.Errorf("%s has type %T", s.Name, s.Value)
		}
	}
	if !reflect.DeepEqual(names, jvbStatKeys) {
		t.Fatalf("keys\n got %v\nwant %v", names, jvbStatKeys)
	}
	// Without relays/release/region the optional keys disappear; relays enabled without a
	// relay-id publish no relay_id either (JVB omits the null value).
	for name, mod := range map[string]func(*Options){
		"nothing configured":        nil,
		"relays without a relay-id": func(o *Options) { o.RelaysEnabled = true },
		"relay-id, relays disabled": func(o *Options) { o.RelayID = "jvb-1" },
	} {
		plain := newTestBridge(t, mod).Stats()
		for _, s := range plain {
			if s.Name == "relay_id" || s.Name == "release" || s.Name == "region" {
				t.Errorf("%s: %s present", name, s.Name)
			}
		}
		if len(plain) != len(jvbStatKeys)-3 {
			t.Fatalf("%s: %d stats, want %d", name, len(plain), len(jvbStatKeys)-3)
		}
	}
}

func TestStatsValues(t *testing.T) {
	tb := newTestBridge(t, func(o *Options) { o.AverageParticipantStress = 0.02 })
	v := tb.Videobridge
	mustDo(t, v, allocate("m1", true, createEP("a")))
	mustDo(t, v, allocate("m1", false, createEP("b")))
	vis := createEP("v")
	vis.MucRole = "visitor"
	mustDo(t, v, allocate("m1", false, vis))
	mustDo(t, v, allocate("m2", true, createEP("c")))
	mustDo(t, v, &colibri2.ConferenceModify{MeetingID: "m3", Create: true})
	tb.clock.Advance(90*time.Second + 400*time.Millisecond)
	mustDo(t, v, expireConf("m2"))

	want := map[string]any{
		"conferences": int64(2), "endpoints": int64(3), "participants": int64(3), "local_endpoints": int64(3),
		"visitors": int64(1), "largest_conference": int64(3),
		"total_conferences_created": int64(3), "total_conferences_completed": int64(1),
		"total_conference_seconds": int64(90), "total_participants": int64(4), "total_visitors": int64(1),
		"stress_level": 3 * 0.02, "average_participant_stress": 0.02,
		"graceful_shutdown": false, "shutting_down": false, "drain": false, "healthy": true,
		"current_timestamp": "2026-08-20 12:36:27.189", "version": "2.3.999-test",
		"bit_rate_download": int64(0), "incoming_loss": 0.0, "octo_endpoints": int64(0),
	}
	stats := v.Stats()
	for name, w := range want {
		if got := statValue(stats, name); got != w {
			t.Errorf("%s = %#v, want %#v", name, got, w)
		}
	}
	if n, _ := statValue(stats, "threads").(int64); n < 3 {
		t.Errorf("threads = %d", n)
	}
	v.SetStressLevel(func() float64 { return 0.5 })
	if got := statValue(v.Stats(), "stress_level"); got != 0.5 {
		t.Errorf("installed stress level: %v", got)
	}
}
