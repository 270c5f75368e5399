package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// field binds one HOCON path to one Config field. The same table reads a file (set) and
// renders the defaults as a fallback tree (render), against which `${...}` in a user's file
// resolves — as JVB resolves against its reference.conf.
type field struct {
	path   string
	set    func(c *Config, v *value) error
	render func(c *Config) *value // nil result: not in the fallback tree
}

func bind[T any](path string, ptr func(*Config) *T, parse func(string) (T, error), render func(T) *value) field {
	return field{
		path: path,
		set: func(c *Config, v *value) error {
			s, err := v.scalarText()
			if err != nil {
				return err
			}
			x, err := parse(s)
			if err != nil {
				return err
			}
			*ptr(c) = x
			return nil
		},
		render: func(c *Config) *value { return render(*ptr(c)) },
	}
}

func scalar(text string) *value {
	return &value{kind: kindString, pos: pos{file: "<defaults>", line: 1, col: 1}, text: text, quoted: true}
}

func boolF(path string, ptr func(*Config) *bool) field {
	return bind(path, ptr, parseBool, func(b bool) *value { return scalar(strconv.FormatBool(b)) })
}

func intF(path string, lo, hi int64, ptr func(*Config) *int) field {
	parse := func(s string) (int, error) { n, err := parseInt(s, lo, hi); return int(n), err }
	return bind(path, ptr, parse, func(n int) *value { return scalar(strconv.Itoa(n)) })
}

func portF(path string, ptr func(*Config) *int) field { return intF(path, 1, 65535, ptr) }

// httpPortF allows -1, which disables a Jetty connector.
func httpPortF(path string, ptr func(*Config) *int) field { return intF(path, -1, 65535, ptr) }

func floatF(path string, lo, hi float64, ptr func(*Config) *float64) field {
	parse := func(s string) (float64, error) { return parseFloat(s, lo, hi) }
	return bind(path, ptr, parse, func(f float64) *value { return scalar(strconv.FormatFloat(f, 'g', -1, 64)) })
}

// durF reads a duration of at least lo. Intervals use lo = 1ns: a zero period would make
// time.NewTicker panic in whoever consumes it.
func durF(path string, lo time.Duration, ptr func(*Config) *time.Duration) field {
	parse := func(s string) (time.Duration, error) {
		d, err := parseDuration(s)
		if err == nil && d < lo {
			if lo > 0 {
				return 0, fmt.Errorf("duration %q must be positive", s)
			}
			return 0, fmt.Errorf("duration %q must not be negative", s)
		}
		return d, err
	}
	render := func(d time.Duration) *value {
		if d%time.Millisecond == 0 {
			return scalar(strconv.FormatInt(d.Milliseconds(), 10) + "ms")
		}
		return scalar(strconv.FormatInt(int64(d), 10) + "ns")
	}
	return bind(path, ptr, parse, render)
}

const positive = time.Nanosecond

func strF(path string, ptr func(*Config) *string) field {
	return bind(path, ptr, func(s string) (string, error) { return s, nil }, scalar)
}

func enumF(path string, allowed []string, ptr func(*Config) *string) field {
	parse := func(s string) (string, error) {
		for _, a := range allowed {
			if s == a {
				return s, nil
			}
		}
		return "", fmt.Errorf("invalid value %q (want one of %s)", s, strings.Join(allowed, ", "))
	}
	return bind(path, ptr, parse, scalar)
}

func bitrateF(path string, ptr func(*Config) *int64) field {
	return bind(path, ptr, parseBitrate, func(n int64) *value { return scalar(strconv.FormatInt(n, 10) + "bps") })
}

func levelF(path string, ptr func(*Config) *zapcore.Level) field {
	parse := func(s string) (zapcore.Level, error) {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "debug":
			return zapcore.DebugLevel, nil
		case "info":
			return zapcore.InfoLevel, nil
		case "warn", "warning":
			return zapcore.WarnLevel, nil
		case "error":
			return zapcore.ErrorLevel, nil
		}
		return 0, fmt.Errorf("invalid log level %q (want debug, info, warn or error)", s)
	}
	return bind(path, ptr, parse, func(l zapcore.Level) *value { return scalar(l.String()) })
}

func optBoolF(path string, ptr func(*Config) *OptionalBool) field {
	parse := func(s string) (OptionalBool, error) {
		b, err := parseBool(s)
		if b {
			return True, err
		}
		return False, err
	}
	render := func(o OptionalBool) *value {
		if o == Unset {
			return nil
		}
		return scalar(strconv.FormatBool(o == True))
	}
	return bind(path, ptr, parse, render)
}

// strsF reads a list of strings. An empty list reads as nil, like the defaults.
func strsF(path string, ptr func(*Config) *[]string) field {
	return field{
		path: path,
		set: func(c *Config, v *value) error {
			if v.kind != kindList {
				return fmt.Errorf("expected a list, got %s", v.kind)
			}
			var out []string
			for i, item := range v.items {
				s, err := item.scalarText()
				if err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
				out = append(out, s)
			}
			*ptr(c) = out
			return nil
		},
		render: func(c *Config) *value {
			l := &value{kind: kindList, pos: scalar("").pos}
			for _, s := range *ptr(c) {
				l.items = append(l.items, scalar(s))
			}
			return l
		},
	}
}

const (
	presenceIntervalPath = "videobridge.apis.xmpp-client.presence-interval"
	checkIntervalPath    = "videobridge.entity-expiration.check-interval"
)

// fields lists every plain key Load reads. Structured keys (xmpp-client configs, static
// mappings, the legacy websockets.domain) are read in load.go.
var fields = concatFields(xmppFields, iceFields, httpFields, miscFields, ccFields)

func concatFields(groups ...[]field) []field {
	var out []field
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

var xmppFields = []field{
	durF(presenceIntervalPath, positive, func(c *Config) *time.Duration { return &c.XMPP.PresenceInterval }),
	boolF("videobridge.apis.xmpp-client.stats-filter.enabled", func(c *Config) *bool { return &c.XMPP.StatsFilter.Enabled }),
	strsF("videobridge.apis.xmpp-client.stats-filter.whitelist", func(c *Config) *[]string { return &c.XMPP.StatsFilter.Whitelist }),
}

var iceFields = []field{
	portF("videobridge.ice.udp.port", func(c *Config) *int { return &c.ICE.UDPPort }),
	strF("videobridge.ice.ufrag-prefix", func(c *Config) *string { return &c.ICE.UfragPrefix }),
	boolF("videobridge.ice.advertise-private-candidates", func(c *Config) *bool { return &c.ICE.AdvertisePrivateCandidates }),
	boolF("videobridge.ice.restart.enabled", func(c *Config) *bool { return &c.ICE.Restart.Enabled }),
	durF("videobridge.ice.restart.transition-window", 0, func(c *Config) *time.Duration { return &c.ICE.Restart.TransitionWindow }),
	durF("videobridge.ice.restart.timeout", 0, func(c *Config) *time.Duration { return &c.ICE.Restart.Timeout }),
	boolF("ice4j.harvest.use-ipv6", func(c *Config) *bool { return &c.ICE.Harvest.UseIPv6 }),
	boolF("ice4j.harvest.use-link-local-addresses", func(c *Config) *bool { return &c.ICE.Harvest.UseLinkLocalAddresses }),
	strsF("ice4j.harvest.allowed-addresses", func(c *Config) *[]string { return &c.ICE.Harvest.AllowedAddresses }),
	strsF("ice4j.harvest.blocked-addresses", func(c *Config) *[]string { return &c.ICE.Harvest.BlockedAddresses }),
	strsF("ice4j.harvest.allowed-interfaces", func(c *Config) *[]string { return &c.ICE.Harvest.AllowedInterfaces }),
	strsF("ice4j.harvest.blocked-interfaces", func(c *Config) *[]string { return &c.ICE.Harvest.BlockedInterfaces }),
	intF("ice4j.harvest.udp.receive-buffer-size", 0, math.MaxInt32, func(c *Config) *int { return &c.ICE.Harvest.UDPReceiveBufferSize }),
	boolF("ice4j.harvest.mapping.stun.enabled", func(c *Config) *bool { return &c.ICE.Harvest.STUN.Enabled }),
	strsF("ice4j.harvest.mapping.stun.addresses", func(c *Config) *[]string { return &c.ICE.Harvest.STUN.Addresses }),
	durF("ice4j.consent-freshness.interval", positive, func(c *Config) *time.Duration { return &c.ICE.ConsentFreshness.Interval }),
	intF("ice4j.consent-freshness.max-retransmissions", 0, math.MaxInt32, func(c *Config) *int { return &c.ICE.ConsentFreshness.MaxRetransmissions }),
}

var httpFields = []field{
	strF("videobridge.http-servers.private.host", func(c *Config) *string { return &c.HTTP.Private.Host }),
	httpPortF("videobridge.http-servers.private.port", func(c *Config) *int { return &c.HTTP.Private.Port }),
	httpPortF("videobridge.http-servers.private.tls-port", func(c *Config) *int { return &c.HTTP.Private.TLSPort }),
	strF("videobridge.http-servers.private.key-store-path", func(c *Config) *string { return &c.HTTP.Private.KeyStorePath }),
	strF("videobridge.http-servers.private.key-store-password", func(c *Config) *string { return &c.HTTP.Private.KeyStorePassword }),
	boolF("videobridge.http-servers.private.send-server-version", func(c *Config) *bool { return &c.HTTP.Private.SendServerVersion }),
	strF("videobridge.http-servers.public.host", func(c *Config) *string { return &c.HTTP.Public.Host }),
	httpPortF("videobridge.http-servers.public.port", func(c *Config) *int { return &c.HTTP.Public.Port }),
	httpPortF("videobridge.http-servers.public.tls-port", func(c *Config) *int { return &c.HTTP.Public.TLSPort }),
	strF("videobridge.http-servers.public.key-store-path", func(c *Config) *string { return &c.HTTP.Public.KeyStorePath }),
	strF("videobridge.http-servers.public.key-store-password", func(c *Config) *string { return &c.HTTP.Public.KeyStorePassword }),
	boolF("videobridge.http-servers.public.send-server-version", func(c *Config) *bool { return &c.HTTP.Public.SendServerVersion }),
	boolF("videobridge.apis.rest.enabled", func(c *Config) *bool { return &c.REST.Colibri }),
	boolF("videobridge.rest.shutdown.enabled", func(c *Config) *bool { return &c.REST.Shutdown }),
	boolF("videobridge.rest.drain.enabled", func(c *Config) *bool { return &c.REST.Drain }),
	boolF("videobridge.rest.health.enabled", func(c *Config) *bool { return &c.REST.Health }),
	boolF("videobridge.rest.version.enabled", func(c *Config) *bool { return &c.REST.Version }),
	boolF("videobridge.rest.prometheus.enabled", func(c *Config) *bool { return &c.REST.Prometheus }),
	boolF("videobridge.rest.debug.enabled", func(c *Config) *bool { return &c.REST.Debug }),
	boolF("videobridge.rest.rtcstats.enabled", func(c *Config) *bool { return &c.REST.RTCStats }),
	boolF("videobridge.websockets.enabled", func(c *Config) *bool { return &c.Websockets.Enabled }),
	strF("videobridge.websockets.server-id", func(c *Config) *string { return &c.Websockets.ServerID }),
	strsF("videobridge.websockets.domains", func(c *Config) *[]string { return &c.Websockets.Domains }),
	optBoolF("videobridge.websockets.tls", func(c *Config) *OptionalBool { return &c.Websockets.TLS }),
	strsF("videobridge.websockets.relay-domains", func(c *Config) *[]string { return &c.Websockets.RelayDomains }),
	boolF("videobridge.websockets.enable-compression", func(c *Config) *bool { return &c.Websockets.EnableCompression }),
	boolF("videobridge.websockets.send-keepalive-pings", func(c *Config) *bool { return &c.Websockets.SendKeepalivePings }),
	durF("videobridge.websockets.keepalive-ping-interval", positive, func(c *Config) *time.Duration { return &c.Websockets.KeepalivePingInterval }),
	durF("videobridge.websockets.idle-timeout", positive, func(c *Config) *time.Duration { return &c.Websockets.IdleTimeout }),
}

var miscFields = []field{
	boolF("videobridge.sctp.enabled", func(c *Config) *bool { return &c.SCTP.Enabled }),
	boolF("videobridge.relay.enabled", func(c *Config) *bool { return &c.Relay.Enabled }),
	strF("videobridge.relay.region", func(c *Config) *string { return &c.Relay.Region }),
	strF("videobridge.relay.relay-id", func(c *Config) *string { return &c.Relay.RelayID }),
	durF("videobridge.stats.interval", positive, func(c *Config) *time.Duration { return &c.Stats.Interval }),
	durF("videobridge.health.interval", positive, func(c *Config) *time.Duration { return &c.Health.Interval }),
	durF("videobridge.health.timeout", positive, func(c *Config) *time.Duration { return &c.Health.Timeout }),
	durF("videobridge.health.max-check-duration", positive, func(c *Config) *time.Duration { return &c.Health.MaxCheckDuration }),
	boolF("videobridge.health.sticky-failures", func(c *Config) *bool { return &c.Health.StickyFailures }),
	boolF("videobridge.health.require-valid-address", func(c *Config) *bool { return &c.Health.RequireValidAddress }),
	boolF("videobridge.health.require-stun", func(c *Config) *bool { return &c.Health.RequireSTUN }),
	durF("videobridge.shutdown.graceful-shutdown-max-duration", 0, func(c *Config) *time.Duration { return &c.Shutdown.GracefulShutdownMaxDuration }),
	intF("videobridge.shutdown.graceful-shutdown-min-participants", 0, math.MaxInt32, func(c *Config) *int { return &c.Shutdown.GracefulShutdownMinParticipants }),
	durF("videobridge.shutdown.shutting-down-delay", 0, func(c *Config) *time.Duration { return &c.Shutdown.ShuttingDownDelay }),
	boolF("videobridge.initial-drain-mode", func(c *Config) *bool { return &c.InitialDrainMode }),
	strF("videobridge.version.release", func(c *Config) *string { return &c.Version.Release }),
	boolF("videobridge.version.announce", func(c *Config) *bool { return &c.Version.Announce }),
	enumF("videobridge.load-management.load-measurements.load-measurement", []string{"cpu-usage", "packet-rate"},
		func(c *Config) *string { return &c.LoadManagement.LoadMeasurement }),
	floatF("videobridge.load-management.load-measurements.packet-rate.load-threshold", 0, math.MaxFloat64,
		func(c *Config) *float64 { return &c.LoadManagement.PacketRate.Load }),
	floatF("videobridge.load-management.load-measurements.packet-rate.recovery-threshold", 0, math.MaxFloat64,
		func(c *Config) *float64 { return &c.LoadManagement.PacketRate.Recovery }),
	floatF("videobridge.load-management.load-measurements.cpu-usage.load-threshold", 0, math.MaxFloat64,
		func(c *Config) *float64 { return &c.LoadManagement.CPUUsage.Load }),
	floatF("videobridge.load-management.load-measurements.cpu-usage.recovery-threshold", 0, math.MaxFloat64,
		func(c *Config) *float64 { return &c.LoadManagement.CPUUsage.Recovery }),
	floatF("videobridge.load-management.average-participant-stress", 0, math.MaxFloat64,
		func(c *Config) *float64 { return &c.LoadManagement.AverageParticipantStress }),
	durF("videobridge.entity-expiration.timeout", positive, func(c *Config) *time.Duration { return &c.EntityExpiration.Timeout }),
	durF(checkIntervalPath, positive, func(c *Config) *time.Duration { return &c.EntityExpiration.CheckInterval }),
	levelF("videobridge.log-level", func(c *Config) *zapcore.Level { return &c.Log.Level }),
	boolF("videobridge.redact-remote-addresses", func(c *Config) *bool { return &c.Log.RedactRemoteAddresses }),
}

var ccFields = []field{
	boolF("videobridge.cc.trust-bwe", func(c *Config) *bool { return &c.CC.TrustBWE }),
	boolF("videobridge.cc.use-vla-target-bitrate", func(c *Config) *bool { return &c.CC.UseVLATargetBitrate }),
	floatF("videobridge.cc.bwe-change-threshold", 0, math.MaxFloat64, func(c *Config) *float64 { return &c.CC.BWEChangeThreshold }),
	intF("videobridge.cc.default-max-height-px", 0, math.MaxInt32, func(c *Config) *int { return &c.CC.DefaultMaxHeightPx }),
	intF("videobridge.cc.initial-max-height-px", 0, math.MaxInt32, func(c *Config) *int { return &c.CC.InitialMaxHeightPx }),
	intF("videobridge.cc.onstage-preferred-height-px", 0, math.MaxInt32, func(c *Config) *int { return &c.CC.OnstagePreferredHeightPx }),
	floatF("videobridge.cc.onstage-preferred-framerate", 0, math.MaxFloat64, func(c *Config) *float64 { return &c.CC.OnstagePreferredFramerate }),
	boolF("videobridge.cc.allow-oversend-onstage", func(c *Config) *bool { return &c.CC.AllowOversendOnstage }),
	bitrateF("videobridge.cc.max-oversend-bitrate", func(c *Config) *int64 { return &c.CC.MaxOversendBitrate }),
	durF("videobridge.cc.padding-period", positive, func(c *Config) *time.Duration { return &c.CC.PaddingPeriod }),
	durF("videobridge.cc.max-time-between-calculations", positive, func(c *Config) *time.Duration { return &c.CC.MaxTimeBetweenCalculations }),
	intF("videobridge.cc.jvb-last-n", -1, math.MaxInt32, func(c *Config) *int { return &c.CC.JVBLastN }),
	intF("videobridge.cc.initial-last-n", -1, math.MaxInt32, func(c *Config) *int { return &c.CC.InitialLastN }),
	bitrateF("videobridge.cc.assumed-bandwidth-limit", func(c *Config) *int64 { return &c.CC.AssumedBandwidthLimit }),
}

// defaultTree renders c as a resolved HOCON tree for substitution fallback.
func defaultTree(c *Config) *value {
	root := newObject(scalar("").pos)
	for _, f := range fields {
		v := f.render(c)
		if v == nil {
			continue
		}
		cur := root
		segs := strings.Split(f.path, ".")
		for _, seg := range segs[:len(segs)-1] {
			next, ok := cur.fields[seg]
			if !ok {
				next = newObject(v.pos)
				cur.set(seg, next)
			}
			cur = next
		}
		cur.set(segs[len(segs)-1], v)
	}
	return root
}
