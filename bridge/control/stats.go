package control

import "runtime"

// Stat is one /colibri/stats (and MUC presence) value: int64, float64, bool or string, which
// decides its JSON type.
type Stat struct {
	Name  string
	Value any
}

// timestampLayout is JVB's current_timestamp format (yyyy-MM-dd HH:mm:ss.SSS, UTC).
const timestampLayout = "2006-01-02 15:04:05.000"

// confCounts are the gauges derived from the live conferences.
type confCounts struct {
	conferences, endpoints, largest int64
}

func (v *Videobridge) countConferences() confCounts {
	v.mu.Lock()
	defer v.mu.Unlock()
	cc := confCounts{conferences: int64(len(v.byID))}
	for _, c := range v.byID {
		n := int64(len(c.info.Load().Endpoints))
		cc.endpoints += n
		cc.largest = max(cc.largest, n)
	}
	return cc
}

// Stats returns the bridge statistics with JVB's key names, in JVB's order
// (VideobridgeStatisticsShim, signaling.md §5.2). Media-derived values (loss, bit and packet
// rates, RTT, ICE/DTLS outcomes, traffic totals) are zero until the media plane reports them;
// relay (octo_*) values are zero because relays are not implemented; the muc_* keys belong to
// the XMPP client and are added by whoever publishes the stats.
func (v *Videobridge) Stats() []Stat {
	cc := v.countConferences()
	v.mu.Lock()
	graceful, shuttingDown := v.shutdown.gracefulEntered, v.shutdown.state == ShutdownShuttingDown
	v.mu.Unlock()
	i, f := func(n int64) any { return n }, func(x float64) any { return x }
	zero, zerof := i(0), f(0)
	healthy := v.Health() == nil

	stats := []Stat{
		{"incoming_loss", zerof}, {"outgoing_loss", zerof}, {"overall_loss", zerof},
		{"endpoints_with_high_outgoing_loss", zero}, {"tcc_unmatched_feedback", zero},
		{"local_active_endpoints", zero},
		{"bit_rate_download", zero}, {"bit_rate_upload", zero},
		{"packet_rate_download", zero}, {"packet_rate_upload", zero},
		{"rtt_aggregate", zerof}, {"num_eps_oversending", zero},
		{"octo_conferences", zero}, {"inactive_conferences", zero}, {"p2p_conferences", zero},
		// No relayed endpoints exist, so endpoints = participants = local endpoints.
		{"endpoints", i(cc.endpoints)}, {"participants", i(cc.endpoints)},
		{"receive_only_endpoints", zero}, {"inactive_endpoints", zero}, {"octo_endpoints", zero},
		{"endpoints_sending_audio", zero}, {"endpoints_sending_video", zero},
		{"largest_conference", i(cc.largest)},
		{"octo_receive_bitrate", zero}, {"octo_receive_packet_rate", zero},
		{"octo_send_bitrate", zero}, {"octo_send_packet_rate", zero},
		{"endpoints_with_suspended_sources", zero},
		{"total_conferences_created", i(v.conferencesCreated.Load())},
		{"total_conferences_completed", i(v.conferencesCompleted.Load())},
		{"total_conference_seconds", i(v.conferenceMillis.Load() / 1000)},
		{"total_participants", i(v.endpointsCreated.Load())},
		{"total_visitors", i(v.visitorsCreated.Load())},
		{"num_eps_no_msg_transport_after_delay", zero}, {"total_relays", zero},
		{"num_relays_no_msg_transport_after_delay", zero},
		{"total_keyframes_received", zero}, {"total_layering_changes_received", zero},
		{"total_video_stream_milliseconds_received", zero},
		{"stress_level", f(v.stress())},
		{"conferences", i(cc.conferences)},
		{"visitors", i(v.visitors.Load())},
		{"local_endpoints", i(v.localEndpoints.Load())},
		{"total_data_channel_messages_received", zero}, {"total_data_channel_messages_sent", zero},
		{"total_colibri_web_socket_messages_received", zero}, {"total_colibri_web_socket_messages_sent", zero},
		{"total_bytes_received", zero},
		{"endpoints_ice_failed", zero}, {"dtls_failed_endpoints", zero},
		{"relays_ice_failed", zero}, {"dtls_failed_relays", zero},
		{"total_bytes_sent", zero}, {"total_packets_received", zero}, {"total_packets_sent", zero},
		{"total_bytes_received_octo", zero}, {"total_bytes_sent_octo", zero},
		{"total_packets_received_octo", zero}, {"total_packets_sent_octo", zero},
		{"total_dominant_speaker_changes", zero},
		{"preemptive_kfr_sent", zero}, {"preemptive_kfr_suppressed", zero},
		{"total_ice_failed", zero}, {"total_ice_succeeded", zero}, {"total_ice_succeeded_relayed", zero},
		{"average_participant_stress", f(v.opts.AverageParticipantStress)},
		{"threads", i(int64(runtime.NumGoroutine()))},
		{"graceful_shutdown", graceful},
		{"shutting_down", shuttingDown},
		{"drain", v.Drain()},
		{"current_timestamp", v.opts.Clock().UTC().Format(timestampLayout)},
	}
	v.applyMediaStats(stats)
	// JVB puts relay-id only when relays are enabled, and a null (unset) relay-id is omitted:
	// Jicofo takes any relay_id, even an empty one, as a usable Octo relay address.
	if v.opts.RelaysEnabled && v.opts.RelayID != "" {
		stats = append(stats, Stat{"relay_id", v.opts.RelayID})
	}
	stats = append(stats,
		Stat{"endpoints_with_spurious_remb", zero},
		Stat{"healthy", healthy},
		Stat{"endpoints_disconnected", zero}, Stat{"endpoints_reconnected", zero},
		Stat{"version", v.opts.Version},
	)
	if v.opts.Release != "" {
		stats = append(stats, Stat{"release", v.opts.Release})
	}
	if v.opts.Region != "" {
		stats = append(stats, Stat{"region", v.opts.Region})
	}
	return stats
}
