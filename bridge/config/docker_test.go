package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"go.uber.org/zap"
)

// gomplateFuncs implements the few gomplate/sprig functions docker-jitsi-meet's jvb.conf
// template uses, with their argument order (the piped value comes last).
var gomplateFuncs = template.FuncMap{
	"default": func(def any, in ...any) any {
		if len(in) == 0 || isEmpty(in[0]) {
			return def
		}
		return in[0]
	},
	"toBool": func(in any) bool {
		switch v := in.(type) {
		case bool:
			return v
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "1", "t", "true", "yes", "on":
				return true
			}
		}
		return false
	},
	"splitList": func(sep, s string) []string { return strings.Split(s, sep) },
	"compact": func(in []string) []string {
		var out []string
		for _, s := range in {
			if s != "" {
				out = append(out, s)
			}
		}
		return out
	},
	"splitn": func(sep string, n int, s string) map[string]string {
		out := map[string]string{}
		for i, part := range strings.SplitN(s, sep, n) {
			out[fmt.Sprintf("_%d", i)] = part
		}
		return out
	},
	"join":     func(sep string, in []string) string { return strings.Join(in, sep) },
	"contains": func(substr, s string) bool { return strings.Contains(s, substr) },
	"not":      func(in any) bool { return isEmpty(in) },
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case int:
		return x == 0
	}
	return false
}

// renderDockerConf renders docker-jitsi-meet's template as its entrypoint does, into dir.
func renderDockerConf(t *testing.T, dir string, env map[string]string) string {
	t.Helper()
	tmpl, err := template.New("jvb.conf").Funcs(gomplateFuncs).Parse(string(readTestdata(t, "docker-jvb.conf.tpl")))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]any{"Env": env}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "jvb.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDockerTemplate(t *testing.T) {
	dir := t.TempDir()
	path := renderDockerConf(t, dir, map[string]string{
		"XMPP_SERVER":          "xmpp.meet.jitsi,xmpp2.meet.jitsi:5333",
		"JVB_AUTH_PASSWORD":    "passw0rd",
		"JVB_ADVERTISE_IPS":    "203.0.113.7,198.51.100.9#12000",
		"LOCAL_ADDRESS":        "172.18.0.4",
		"HOSTNAME":             "jvb-7f3c2a9e",
		"ENABLE_OCTO":          "1",
		"JVB_OCTO_RELAY_ID":    "jvb-relay-1",
		"COLIBRI_REST_ENABLED": "true",
	})
	// The template ends with include "custom-jvb.conf", relative to the rendered file.
	custom := "videobridge.stats.interval = 10 seconds\n"
	if err := os.WriteFile(filepath.Join(dir, "custom-jvb.conf"), []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	shard := func(id, host string, port int) XMPPClient {
		return XMPPClient{ID: id, Hostname: host, Port: port, Domain: "auth.meet.jitsi", Username: "jvb",
			Password: "passw0rd", MUCJIDs: []string{"jvbbrewery@internal-muc.meet.jitsi"}, MUCNickname: "jvb-7f3c2a9e",
			DisableCertificateVerification: true, SecurityMode: SecurityRequired, IQHandlerMode: "sync"}
	}
	w := Default()
	w.XMPP.Clients = []XMPPClient{shard("shard0", "xmpp.meet.jitsi", 5222), shard("shard1", "xmpp2.meet.jitsi", 5333)}
	w.Stats.Interval, w.XMPP.PresenceInterval = 10*time.Second, 10*time.Second
	w.REST.Colibri = true
	w.HTTP.Private.Host = "0.0.0.0"
	w.Health.RequireValidAddress = false
	w.Relay = Relay{Enabled: true, Region: "europe", RelayID: "jvb-relay-1"}
	w.ICE.Harvest.STUN.Addresses = []string{"meet-jit-si-turnrelay.jitsi.net:443"}
	w.ICE.Harvest.StaticMappings = []StaticMapping{
		{LocalAddress: "172.18.0.4", PublicAddress: "203.0.113.7", Name: "ip-0"},
		{LocalAddress: "172.18.0.4", PublicAddress: "198.51.100.9", LocalPort: 10000, PublicPort: 12000, Name: "ip-1"},
	}
	assertConfig(t, c, w)
}

// With the template's defaults and an empty JVB_AUTH_PASSWORD, JVB would try to log in with an
// empty password; we skip the shard with a warning instead, and everything else still loads.
func TestLoadDockerTemplateDefaults(t *testing.T) {
	path := renderDockerConf(t, t.TempDir(), map[string]string{"JVB_DISABLE_STUN": "1", "JVB_PORT": "10500",
		"JVB_AUTH_PASSWORD": "", "HOSTNAME": "jvb-1"})
	c, err := Load(path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	w := Default()
	w.ICE.UDPPort = 10500
	w.HTTP.Private.Host = "0.0.0.0"
	w.Health.RequireValidAddress = false
	w.ICE.Harvest.STUN.Enabled = false
	assertConfig(t, c, w)
}
