package api

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metricPrefix is JVB's MetricsContainer namespace; dashboards select on it.
const metricPrefix = "jitsi_jvb_"

// NewRegistry returns a registry with the Go runtime and process collectors
// (the counterpart of JVB's JVM metrics).
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

type metricKind uint8

const (
	kindGauge   metricKind = iota
	kindCounter            // name carries the _total suffix, as jicoco's registerCounter adds it
	kindBool               // gauge 1/0; rendered as a JSON boolean by /metrics JSON
)

// statMetric maps one /colibri/stats key to the JVB metric that feeds it in
// VideobridgeStatisticsShim, so the Prometheus view and the stats view of one
// scrape agree. Names (without the jitsi_jvb_ prefix) are JVB's, from
// VideobridgeMetrics.kt, VideobridgePeriodicMetrics.kt, IceTransport.kt,
// JvbHealthChecker.kt and EndpointConnectionStatusMonitor.kt.
type statMetric struct {
	name  string
	kind  metricKind
	key   string  // Stats() key
	scale float64 // multiplier from the stats unit to the metric unit; 0 means 1
	help  string
}

// bridgeStatMetrics is the fixed table. Note JVB's naming quirks, kept on
// purpose: the current endpoint count is current_endpoints (endpoints_total is
// the number ever created), and stats bit rates are kbps while the metrics
// are bps.
var bridgeStatMetrics = []statMetric{
	{"conferences", kindGauge, "conferences", 0, "Current number of conferences."},
	{"current_endpoints", kindGauge, "endpoints", 0, "Number of current endpoints (local and relayed)."},
	{"local_endpoints", kindGauge, "local_endpoints", 0, "Number of local endpoints that exist currently."},
	{"current_visitors", kindGauge, "visitors", 0, "Number of visitor endpoints."},
	{"stress", kindGauge, "stress_level", 0, "Current stress (between 0 and 1)."},
	{"healthy", kindBool, "healthy", 0, "Whether the Videobridge instance is healthy or not."},
	{"graceful_shutdown", kindBool, "graceful_shutdown", 0, "Whether the bridge is in graceful shutdown mode (not accepting new conferences)."},
	{"shutting_down", kindBool, "shutting_down", 0, "Whether the bridge is shutting down."},
	{"drain_mode", kindBool, "drain", 0, "Whether the bridge is in drain shutdown mode."},
	{"largest_conference", kindGauge, "largest_conference", 0, "The size of the largest conference (number of endpoints)."},
	{"incoming_loss_fraction", kindGauge, "incoming_loss", 0, "Fraction of incoming RTP packets that are lost."},
	{"outgoing_loss_fraction", kindGauge, "outgoing_loss", 0, "Fraction of outgoing RTP packets that are lost."},
	{"loss_fraction", kindGauge, "overall_loss", 0, "Fraction of RTP packets that are lost (incoming and outgoing combined)."},
	{"incoming_bitrate", kindGauge, "bit_rate_download", 1000, "Incoming RTP/RTCP bitrate in bps."},
	{"outgoing_bitrate", kindGauge, "bit_rate_upload", 1000, "Outgoing RTP/RTCP bitrate in bps."},
	{"incoming_packet_rate", kindGauge, "packet_rate_download", 0, "Incoming RTP/RTCP packet rate in pps."},
	{"outgoing_packet_rate", kindGauge, "packet_rate_upload", 0, "Outgoing RTP/RTCP packet rate in pps."},
	{"relay_incoming_bitrate", kindGauge, "octo_receive_bitrate", 0, "Incoming RTP/RTCP bitrate from relays in bps."},
	{"relay_outgoing_bitrate", kindGauge, "octo_send_bitrate", 0, "Outgoing RTP/RTCP bitrate to relays in bps."},
	{"relay_incoming_packet_rate", kindGauge, "octo_receive_packet_rate", 0, "Incoming RTP/RTCP packet rate from relays in pps."},
	{"relay_outgoing_packet_rate", kindGauge, "octo_send_packet_rate", 0, "Outgoing RTP/RTCP packet rate to relays in pps."},
	{"average_rtt", kindGauge, "rtt_aggregate", 0, "Average RTT across all local endpoints in ms."},
	{"tcc_unmatched_feedback", kindGauge, "tcc_unmatched_feedback", 0, "Number of TCC feedback packets that did not match sent packets."},
	{"endpoints_with_high_outgoing_loss", kindGauge, "endpoints_with_high_outgoing_loss", 0, "Number of endpoints that have high outgoing loss (>10%)."},
	{"active_endpoints", kindGauge, "local_active_endpoints", 0, "The number of active local endpoints (in a conference where at least one endpoint sends audio or video)."},
	{"endpoints_sending_audio", kindGauge, "endpoints_sending_audio", 0, "The number of local endpoints sending audio."},
	{"endpoints_sending_video", kindGauge, "endpoints_sending_video", 0, "The number of local endpoints sending video."},
	{"endpoints_relayed", kindGauge, "octo_endpoints", 0, "Number of relayed endpoints."},
	{"endpoints_oversending", kindGauge, "num_eps_oversending", 0, "Number of endpoints that we are oversending to."},
	{"endpoints_recvonly", kindGauge, "receive_only_endpoints", 0, "Number of endpoints that are not sending audio or video (but are receiving)."},
	{"endpoints_inactive", kindGauge, "inactive_endpoints", 0, "Number of endpoints in inactive conferences (where no endpoint sends audio or video)."},
	{"endpoints_with_spurious_remb", kindGauge, "endpoints_with_spurious_remb", 0, "Number of endpoints that have sent a REMB packet even though REMB wasn't configured."},
	{"endpoints_with_suspended_sources", kindGauge, "endpoints_with_suspended_sources", 0, "Number of endpoints that we have suspended sending some video streams to because of bwe."},
	{"conferences_inactive", kindGauge, "inactive_conferences", 0, "Number of inactive conferences (no endpoint is sending audio or video)."},
	{"conferences_p2p", kindGauge, "p2p_conferences", 0, "Number of p2p conferences (inactive with 2 endpoints)."},
	{"conferences_with_relay", kindGauge, "octo_conferences", 0, "Number of conferences with one or more relays."},
	{"thread_count", kindGauge, "threads", 0, "Current number of threads (goroutines)."},

	{"conferences_created_total", kindCounter, "total_conferences_created", 0, "The total number of conferences created on the Videobridge."},
	{"conferences_completed_total", kindCounter, "total_conferences_completed", 0, "The total number of conferences completed/expired on the Videobridge."},
	{"conference_seconds_total", kindCounter, "total_conference_seconds", 0, "The total duration in seconds of all completed conferences."},
	{"endpoints_total", kindCounter, "total_participants", 0, "The total number of endpoints created."},
	{"visitors_total", kindCounter, "total_visitors", 0, "The total number of visitor endpoints created."},
	{"relays_total", kindCounter, "total_relays", 0, "The total number of relays created."},
	{"endpoints_no_message_transport_after_delay_total", kindCounter, "num_eps_no_msg_transport_after_delay", 0, "Number of endpoints which had not established a message transport even after some delay."},
	{"relays_no_message_transport_after_delay_total", kindCounter, "num_relays_no_msg_transport_after_delay", 0, "Number of relays which had not established a message transport even after some delay."},
	{"packets_received_total", kindCounter, "total_packets_received", 0, "Number of RTP packets received in conferences on this videobridge."},
	{"packets_sent_total", kindCounter, "total_packets_sent", 0, "Number of RTP packets sent in conferences on this videobridge."},
	{"bytes_received_total", kindCounter, "total_bytes_received", 0, "The total number of bytes received in RTP packets."},
	{"bytes_sent_total", kindCounter, "total_bytes_sent", 0, "The total number of bytes sent in RTP packets."},
	{"relay_packets_received_total", kindCounter, "total_packets_received_octo", 0, "Number of RTP packets received by relays in conferences on this videobridge."},
	{"relay_packets_sent_total", kindCounter, "total_packets_sent_octo", 0, "Number of RTP packets sent by relays in conferences on this videobridge."},
	{"relay_bytes_received_total", kindCounter, "total_bytes_received_octo", 0, "The total number of bytes received by relays in RTP packets."},
	{"relay_bytes_sent_total", kindCounter, "total_bytes_sent_octo", 0, "The total number of bytes sent to relays in RTP packets."},
	{"data_channel_messages_received_total", kindCounter, "total_data_channel_messages_received", 0, "Number of messages received from the data channels of the endpoints."},
	{"data_channel_messages_sent_total", kindCounter, "total_data_channel_messages_sent", 0, "Number of messages sent via the data channels of the endpoints."},
	{"colibri_web_socket_messages_received_total", kindCounter, "total_colibri_web_socket_messages_received", 0, "Number of messages received from colibri web sockets."},
	{"colibri_web_socket_messages_sent_total", kindCounter, "total_colibri_web_socket_messages_sent", 0, "Number of messages sent via colibri web sockets."},
	{"dominant_speaker_changes_total", kindCounter, "total_dominant_speaker_changes", 0, "Number of times the dominant speaker in any conference changed."},
	{"endpoints_ice_failed_total", kindCounter, "endpoints_ice_failed", 0, "Number of endpoints for which ICE failed to establish."},
	{"endpoints_dtls_failed_total", kindCounter, "dtls_failed_endpoints", 0, "Number of endpoints whose ICE connection was established, but DTLS wasn't (at time of expiration)."},
	{"relays_ice_failed_total", kindCounter, "relays_ice_failed", 0, "Number of relays for which ICE failed to establish."},
	{"relays_dtls_failed_total", kindCounter, "dtls_failed_relays", 0, "Number of relays whose ICE connection was established, but DTLS wasn't (at time of expiration)."},
	{"ice_failed_total", kindCounter, "total_ice_failed", 0, "Number of times an ICE Agent failed to establish connectivity."},
	{"ice_succeeded_total", kindCounter, "total_ice_succeeded", 0, "Number of times an ICE Agent succeeded."},
	{"ice_succeeded_relayed_total", kindCounter, "total_ice_succeeded_relayed", 0, "Number of times an ICE Agent succeeded and the selected candidate pair included a relayed candidate."},
	{"keyframes_received_total", kindCounter, "total_keyframes_received", 0, "Number of keyframes that were received (updated on endpoint expiration)."},
	{"layering_changes_received_total", kindCounter, "total_layering_changes_received", 0, "Number of times the layering of an incoming video stream changed (updated on endpoint expiration)."},
	{"video_milliseconds_received_total", kindCounter, "total_video_stream_milliseconds_received", 0, "Total duration of video received, in milliseconds (each SSRC counts separately)."},
	{"preemptive_keyframe_requests_sent_total", kindCounter, "preemptive_kfr_sent", 0, "Number of preemptive keyframe requests that were sent."},
	{"preemptive_keyframe_requests_suppressed_total", kindCounter, "preemptive_kfr_suppressed", 0, "Number of preemptive keyframe requests that were not sent because no endpoints were in stage view."},
	{"endpoints_disconnected_total", kindCounter, "endpoints_disconnected", 0, "Endpoints detected as temporarily inactive/disconnected due to inactivity."},
	{"endpoints_reconnected_total", kindCounter, "endpoints_reconnected", 0, "Endpoints reconnected after being detected as temporarily inactive/disconnected."},
}

// xmppMetric is one metric read from XMPPStatus; when XMPP is not configured
// (nil) it reads 0, which is what JVB shows with no MUC clients.
type xmppMetric struct {
	name string
	kind metricKind
	get  func(XMPPStatus) float64
	help string
}

var xmppMetrics = []xmppMetric{
	{"muc_clients_configured", kindGauge, func(x XMPPStatus) float64 { return float64(x.ClientsConfigured()) }, "Number of MUC clients that are configured."},
	{"muc_clients_connected", kindGauge, func(x XMPPStatus) float64 { return float64(x.ClientsConnected()) }, "Number of MUC clients that are connected."},
	{"mucs_configured", kindGauge, func(x XMPPStatus) float64 { return float64(x.MUCsConfigured()) }, "Number of MUCs that are configured."},
	// JVB registers its "MUCs configured" gauge under the name mucs_connected
	// (XmppConnection.kt); dashboards built on JVB read that name, so it is
	// kept with JVB's value.
	{"mucs_connected", kindGauge, func(x XMPPStatus) float64 { return float64(x.MUCsConfigured()) }, "Number of MUCs that are configured (JVB's historical name)."},
	{"mucs_joined", kindGauge, func(x XMPPStatus) float64 { return float64(x.MUCsJoined()) }, "Number of MUCs that are joined."},
	{"xmpp_disconnects_total", kindCounter, func(x XMPPStatus) float64 { return float64(x.Disconnects()) }, "The number of times one of the XMPP connections has disconnected."},
}

// boolMetricNames lists the jitsi_jvb_ metrics that JVB holds as booleans, so
// the /metrics JSON view can render them as true/false like jicoco does.
var boolMetricNames = func() map[string]bool {
	m := map[string]bool{}
	for _, sm := range bridgeStatMetrics {
		if sm.kind == kindBool {
			m[metricPrefix+sm.name] = true
		}
	}
	return m
}()

// RegisterBridgeMetrics registers the jitsi_jvb_* bridge metrics into reg.
// They are computed at scrape time by one collector that calls b.Stats() once
// per Collect, so every value of a scrape comes from the same snapshot and
// agrees with /colibri/stats. A metric whose Stats() key is absent is not
// exported in that scrape (absent means "not measured", not zero).
// x may be nil. Registering twice into one registry returns an error.
func RegisterBridgeMetrics(reg prometheus.Registerer, b Bridge, x XMPPStatus) error {
	if err := reg.Register(newBridgeCollector(b, x, time.Now())); err != nil {
		return fmt.Errorf("api: register bridge metrics: %w", err)
	}
	return nil
}

// bridgeCollector is a checked prometheus.Collector over Bridge.Stats().
type bridgeCollector struct {
	b         Bridge
	x         XMPPStatus
	startedMs float64

	statDescs   []*prometheus.Desc // parallel to bridgeStatMetrics
	xmppDescs   []*prometheus.Desc // parallel to xmppMetrics
	regionDesc  *prometheus.Desc
	startupDesc *prometheus.Desc
}

func newBridgeCollector(b Bridge, x XMPPStatus, started time.Time) *bridgeCollector {
	c := &bridgeCollector{b: b, x: x, startedMs: float64(started.UnixMilli())}
	for _, m := range bridgeStatMetrics {
		c.statDescs = append(c.statDescs, prometheus.NewDesc(metricPrefix+m.name, m.help, nil, nil))
	}
	for _, m := range xmppMetrics {
		c.xmppDescs = append(c.xmppDescs, prometheus.NewDesc(metricPrefix+m.name, m.help, nil, nil))
	}
	// JVB's InfoMetric("region") exposes jitsi_jvb_region_info{region="…"} 1.
	c.regionDesc = prometheus.NewDesc(metricPrefix+"region_info", "The currently configured region.", []string{"region"}, nil)
	// Set once so restarts are visible (JVB VideobridgeMetrics.startupTime).
	c.startupDesc = prometheus.NewDesc(metricPrefix+"startup_time", "The startup time of the service.", nil, nil)
	return c
}

// Describe implements prometheus.Collector.
func (c *bridgeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.statDescs {
		ch <- d
	}
	for _, d := range c.xmppDescs {
		ch <- d
	}
	ch <- c.regionDesc
	ch <- c.startupDesc
}

// Collect implements prometheus.Collector: one Stats() call per scrape.
func (c *bridgeCollector) Collect(ch chan<- prometheus.Metric) {
	stats := c.b.Stats()
	byKey := make(map[string]any, len(stats))
	for _, s := range stats {
		byKey[s.Name] = s.Value
	}
	for i, m := range bridgeStatMetrics {
		v, ok := statFloat(byKey[m.key])
		if !ok {
			continue
		}
		if m.scale != 0 {
			v *= m.scale
		}
		ch <- prometheus.MustNewConstMetric(c.statDescs[i], valueType(m.kind), v)
	}
	for i, m := range xmppMetrics {
		v := 0.0
		if c.x != nil {
			v = m.get(c.x)
		}
		ch <- prometheus.MustNewConstMetric(c.xmppDescs[i], valueType(m.kind), v)
	}
	if region, ok := byKey["region"].(string); ok && region != "" {
		ch <- prometheus.MustNewConstMetric(c.regionDesc, prometheus.GaugeValue, 1, region)
	}
	ch <- prometheus.MustNewConstMetric(c.startupDesc, prometheus.GaugeValue, c.startedMs)
}

func valueType(k metricKind) prometheus.ValueType {
	if k == kindCounter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// statFloat converts a Stats() value to a sample value. Bools are 1/0;
// numeric strings are accepted so a stat published in its presence string
// form still exports; anything else (nil included) is not a sample.
func statFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case nil:
		return 0, false
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case float64:
		return t, true
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Bool:
		if rv.Bool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
