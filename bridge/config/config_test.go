package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// testdataDir holds real Jitsi configuration files (shared, never copied into the repo).
const testdataDir = "../../../shared/testdata/jitsi"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// diff lists the paths of the fields that differ between two values of the same type.
func diff(path string, a, b reflect.Value) []string {
	if a.Kind() == reflect.Struct {
		var out []string
		for i := 0; i < a.NumField(); i++ {
			out = append(out, diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))...)
		}
		return out
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, a.Interface(), b.Interface())}
	}
	return nil
}

func assertConfig(t *testing.T, got, want *Config) {
	t.Helper()
	for _, d := range diff("Config", reflect.ValueOf(*got), reflect.ValueOf(*want)) {
		t.Error(d)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.ICE.UDPPort != 10000 || c.HTTP.Private.Host != "127.0.0.1" || c.HTTP.Private.Port != 8080 ||
		len(c.XMPP.Clients) != 0 || c.HTTP.Public.Port != -1 {
		t.Errorf("unexpected defaults: %+v", c)
	}
	c.XMPP.StatsFilter.Whitelist[0] = "changed"
	if Default().XMPP.StatsFilter.Whitelist[0] == "changed" {
		t.Error("Default() shares slices between calls")
	}
}

// JVB's own default files, loaded as the config file, must give exactly our defaults: this
// proves the Go defaults match JVB's reference.conf (and application.conf's overrides).
func TestLoadJitsiDefaultFilesEqualDefault(t *testing.T) {
	for _, name := range []string{"jvb-reference.conf", "jmt-reference.conf", "jvb-application.conf"} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(filepath.Join(testdataDir, name), zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			assertConfig(t, c, Default())
		})
	}
}

// Including the reference files and then overriding stats.interval moves presence-interval too:
// the reference's `${videobridge.stats.interval}` resolves against the final merged tree.
func TestLoadIncludesReferenceAndOverrides(t *testing.T) {
	dir := t.TempDir()
	abs, err := filepath.Abs(testdataDir)
	if err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf("include %q\ninclude file(%q)\ninclude %q\nvideobridge.stats.interval = 10 seconds\n",
		filepath.Join(abs, "jvb-reference.conf"), filepath.Join(abs, "jmt-reference.conf"),
		filepath.Join(abs, "jvb-application.conf"))
	path := filepath.Join(dir, "jvb.conf")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Stats.Interval = 10 * time.Second
	want.XMPP.PresenceInterval = 10 * time.Second
	assertConfig(t, c, want)
}

func TestLoadDebian(t *testing.T) {
	c, err := Load(filepath.Join(testdataDir, "debian-jvb.conf"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.XMPP.Clients = []XMPPClient{{
		ID:            "shard",
		Hostname:      "localhost",
		Port:          5222,
		Domain:        "auth.meet.example.org",
		Username:      "jvb",
		Password:      "Xq3vT9pLw2",
		MUCJIDs:       []string{"jvbbrewery@internal.auth.meet.example.org"},
		MUCNickname:   "6f1c3f0e-2a9b-4d7e-9c55-0d7a8e1b2c34",
		SecurityMode:  SecurityIfPossible, // localhost
		IQHandlerMode: "sync",
	}}
	want.ICE.Harvest.STUN.Addresses = []string{"meet-jit-si-turnrelay.jitsi.net:443"}
	assertConfig(t, c, want)
}

// A jvb.conf as rendered from values set by the file, in every format HOCON allows.
func TestLoadValues(t *testing.T) {
	src := `
videobridge {
  ice { udp.port = 10001, ufrag-prefix = "jvb-1:", advertise-private-candidates = no }
  http-servers.private { host = 0.0.0.0, port = 9080, key-store-path = /etc/ks.jks }
  http-servers.public.port = 9090
  apis.rest.enabled = true
  rest { shutdown.enabled = on, debug.enabled = false }
  websockets { enabled = true, domain = "meet.example.org:443", tls = true, keepalive-ping-interval = PT30S }
  relay { enabled = true, region = eu-west, relay-id = jvb-2 }
  stats.interval = 2500
  health { interval = 30 seconds, timeout = 1.5 minutes, require-stun = true }
  shutdown { graceful-shutdown-max-duration = "12 hours", graceful-shutdown-min-participants = 3, shutting-down-delay = 0 }
  entity-expiration.timeout = 2m
  initial-drain-mode = true
  version.release = 123
  load-management { average-participant-stress = 0.02, load-measurements.load-measurement = packet-rate }
  cc { trust-bwe = false, max-oversend-bitrate = 1 Mbps, padding-period = 20 milliseconds, jvb-last-n = 5 }
  log-level = DEBUG
}
ice4j.harvest {
  use-ipv6 = false
  blocked-interfaces = [docker0, "br-1"]
  mapping.static-mappings = [
    { local-address = 10.0.0.5, public-address = "203.0.113.7", name = ip-0 }
  ]
}
`
	c, err := load("/etc/jvb.conf", []byte(src), noFiles, nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	w := Default()
	w.ICE.UDPPort, w.ICE.UfragPrefix, w.ICE.AdvertisePrivateCandidates = 10001, "jvb-1:", false
	w.HTTP.Private.Host, w.HTTP.Private.Port, w.HTTP.Private.KeyStorePath = "0.0.0.0", 9080, "/etc/ks.jks"
	w.HTTP.Public.Port = 9090
	w.REST.Colibri, w.REST.Shutdown, w.REST.Debug = true, true, false
	w.Websockets.Enabled, w.Websockets.TLS = true, True
	w.Websockets.Domains = []string{"meet.example.org:443"}
	w.Websockets.RelayDomains = []string{"meet.example.org:443"}
	w.Websockets.KeepalivePingInterval = 30 * time.Second
	w.Relay = Relay{Enabled: true, Region: "eu-west", RelayID: "jvb-2"}
	w.Stats.Interval = 2500 * time.Millisecond
	w.XMPP.PresenceInterval = 2500 * time.Millisecond // follows stats.interval
	w.Health.Interval, w.Health.Timeout, w.Health.RequireSTUN = 30*time.Second, 90*time.Second, true
	w.Shutdown = Shutdown{GracefulShutdownMaxDuration: 12 * time.Hour, GracefulShutdownMinParticipants: 3}
	w.EntityExpiration = EntityExpiration{Timeout: 2 * time.Minute, CheckInterval: 2 * time.Minute}
	w.InitialDrainMode = true
	w.Version.Release = "123"
	w.LoadManagement.AverageParticipantStress, w.LoadManagement.LoadMeasurement = 0.02, "packet-rate"
	w.CC.TrustBWE, w.CC.MaxOversendBitrate, w.CC.PaddingPeriod, w.CC.JVBLastN = false, 1_000_000, 20*time.Millisecond, 5
	w.Log.Level = zapcore.DebugLevel
	w.ICE.Harvest.UseIPv6 = false
	w.ICE.Harvest.BlockedInterfaces = []string{"docker0", "br-1"}
	w.ICE.Harvest.StaticMappings = []StaticMapping{{LocalAddress: "10.0.0.5", PublicAddress: "203.0.113.7", Name: "ip-0"}}
	assertConfig(t, c, w)
}

func TestLoadErrors(t *testing.T) {
	const file = "/etc/jitsi/videobridge/jvb.conf"
	const prefix = "config: " + file + ": "
	tests := []struct {
		name, src, want string
	}{
		{"non-numeric port", `videobridge.ice.udp.port = "abc"`, prefix + `videobridge.ice.udp.port: invalid integer "abc"`},
		{"port out of range", `videobridge.ice.udp.port = 70000`, prefix + `videobridge.ice.udp.port: 70000 out of range [1, 65535]`},
		{"port as list", `videobridge.ice.udp.port = [1]`, prefix + `videobridge.ice.udp.port: expected a single value, got list`},
		{"bad duration", `videobridge.health.interval = 5 parsecs`,
			prefix + `videobridge.health.interval: invalid duration "5 parsecs": unknown unit "parsecs"`},
		{"zero interval", `videobridge.stats.interval = 0`, prefix + `videobridge.stats.interval: duration "0" must be positive`},
		{"negative delay", `videobridge.shutdown.shutting-down-delay = -1s`,
			prefix + `videobridge.shutdown.shutting-down-delay: duration "-1s" must not be negative`},
		{"bad bool", `videobridge.sctp.enabled = maybe`, prefix + `videobridge.sctp.enabled: invalid boolean "maybe"`},
		{"bad float", `videobridge.load-management.average-participant-stress = lots`,
			prefix + `videobridge.load-management.average-participant-stress: invalid number "lots"`},
		{"bad bitrate", `videobridge.cc.max-oversend-bitrate = 5 furlongs`,
			prefix + `videobridge.cc.max-oversend-bitrate: invalid bitrate "5 furlongs": unknown unit "furlongs"`},
		{"bad enum", `videobridge.load-management.load-measurements.load-measurement = bogus`,
			prefix + `videobridge.load-management.load-measurements.load-measurement: invalid value "bogus" (want one of cpu-usage, packet-rate)`},
		{"bad log level", `videobridge.log-level = verbose`,
			prefix + `videobridge.log-level: invalid log level "verbose" (want debug, info, warn or error)`},
		{"list expected", `ice4j.harvest.allowed-addresses = 10.0.0.1`,
			prefix + `ice4j.harvest.allowed-addresses: expected a list, got string`},
		{"xmpp port keeps the key's spelling", `videobridge.apis.xmpp-client.configs.shard { hostname = h, username = u,
			password = p, muc_jids = "m@x", muc_nickname = n, port = abc }`,
			prefix + `videobridge.apis.xmpp-client.configs.shard.port: invalid integer "abc"`},
		{"xmpp bool", `videobridge.apis.xmpp-client.configs.s { HOSTNAME = h, USERNAME = u, PASSWORD = p,
			MUC_JIDS = "m@x", MUC_NICKNAME = n, DISABLE_CERTIFICATE_VERIFICATION = sure }`,
			prefix + `videobridge.apis.xmpp-client.configs.s.DISABLE_CERTIFICATE_VERIFICATION: invalid boolean "sure"`},
		{"static mapping without public address", `ice4j.harvest.mapping.static-mappings = [{ local-address = 10.0.0.1 }]`,
			prefix + `ice4j.harvest.mapping.static-mappings[0].public-address: missing`},
		{"static mapping with one port", `ice4j.harvest.mapping.static-mappings = [
			{ local-address = 10.0.0.1, public-address = 1.2.3.4, public-port = 12000 }]`,
			prefix + `ice4j.harvest.mapping.static-mappings[0]: local-port and public-port must be set together`},
		{"static mapping bad port", `ice4j.harvest.mapping.static-mappings = [{}, 
			{ local-address = a, public-address = b, local-port = 0, public-port = 1 }]`,
			prefix + `ice4j.harvest.mapping.static-mappings[0].local-address: missing`},
		{"syntax error", "videobridge {\n  ice.udp.port: 5,\n  stats.interval = [1,\n}", "config: " + file + `:4:1: expected a value, got '}'`},
		{"unresolved substitution", "videobridge.stats.interval = ${nope}", "config: " + file + ":1:30: unresolved substitution ${nope}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(file, []byte(tt.src), noFiles, nil, zap.NewNop())
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err.Error(), tt.want)
			}
			if !errors.Is(err, ErrInvalidValue) && !errors.Is(err, ErrParse) {
				t.Errorf("error %v matches neither ErrInvalidValue nor ErrParse", err)
			}
		})
	}
}

// A value error in an included file names that file, not the main one.
func TestLoadErrorNamesIncludedFile(t *testing.T) {
	files := map[string]string{"custom-jvb.conf": "videobridge.ice.udp.port = nope"}
	_, err := load("/etc/jvb/jvb.conf", []byte(`include "custom-jvb.conf"`), memFS(files), nil, zap.NewNop())
	want := `config: /etc/jvb/custom-jvb.conf: videobridge.ice.udp.port: invalid integer "nope"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.conf"), zap.NewNop())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

// A `${...}` the file does not define resolves against the defaults (JVB's reference.conf
// plays this role), then the environment.
func TestLoadSubstitutionFallback(t *testing.T) {
	src := "videobridge.health.interval = ${videobridge.stats.interval}\nvideobridge.relay.region = ${?REGION}"
	env := func(name string) (string, bool) { return map[string]string{"REGION": "eu"}[name], name == "REGION" }
	c, err := load("/etc/jvb.conf", []byte(src), noFiles, env, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if c.Health.Interval != 5*time.Second || c.Relay.Region != "eu" {
		t.Errorf("health.interval = %v, relay.region = %q", c.Health.Interval, c.Relay.Region)
	}
}

func TestLoadLogsUnknownKeysAndSkippedClients(t *testing.T) {
	src := `
videobridge.foo.bar = 1
videobridge.apis.xmpp-client.configs {
  good { HOSTNAME = h, USERNAME = u, PASSWORD = p, MUC_JIDS = "m@x", MUC_NICKNAME = n, EXTRA = 1 }
  nopass { HOSTNAME = h, USERNAME = u, MUC_JIDS = "m@x", MUC_NICKNAME = n }
  badmode { HOSTNAME = h, USERNAME = u, PASSWORD = p, MUC_JIDS = "m@x", MUC_NICKNAME = n, SECURITY_MODE = REQUIRED }
}
ice4j.harvest.mapping.aws.enabled = false
jmt.bwe.estimator.engine = GoogleCc2
jicofo.octo.enabled = true
`
	core, logs := observer.New(zapcore.DebugLevel)
	c, err := load("/etc/jvb.conf", []byte(src), noFiles, nil, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.XMPP.Clients) != 1 || c.XMPP.Clients[0].ID != "good" {
		t.Fatalf("clients = %+v, want only good", c.XMPP.Clients)
	}
	var got []string
	for _, e := range logs.All() {
		fields := e.ContextMap()
		if fields["component"] != "config" {
			t.Errorf("log entry %q without component=config", e.Message)
		}
		switch e.Message {
		case "ignoring incomplete xmpp-client config":
			got = append(got, fmt.Sprintf("warn %v: %v", fields["id"], fields["reason"]))
		case "configuration keys with no effect in this bridge":
			got = append(got, fmt.Sprintf("debug %v", fields["keys"]))
		}
	}
	want := []string{
		`warn badmode: invalid SECURITY_MODE "REQUIRED"`,
		"warn nopass: missing PASSWORD",
		"debug [videobridge.foo.bar ice4j.harvest.mapping.aws.enabled]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logs:\n got %q\nwant %q", got, want)
	}
}

func TestNewXMPPClient(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"HOSTNAME": "xmpp.example.org", "USERNAME": "jvb", "PASSWORD": "pw",
			"MUC_JIDS": " a@muc.example.org, ,b@muc.example.org ", "MUC_NICKNAME": "nick"}
	}
	with := func(k, v string) map[string]string { m := base(); m[k] = v; return m }
	without := func(k string) map[string]string { m := base(); delete(m, k); return m }
	full := XMPPClient{ID: "s", Hostname: "xmpp.example.org", Port: 5222, Domain: "xmpp.example.org",
		Username: "jvb", Password: "pw", MUCJIDs: []string{"a@muc.example.org", "b@muc.example.org"},
		MUCNickname: "nick", SecurityMode: SecurityRequired, IQHandlerMode: "sync"}
	mod := func(f func(*XMPPClient)) XMPPClient { c := full; f(&c); return c }
	tests := []struct {
		name       string
		props      map[string]string
		want       XMPPClient
		wantReason string
		wantProp   string
	}{
		{"defaults", base(), full, "", ""},
		{"port and domain", with("PORT", "5333"), mod(func(c *XMPPClient) { c.Port = 5333 }), "", ""},
		{"domain", with("DOMAIN", "auth.example.org"), mod(func(c *XMPPClient) { c.Domain = "auth.example.org" }), "", ""},
		{"loopback is ifpossible", with("HOSTNAME", "127.0.0.1"), mod(func(c *XMPPClient) {
			c.Hostname, c.Domain, c.SecurityMode = "127.0.0.1", "127.0.0.1", SecurityIfPossible
		}), "", ""},
		{"ipv6 loopback is ifpossible", with("HOSTNAME", "::1"), mod(func(c *XMPPClient) {
			c.Hostname, c.Domain, c.SecurityMode = "::1", "::1", SecurityIfPossible
		}), "", ""},
		{"explicit security mode", with("SECURITY_MODE", "disabled"), mod(func(c *XMPPClient) { c.SecurityMode = SecurityDisabled }), "", ""},
		{"async handler", with("IQ_HANDLER_MODE", "async"), mod(func(c *XMPPClient) { c.IQHandlerMode = "async" }), "", ""},
		{"certificate verification off", with("DISABLE_CERTIFICATE_VERIFICATION", "true"),
			mod(func(c *XMPPClient) { c.DisableCertificateVerification = true }), "", ""},
		{"missing hostname", without("HOSTNAME"), XMPPClient{}, "missing HOSTNAME", ""},
		{"empty password", with("PASSWORD", ""), XMPPClient{}, "missing PASSWORD", ""},
		{"only commas in MUC_JIDS", with("MUC_JIDS", " , "), XMPPClient{}, "missing MUC_JIDS", ""},
		{"invalid security mode", with("SECURITY_MODE", "always"), XMPPClient{}, `invalid SECURITY_MODE "always"`, ""},
		{"invalid iq handler mode", with("IQ_HANDLER_MODE", "fast"), XMPPClient{}, `invalid IQ_HANDLER_MODE "fast"`, ""},
		{"port out of range", with("PORT", "0"), XMPPClient{}, "", "PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, perr := newXMPPClient("s", tt.props)
			if reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
			if (perr != nil) != (tt.wantProp != "") || (perr != nil && perr.prop != tt.wantProp) {
				t.Errorf("error = %+v, want one for %q", perr, tt.wantProp)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	c.ICE.UDPPort = 0
	c.Stats.Interval = 0
	c.XMPP.Clients = []XMPPClient{{ID: "x"}}
	err := c.Validate()
	want := "config: invalid value: videobridge.ice.udp.port: 0 out of range [1, 65535]\n" +
		"config: invalid value: videobridge.stats.interval: duration 0s must be positive\n" +
		"config: invalid value: videobridge.apis.xmpp-client.configs.x: HOSTNAME, DOMAIN, USERNAME, PASSWORD and MUC_NICKNAME must be set"
	if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidValue) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
