// Package config holds the bridge's configuration: typed values with JVB's defaults, read from
// an existing Jitsi jvb.conf (HOCON) by an in-tree reader. A Config is immutable once loaded:
// it is passed by pointer to constructors, and nobody writes to it (slices included).
package config

import (
	"time"

	"go.uber.org/zap/zapcore"
)

// Config is everything the bridge reads from jvb.conf. The HOCON path of each field is in its
// comment; defaults are JVB's effective ones (its reference.conf plus application.conf, and
// ice4j/jicoco defaults where JVB does not override them).
type Config struct {
	XMPP             XMPP
	ICE              ICE
	HTTP             HTTPServers
	REST             REST
	Websockets       Websockets
	SCTP             SCTP
	Relay            Relay
	Stats            Stats
	Health           Health
	Shutdown         Shutdown
	InitialDrainMode bool // videobridge.initial-drain-mode
	Version          Version
	LoadManagement   LoadManagement
	EntityExpiration EntityExpiration
	CC               CC
	Log              Log
}

// XMPP is videobridge.apis.xmpp-client.
type XMPP struct {
	Clients          []XMPPClient  // configs.<id>, complete blocks only, sorted by ID
	PresenceInterval time.Duration // presence-interval (default: videobridge.stats.interval)
	StatsFilter      StatsFilter   // stats-filter
}

// StatsFilter limits which statistics are published in the brewery presence.
type StatsFilter struct {
	Enabled   bool     // enabled
	Whitelist []string // whitelist
}

// SecurityMode is Smack's ConnectionConfiguration.SecurityMode, spelled as JVB expects it.
type SecurityMode string

// The security modes SECURITY_MODE accepts.
const (
	SecurityRequired   SecurityMode = "required"
	SecurityIfPossible SecurityMode = "ifpossible"
	SecurityDisabled   SecurityMode = "disabled"
)

// XMPPClient is one videobridge.apis.xmpp-client.configs.<id> block (jicoco
// MucClientConfiguration). Keys in the block are case-insensitive.
type XMPPClient struct {
	ID                             string       // the block name
	Hostname                       string       // HOSTNAME (required): TCP host
	Port                           int          // PORT (default 5222)
	Domain                         string       // DOMAIN (default: Hostname)
	Username                       string       // USERNAME (required)
	Password                       string       // PASSWORD (required)
	MUCJIDs                        []string     // MUC_JIDS (required): comma-separated
	MUCNickname                    string       // MUC_NICKNAME (required)
	DisableCertificateVerification bool         // DISABLE_CERTIFICATE_VERIFICATION
	SecurityMode                   SecurityMode // SECURITY_MODE (default required; ifpossible on loopback)
	IQHandlerMode                  string       // IQ_HANDLER_MODE: "sync" (default) or "async"
}

// ICE is videobridge.ice plus the ice4j settings JVB passes through.
type ICE struct {
	UDPPort                    int        // videobridge.ice.udp.port
	UfragPrefix                string     // videobridge.ice.ufrag-prefix
	AdvertisePrivateCandidates bool       // videobridge.ice.advertise-private-candidates
	Restart                    ICERestart // videobridge.ice.restart
	Harvest                    Harvest    // ice4j.harvest
	ConsentFreshness           Consent    // ice4j.consent-freshness
}

// ICERestart is videobridge.ice.restart (make-before-break ICE restarts).
type ICERestart struct {
	Enabled          bool          // enabled
	TransitionWindow time.Duration // transition-window
	Timeout          time.Duration // timeout
}

// Harvest is ice4j.harvest: which local addresses become candidates and how they are mapped.
type Harvest struct {
	UseIPv6               bool            // use-ipv6
	UseLinkLocalAddresses bool            // use-link-local-addresses (JVB sets false)
	AllowedAddresses      []string        // allowed-addresses
	BlockedAddresses      []string        // blocked-addresses
	AllowedInterfaces     []string        // allowed-interfaces
	BlockedInterfaces     []string        // blocked-interfaces
	UDPReceiveBufferSize  int             // udp.receive-buffer-size (bytes; 0 = OS default)
	StaticMappings        []StaticMapping // mapping.static-mappings
	STUN                  STUNMapping     // mapping.stun (kept for compatibility, not used)
}

// StaticMapping adds a server-reflexive candidate with PublicAddress (and PublicPort) for every
// host candidate on LocalAddress (and LocalPort) — the NAT setting docker deployments use.
type StaticMapping struct {
	LocalAddress  string // local-address (required)
	PublicAddress string // public-address (required)
	LocalPort     int    // local-port (0 = any)
	PublicPort    int    // public-port (0 = same as the host candidate)
	Name          string // name
}

// STUNMapping is ice4j.harvest.mapping.stun.
type STUNMapping struct {
	Enabled   bool     // enabled
	Addresses []string // addresses ("host:port")
}

// Consent is ice4j.consent-freshness (RFC 7675).
type Consent struct {
	Interval           time.Duration // interval
	MaxRetransmissions int           // max-retransmissions
}

// HTTPServers is videobridge.http-servers.
type HTTPServers struct {
	Private HTTPServer // private: REST APIs
	Public  HTTPServer // public: colibri websockets
}

// HTTPServer is one jicoco Jetty server. It is enabled iff Port != -1 || TLSPort != -1, and
// serves TLS (on TLSPort) only when KeyStorePath is set.
type HTTPServer struct {
	Host              string // host ("" = all addresses)
	Port              int    // port (-1 = disabled)
	TLSPort           int    // tls-port (-1 = disabled)
	KeyStorePath      string // key-store-path
	KeyStorePassword  string // key-store-password
	SendServerVersion bool   // send-server-version
}

// REST holds the per-API switches; a disabled API answers 404.
type REST struct {
	Colibri    bool // videobridge.apis.rest.enabled
	Shutdown   bool // videobridge.rest.shutdown.enabled (also needs Colibri)
	Drain      bool // videobridge.rest.drain.enabled
	Health     bool // videobridge.rest.health.enabled
	Version    bool // videobridge.rest.version.enabled
	Prometheus bool // videobridge.rest.prometheus.enabled
	Debug      bool // videobridge.rest.debug.enabled
	RTCStats   bool // videobridge.rest.rtcstats.enabled
}

// OptionalBool is a boolean that may be unset: JVB treats an absent websockets.tls
// differently from false.
type OptionalBool int8

// The values of OptionalBool.
const (
	Unset OptionalBool = iota
	False
	True
)

// Websockets is videobridge.websockets (colibri-ws).
type Websockets struct {
	Enabled               bool          // enabled
	ServerID              string        // server-id
	Domains               []string      // domains (or the legacy single domain)
	TLS                   OptionalBool  // tls
	RelayDomains          []string      // relay-domains (default: Domains)
	EnableCompression     bool          // enable-compression
	SendKeepalivePings    bool          // send-keepalive-pings
	KeepalivePingInterval time.Duration // keepalive-ping-interval
	IdleTimeout           time.Duration // idle-timeout
}

// SCTP is videobridge.sctp.
type SCTP struct {
	Enabled bool // enabled
}

// Relay is videobridge.relay (Octo).
type Relay struct {
	Enabled bool   // enabled
	Region  string // region
	RelayID string // relay-id
}

// Stats is videobridge.stats.
type Stats struct {
	Interval time.Duration // interval
}

// Health is videobridge.health.
type Health struct {
	Interval            time.Duration // interval
	Timeout             time.Duration // timeout
	MaxCheckDuration    time.Duration // max-check-duration
	StickyFailures      bool          // sticky-failures
	RequireValidAddress bool          // require-valid-address
	RequireSTUN         bool          // require-stun
}

// Shutdown is videobridge.shutdown (JVB ShutdownManager).
type Shutdown struct {
	GracefulShutdownMaxDuration     time.Duration // graceful-shutdown-max-duration
	GracefulShutdownMinParticipants int           // graceful-shutdown-min-participants
	ShuttingDownDelay               time.Duration // shutting-down-delay
}

// Version is videobridge.version.
type Version struct {
	Release  string // release ("" = unset)
	Announce bool   // announce
}

// LoadManagement is videobridge.load-management.
type LoadManagement struct {
	LoadMeasurement          string    // load-measurements.load-measurement: "cpu-usage" or "packet-rate"
	PacketRate               Threshold // load-measurements.packet-rate (packets per second)
	CPUUsage                 Threshold // load-measurements.cpu-usage (fraction of all cores)
	AverageParticipantStress float64   // average-participant-stress
}

// Threshold is a load level and the level below which the bridge counts as recovered.
type Threshold struct {
	Load     float64 // load-threshold
	Recovery float64 // recovery-threshold
}

// EntityExpiration is videobridge.entity-expiration.
type EntityExpiration struct {
	Timeout       time.Duration // timeout
	CheckInterval time.Duration // check-interval (default: Timeout)
}

// CC is videobridge.cc (bandwidth allocation).
type CC struct {
	TrustBWE                   bool          // trust-bwe
	UseVLATargetBitrate        bool          // use-vla-target-bitrate
	BWEChangeThreshold         float64       // bwe-change-threshold
	DefaultMaxHeightPx         int           // default-max-height-px
	InitialMaxHeightPx         int           // initial-max-height-px
	OnstagePreferredHeightPx   int           // onstage-preferred-height-px
	OnstagePreferredFramerate  float64       // onstage-preferred-framerate
	AllowOversendOnstage       bool          // allow-oversend-onstage
	MaxOversendBitrate         int64         // max-oversend-bitrate (bits per second)
	PaddingPeriod              time.Duration // padding-period
	MaxTimeBetweenCalculations time.Duration // max-time-between-calculations
	JVBLastN                   int           // jvb-last-n (-1 = no limit)
	InitialLastN               int           // initial-last-n (-1 = no limit)
	AssumedBandwidthLimit      int64         // assumed-bandwidth-limit (bits per second; 0 = unset)
}

// Log holds logging settings.
type Log struct {
	Level                 zapcore.Level // videobridge.log-level (ours): debug, info, warn or error
	RedactRemoteAddresses bool          // videobridge.redact-remote-addresses
}

// Default returns JVB's defaults: media on UDP 10000, private HTTP on 127.0.0.1:8080, no XMPP
// connection. The bridge runs on it without any file. Each call returns a new value.
func Default() *Config {
	return &Config{
		XMPP: XMPP{
			PresenceInterval: 5 * time.Second,
			StatsFilter: StatsFilter{Whitelist: []string{"average_participant_stress", "colibri2",
				"current_timestamp", "drain", "graceful_shutdown", "healthy", "region", "relay_id",
				"release", "shutting_down", "stress_level", "version"}},
		},
		ICE: ICE{
			UDPPort:                    10000,
			AdvertisePrivateCandidates: true,
			Restart:                    ICERestart{Enabled: true, TransitionWindow: 3 * time.Second, Timeout: 20 * time.Second},
			Harvest: Harvest{
				UseIPv6:              true,
				UDPReceiveBufferSize: 10 << 20, // JVB application.conf: 10 MB for the single port
				STUN:                 STUNMapping{Enabled: true},
			},
			ConsentFreshness: Consent{Interval: 5 * time.Second, MaxRetransmissions: 5},
		},
		HTTP: HTTPServers{
			Private: HTTPServer{Host: "127.0.0.1", Port: 8080, TLSPort: 8443},
			Public:  HTTPServer{Port: -1, TLSPort: -1},
		},
		REST: REST{Drain: true, Health: true, Version: true, Prometheus: true, Debug: true, RTCStats: true},
		Websockets: Websockets{
			ServerID:              "default-id",
			EnableCompression:     true,
			SendKeepalivePings:    true,
			KeepalivePingInterval: 15 * time.Second,
			IdleTimeout:           60 * time.Second,
		},
		SCTP:  SCTP{Enabled: true},
		Stats: Stats{Interval: 5 * time.Second},
		Health: Health{Interval: time.Minute, Timeout: 90 * time.Second, MaxCheckDuration: 3 * time.Second,
			RequireValidAddress: true},
		Shutdown: Shutdown{GracefulShutdownMaxDuration: 24 * time.Hour, ShuttingDownDelay: time.Minute},
		LoadManagement: LoadManagement{
			LoadMeasurement:          "cpu-usage",
			PacketRate:               Threshold{Load: 50000, Recovery: 40000},
			CPUUsage:                 Threshold{Load: 0.9, Recovery: 0.72},
			AverageParticipantStress: 0.01,
		},
		EntityExpiration: EntityExpiration{Timeout: time.Minute, CheckInterval: time.Minute},
		CC: CC{
			TrustBWE:                   true,
			BWEChangeThreshold:         0.15,
			DefaultMaxHeightPx:         180,
			OnstagePreferredHeightPx:   360,
			OnstagePreferredFramerate:  30,
			AllowOversendOnstage:       true,
			MaxOversendBitrate:         500_000,
			PaddingPeriod:              15 * time.Millisecond,
			MaxTimeBetweenCalculations: 5 * time.Second,
			JVBLastN:                   -1,
			InitialLastN:               -1,
		},
		Log: Log{Level: zapcore.InfoLevel, RedactRemoteAddresses: true},
	}
}
