// Package report holds the bench harness's result format and what is made from it: the JSON
// file machines read, the Markdown summary people read, self-contained SVG plots and an HTML
// page, and the comparison of two results. It does no measuring.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/cityjitsi/videobridge/bench/stats"
)

// Schema is the version of the JSON layout.
const Schema = 1

// Result is one run.
type Result struct {
	Schema   int          `json:"schema"`
	Started  time.Time    `json:"started"`
	Ended    time.Time    `json:"ended"`
	Commit   string       `json:"commit,omitempty"`
	Machine  Machine      `json:"machine"`
	Bridge   BridgeInfo   `json:"bridge"`
	Scenario ScenarioInfo `json:"scenario"`
	Settings Settings     `json:"settings"`
	Outcome  Outcome      `json:"outcome"`
	Join     JoinSummary  `json:"join"`
	Steady   *Summary     `json:"steady,omitempty"`
	Layers   []LayerRow   `json:"layers,omitempty"`
	Series   []Sample     `json:"series"`
	Steps    []Step       `json:"steps,omitempty"`
	Capacity *Capacity    `json:"capacity,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	Hostname  string `json:"hostname"`
	CPUModel  string `json:"cpu_model"`
	CPUs      int    `json:"cpus"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

// BridgeInfo describes the bridge under test.
type BridgeInfo struct {
	Mode    string `json:"mode"` // "local" (started by the harness) or "deployment"
	Version string `json:"version,omitempty"`
	Nick    string `json:"nick,omitempty"`
	PID     int    `json:"pid,omitempty"`
	CPUs    string `json:"cpus,omitempty"` // taskset list the bridge was pinned to
	// Constraints says how ReceiverVideoConstraints reached the bridge ("colibri-ws",
	// "http-debug", "none").
	Constraints string `json:"constraints"`
}

// ScenarioInfo is the load shape.
type ScenarioInfo struct {
	Name        string `json:"name"`
	Conferences int    `json:"conferences"`
	Size        int    `json:"size"`    // participants per conference
	Senders     int    `json:"senders"` // per conference sending audio and video
	LastN       int    `json:"last_n"`
	View        string `json:"view"` // "tile" or "stage"
}

// Settings are the run's knobs.
type Settings struct {
	JoinRate      float64 `json:"join_rate_per_s"`
	WarmupS       float64 `json:"warmup_s"`
	DurationS     float64 `json:"duration_s"`
	SampleEvery   int     `json:"sample_every"`
	RecvLoss      float64 `json:"recv_loss"`
	SendLoss      float64 `json:"send_loss"`
	SendDelayMs   float64 `json:"send_delay_ms"`
	GeneratorCPUs string  `json:"generator_cpus,omitempty"`
	SSRCRewriting bool    `json:"ssrc_rewriting"`
	// Net is the network between a local bridge and the endpoints: "loopback" or "veth"
	// (namespaces joined by a veth pair); empty for a deployment and in older results.
	// NetNote describes it (addresses, where each side's receive softirq runs).
	Net     string `json:"net,omitempty"`
	NetNote string `json:"net_note,omitempty"`
	// ReceiverGRO: the endpoints' sockets had UDP GRO (false in results before it existed).
	ReceiverGRO bool `json:"receiver_gro"`
	// Pacer is the senders' video pacer model ("burst" or "interval"); empty in results
	// before it existed, which paced as "interval" does.
	Pacer string `json:"pacer,omitempty"`
}

// Outcome says how the run ended.
type Outcome struct {
	Status string `json:"status"` // "ok", "failed" or "interrupted"
	Error  string `json:"error,omitempty"`
	// Limited says what limited the load: "bridge", "generator", "neither" or "unknown".
	Limited string   `json:"limited_by"`
	Notes   []string `json:"notes,omitempty"`
}

// JoinSummary covers every join attempt.
type JoinSummary struct {
	Attempted int             `json:"attempted"`
	Connected int             `json:"connected"`
	Failed    int             `json:"failed"`
	Allocate  stats.Quantiles `json:"allocate"`    // colibri2 allocation and transport update
	ICE       stats.Quantiles `json:"ice"`         // ICE connectivity checks until connected
	DTLS      stats.Quantiles `json:"dtls"`        // DTLS handshake
	Media     stats.Quantiles `json:"first_media"` // DTLS done until the first forwarded RTP
	Total     stats.Quantiles `json:"total"`       // allocation start until DTLS done
	// DataChannel is SCTP association plus DCEP open until the bridge's ACK, after DTLS.
	DataChannel     stats.Quantiles `json:"data_channel"`
	DataChannelNote string          `json:"data_channel_note,omitempty"` // why it has no figure
	Failures        []string        `json:"failures,omitempty"`          // the first few, verbatim
}

// Sample is one second of the run.
type Sample struct {
	T            float64 `json:"t"` // seconds since the run started
	Participants int     `json:"participants"`
	BridgeCPU    float64 `json:"bridge_cpu"`    // cores (CPU seconds per second); -1 unknown
	GeneratorCPU float64 `json:"generator_cpu"` // cores
	// OtherCPU is what every other process on the machine used (cores; -1 unknown): noise.
	// SoftIRQ is the kernel's softirq time (cores): packet processing not charged to any
	// process, the bridge's and the harness's included.
	OtherCPU   float64 `json:"other_cpu"`
	SoftIRQ    float64 `json:"softirq_cpu"`
	SentPPS    float64 `json:"sent_pps"` // RTP from the endpoints to the bridge
	RecvPPS    float64 `json:"recv_pps"` // RTP from the bridge to the endpoints
	SentBPS    float64 `json:"sent_bps"`
	RecvBPS    float64 `json:"recv_bps"`
	RSS        float64 `json:"rss_bytes"` // -1 unknown
	Heap       float64 `json:"heap_bytes"`
	Goroutines float64 `json:"goroutines"`
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	Loss       float64 `json:"loss"` // fraction, this second
	Freezes    uint64  `json:"freezes"`
}

// Summary is a measurement window: the steady state of a run, or one capacity step.
type Summary struct {
	WindowS      float64 `json:"window_s"`
	Participants int     `json:"participants"`
	// Bridge CPU in cores over the window, and per forwarded packet (what the bridge sent to
	// the endpoints, counted by them) in µs; -1 unknown.
	BridgeCPU      float64 `json:"bridge_cpu"`
	CPUPerPacketUs float64 `json:"bridge_cpu_us_per_forwarded_packet"`
	// BridgeIdleCPU is the bridge's CPU with nobody connected, measured before the joins;
	// CPUPerPacketMarginalUs charges only the CPU above it to the packets (-1 unknown).
	BridgeIdleCPU          float64 `json:"bridge_idle_cpu"`
	CPUPerPacketMarginalUs float64 `json:"bridge_cpu_us_per_forwarded_packet_above_idle"`
	GeneratorCPU           float64 `json:"generator_cpu"`
	OtherCPU               float64 `json:"other_cpu"`   // other processes on the machine (cores), -1 unknown
	SoftIRQ                float64 `json:"softirq_cpu"` // kernel softirq (cores), see Sample
	InPPS                  float64 `json:"in_pps"`      // into the bridge
	OutPPS                 float64 `json:"out_pps"`     // forwarded
	InBPS                  float64 `json:"in_bps"`
	OutBPS                 float64 `json:"out_bps"`
	BridgeReportOut        float64 `json:"bridge_reported_out_pps"`     // from its metrics; -1 unknown
	BridgeDropped          float64 `json:"bridge_reported_dropped_pps"` // from its metrics; -1 unknown

	Latency      stats.Quantiles `json:"latency"`
	AudioLatency stats.Quantiles `json:"audio_latency"`
	VideoLatency stats.Quantiles `json:"video_latency"`
	Loss         float64         `json:"loss"`
	Freezes      uint64          `json:"freezes"`
	FreezesPerM  float64         `json:"freezes_per_stream_minute"`
	// SilentAtEnd counts forwarded video streams whose last frame is over a second old when
	// the window ends: a freeze still going on (or a stream the bridge stopped on purpose).
	SilentAtEnd  int             `json:"video_streams_silent_at_end"`
	VideoStreams int             `json:"video_streams"`
	RTT          stats.Quantiles `json:"sender_rtt"`

	RSS               float64 `json:"rss_bytes"`
	RSSIdle           float64 `json:"rss_idle_bytes"`
	RSSPerParticipant float64 `json:"rss_per_participant_bytes"` // (RSS - idle) / participants
	Heap              float64 `json:"heap_bytes"`
	Goroutines        float64 `json:"goroutines"`

	// Socket drops count datagrams the kernel dropped because a receive buffer was full: the
	// endpoints' sockets (the harness fell behind) and the bridge's media socket.
	GeneratorSocketDrops uint64 `json:"generator_socket_drops"`
	BridgeSocketDrops    uint64 `json:"bridge_socket_drops"`

	Counters Counters `json:"counters"`
}

// Counters are endpoint-side event counts over a window.
type Counters struct {
	Sampled        uint64 `json:"sampled"`
	DecryptErrors  uint64 `json:"decrypt_errors"`
	VerifyErrors   uint64 `json:"verify_errors"`
	NACKsSent      uint64 `json:"nacks_sent"`
	NACKedPackets  uint64 `json:"nacked_packets"`
	Recovered      uint64 `json:"recovered"`
	PLIsSent       uint64 `json:"plis_sent"`
	PLIsReceived   uint64 `json:"plis_received"`
	KeyframesSent  uint64 `json:"keyframes_sent"`
	RTXReceived    uint64 `json:"rtx_received"`
	NACKsReceived  uint64 `json:"nacks_received"`
	TWCCSent       uint64 `json:"twcc_feedback_sent"`
	TWCCReceived   uint64 `json:"twcc_feedback_received"`
	InducedLoss    uint64 `json:"induced_loss"`
	SendQueueDrops uint64 `json:"send_queue_drops"`
}

// LayerRow is, for one asked maxHeight, the heights receivers were given (verified samples of
// forwarded video by the encoding the sender used).
type LayerRow struct {
	Asked    int               `json:"asked_height"`
	Streams  int               `json:"streams"`
	Received map[string]uint64 `json:"received"` // "180", "360", "720"
}

// Step is one capacity step.
type Step struct {
	Participants int     `json:"participants"`
	Summary      Summary `json:"summary"`
	Held         bool    `json:"held"`
	Why          string  `json:"why,omitempty"`
}

// Capacity is the capacity finder's answer.
type Capacity struct {
	Objective    string `json:"objective"`
	Participants int    `json:"participants"` // the largest load that held; 0 if none
	LimitedBy    string `json:"limited_by"`
}

// Load reads a result file.
func Load(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("report: %s: schema %d, want %d", path, r.Schema, Schema)
	}
	return &r, nil
}

// Marshal is the JSON form, indented.
func (r *Result) Marshal() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
