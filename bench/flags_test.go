package bench

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte("# deployment\nxmpp = meet.example.org:5222\nxmpp-domain: auth.meet.example.org\n"+
		"xmpp-user = focus\nxmpp-password = \"s3cret: yes\"\nbrewery = jvbbrewery@internal.auth.meet.example.org\n"+
		"bridge-nick = jvb-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, c *Command)
	}{
		{"defaults", nil, func(t *testing.T, c *Command) {
			want := Scenarios["meeting-10"]
			if c.Name != "run" || c.Mode != "local" || !reflect.DeepEqual(c.Options.Scenario, want) ||
				c.Options.Duration != 30*time.Second || c.Options.JoinRate != 5 || c.Local.BridgeBin != "bin/videobridge" ||
				c.Local.ConstraintsMode != "auto" || c.Options.Capacity.Enabled || c.Net != NetLoopback {
				t.Errorf("%+v", c)
			}
		}},
		{"veth network", []string{"capacity", "--scenario", "lecture", "--net", "veth", "--bridge-cpus", "1"}, func(t *testing.T, c *Command) {
			if c.Net != NetVeth || c.Name != "capacity" || c.Local.CPUs != "1" || c.Local.Veth != nil {
				t.Errorf("%+v", c)
			}
		}},
		{"capacity with overrides", []string{"capacity", "--scenario", "lecture", "--size", "21", "--view", "tile",
			"--bridge-cpus", "1", "--generator-cpus", "0", "--max-p99", "20ms", "--recv-loss", "0.02"}, func(t *testing.T, c *Command) {
			sc := c.Options.Scenario
			if c.Name != "capacity" || !c.Options.Capacity.Enabled || sc.Name != "lecture-custom" || sc.Size != 21 ||
				sc.Senders != 1 || sc.View != ViewTile || c.Local.CPUs != "1" || c.Options.GeneratorCPUs != "0" ||
				c.Options.Capacity.MaxP99 != 20*time.Millisecond || c.Options.RecvLoss != 0.02 {
				t.Errorf("%+v", c)
			}
		}},
		{"deployment from a credentials file, flag wins", []string{"--mode", "deployment", "--credentials", creds,
			"--bridge-nick", "jvb-2", "--bridge-metrics", "http://10.0.0.2:8080/metrics"}, func(t *testing.T, c *Command) {
			d := c.Deployment
			want := DeploymentOptions{XMPP: "meet.example.org:5222", Domain: "auth.meet.example.org", User: "focus",
				Pass: "s3cret: yes", Brewery: "jvbbrewery@internal.auth.meet.example.org", BridgeNick: "jvb-2",
				MetricsURL: "http://10.0.0.2:8080/metrics", ConstraintsMode: "auto"}
			if !reflect.DeepEqual(d, want) {
				t.Errorf("got %+v\nwant %+v", d, want)
			}
		}},
		{"compare", []string{"compare", "a.json", "b.json"}, func(t *testing.T, c *Command) {
			if c.Name != "compare" || c.CompareA != "a.json" || c.CompareB != "b.json" {
				t.Errorf("%+v", c)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseArgs(tc.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "nope"},
		{"--duration", "soon"},
		{"--join-rate", "0"},
		{"--recv-loss", "1.5"},
		{"--view", "gallery"},
		{"--tile-height", "240"},
		{"--senders", "11"},
		{"--mode", "cloud"},
		{"--mode", "deployment", "--xmpp", "h:5222"},
		{"--xmpp", "h:5222"},
		{"--mode", "deployment", "--bridge-cpus", "1", "--credentials", "/nonexistent"},
		{"--bridge-cpus", "1-0"},
		{"--progress", "fancy"},
		{"--net", "wifi"},
		{"--mode", "deployment", "--net", "veth", "--credentials", "/nonexistent"},
		{"--constraints", "smoke-signals"},
		{"stray"},
		{"run", "stray"},
		{"compare", "only-one"},
		{"list", "extra"},
		{"report"},
		{"report", "a", "b"},
	} {
		var stderr bytes.Buffer
		if _, err := ParseArgs(args, &stderr); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: err %v, want a usage error", args, err)
		}
	}
	if _, err := ParseArgs([]string{"-h"}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestMainUsage: bad flags exit 2 with the usage text; list and help exit 0.
func TestMainUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--scenario", "nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown scenario") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"--frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage:") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := Main([]string{"list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "lecture") {
		t.Errorf("list: exit %d, %q", code, out.String())
	}
	if code := Main([]string{"compare", "/nonexistent/a", "/nonexistent/b"}, &out, &errb); code != 1 {
		t.Errorf("compare of missing files: exit %d", code)
	}
}

func TestParseCredentials(t *testing.T) {
	got, err := ParseCredentials(strings.NewReader("\n# comment\nxmpp-user=focus\n  xmpp-password : \"a=b\"\nbridge-pid = 42\n"))
	want := map[string]string{"xmpp-user": "focus", "xmpp-password": "a=b", "bridge-pid": "42"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range []string{"no separator", "unknown-key = 1", "= value", "xmpp-user = a\x00b"} {
		if _, err := ParseCredentials(strings.NewReader(bad)); !errors.Is(err, ErrCredentials) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add("xmpp = h:1\nxmpp-user: u\n# c\nxmpp-password = \"p\"\n")
	f.Add("=")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseCredentials(strings.NewReader(in))
		if err != nil {
			return
		}
		for k, v := range m {
			if !credentialKeys[k] || strings.ContainsAny(v, "\x00\n") {
				t.Fatalf("%q = %q", k, v)
			}
		}
	})
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{"0": {0}, "1-3": {1, 2, 3}, "0,2-3": {0, 2, 3}} {
		got, err := ParseCPUList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "0,,1", "5000"} {
		if _, err := ParseCPUList(bad); !errors.Is(err, ErrUsage) {
			t.Errorf("%q accepted", bad)
		}
	}
}
