package bench

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCPUMask(t *testing.T) {
	for _, tc := range []struct{ list, want string }{
		{"0", "1"},
		{"1", "2"},
		{"0,2-3", "d"},
		{"4-7", "f0"},
		{"0-31", "ffffffff"},
		{"32", "1,00000000"},
		{"1,33", "2,00000002"},
		{"64", "1,00000000,00000000"},
	} {
		got, err := CPUMask(tc.list)
		if err != nil || got != tc.want {
			t.Errorf("CPUMask(%q) = %q, %v; want %q", tc.list, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "3-1", "-1"} {
		if m, err := CPUMask(bad); err == nil {
			t.Errorf("CPUMask(%q) = %q, want an error", bad, m)
		}
	}
}

func TestSameMask(t *testing.T) {
	for _, tc := range []struct {
		read, want string
		same       bool
	}{
		{"2\n", "2", true},
		{"00000002\n", "2", true},
		{"00000000,00000002\n", "2", true},
		{"00000001,00000000\n", "1,00000000", true},
		{"D\n", "d", true},
		{"00000000\n", "2", false}, // RPS off
		{"00000004\n", "2", false},
		{"\n", "0", false},
	} {
		if got := sameMask(tc.read, tc.want); got != tc.same {
			t.Errorf("sameMask(%q, %q) = %v", tc.read, tc.want, got)
		}
	}
}

func TestVethNetCommands(t *testing.T) {
	n, err := NewVethNet(4242, "0", "1-2")
	if err != nil {
		t.Fatal(err)
	}
	want := VethNet{HarnessNS: "vbh-4242", BridgeNS: "vbb-4242", HarnessDev: "vbh0", BridgeDev: "vbb0",
		HarnessAddr: netip.MustParseAddr("10.203.0.1"), BridgeAddr: netip.MustParseAddr("10.203.0.2"),
		HarnessRPS: "1", BridgeRPS: "6", GeneratorCPUs: "0", BridgeCPUs: "1-2"}
	if n != want {
		t.Fatalf("got %+v\nwant %+v", n, want)
	}
	if p := netip.MustParsePrefix(vethSubnet); !p.Contains(n.HarnessAddr) || !p.Contains(n.BridgeAddr) || p.Bits() != vethPrefixLen {
		t.Errorf("addresses %v %v outside %v", n.HarnessAddr, n.BridgeAddr, p)
	}
	setup := [][]string{
		{"ip", "netns", "add", "vbh-4242"},
		{"ip", "netns", "add", "vbb-4242"},
		{"ip", "link", "add", "vbh0", "netns", "vbh-4242", "numtxqueues", "1", "numrxqueues", "1",
			"type", "veth", "peer", "name", "vbb0", "netns", "vbb-4242", "numtxqueues", "1", "numrxqueues", "1"},
		{"ip", "-n", "vbh-4242", "addr", "add", "10.203.0.1/30", "dev", "vbh0"},
		{"ip", "-n", "vbb-4242", "addr", "add", "10.203.0.2/30", "dev", "vbb0"},
		{"ip", "-n", "vbh-4242", "link", "set", "lo", "up"},
		{"ip", "-n", "vbb-4242", "link", "set", "lo", "up"},
		{"ip", "-n", "vbh-4242", "link", "set", "vbh0", "up"},
		{"ip", "-n", "vbb-4242", "link", "set", "vbb0", "up"},
	}
	if got := n.SetupCommands(); !reflect.DeepEqual(got, setup) {
		t.Errorf("setup\n got %q\nwant %q", got, setup)
	}
	rps := []rpsStep{
		{Side: "harness", Mask: "1",
			Write: []string{"ip", "netns", "exec", "vbh-4242", "sh", "-c", "echo 1 > /sys/class/net/vbh0/queues/rx-0/rps_cpus"},
			Read:  []string{"ip", "netns", "exec", "vbh-4242", "cat", "/sys/class/net/vbh0/queues/rx-0/rps_cpus"}},
		{Side: "bridge", Mask: "6",
			Write: []string{"ip", "netns", "exec", "vbb-4242", "sh", "-c", "echo 6 > /sys/class/net/vbb0/queues/rx-0/rps_cpus"},
			Read:  []string{"ip", "netns", "exec", "vbb-4242", "cat", "/sys/class/net/vbb0/queues/rx-0/rps_cpus"}},
	}
	if got := n.RPSSteps(); !reflect.DeepEqual(got, rps) {
		t.Errorf("rps\n got %q\nwant %q", got, rps)
	}
	teardown := [][]string{{"ip", "netns", "del", "vbh-4242"}, {"ip", "netns", "del", "vbb-4242"}}
	if got := n.TeardownCommands(); !reflect.DeepEqual(got, teardown) {
		t.Errorf("teardown %q", got)
	}
	if got, want := n.Note(), "veth pair between namespaces vbh-4242 (harness, 10.203.0.1) and vbb-4242 (bridge, 10.203.0.2); "+
		"harness receive softirq on CPUs 0 (RPS mask 1); bridge receive softirq on CPUs 1-2 (RPS mask 6)"; got != want {
		t.Errorf("note\n got %s\nwant %s", got, want)
	}

	// Unpinned: no RPS, and the note says so.
	u, err := NewVethNet(7, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.RPSSteps()) != 0 || u.HarnessRPS != "" || u.BridgeRPS != "" {
		t.Errorf("unpinned RPS %+v", u)
	}
	if got, want := u.Note(), "veth pair between namespaces vbh-7 (harness, 10.203.0.1) and vbb-7 (bridge, 10.203.0.2); "+
		"harness receive softirq not steered (CPUs not pinned: RPS off, the sender's CPU may pay for it); "+
		"bridge receive softirq not steered (CPUs not pinned: RPS off, the sender's CPU may pay for it)"; got != want {
		t.Errorf("unpinned note %s", got)
	}
	if _, err := NewVethNet(7, "0", "x"); err == nil {
		t.Error("bad CPU list accepted")
	}
}

func TestStaleNamespaces(t *testing.T) {
	list := "vbh-100 (id: 1)\nvbb-100 (id: 0)\nvbh-200\nvbb-200\nvbh-x\nvbb-007\nother-100\nvbh-300 (id: 4)\n\n"
	alive := map[int]bool{200: true}
	got := staleNamespaces(list, func(pid int) bool { return alive[pid] })
	want := []string{"vbh-100", "vbb-100", "vbh-300"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestBridgeArgv(t *testing.T) {
	for _, tc := range []struct {
		cpus, netns string
		want        []string
	}{
		{"", "", []string{"bin/videobridge", "--config", "c.conf"}},
		{"1", "", []string{"taskset", "-c", "1", "bin/videobridge", "--config", "c.conf"}},
		{"1", "vbb-9", []string{"ip", "netns", "exec", "vbb-9", "taskset", "-c", "1", "bin/videobridge", "--config", "c.conf"}},
		{"", "vbb-9", []string{"ip", "netns", "exec", "vbb-9", "bin/videobridge", "--config", "c.conf"}},
	} {
		if got := bridgeArgv("bin/videobridge", "c.conf", tc.cpus, tc.netns); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q %q: got %q", tc.cpus, tc.netns, got)
		}
	}
}

func TestBridgeConfig(t *testing.T) {
	c := bridgeConf{HTTPHost: "127.0.0.1", HTTPPort: 8080, MediaPort: 10000, XMPPHost: "127.0.0.1", XMPPPort: 5222,
		Domain: "auth.meet.test", User: "jvb", Password: "pw", Brewery: "jvbbrewery@internal.auth.meet.test", Nick: "bench-1"}
	loop := `videobridge {
  http-servers.private { host = "127.0.0.1", port = 8080 }
  ice.udp.port = 10000
  health.require-valid-address = false
  apis.xmpp-client.configs.bench {
    HOSTNAME = "127.0.0.1"
    PORT = 5222
    DOMAIN = "auth.meet.test"
    USERNAME = "jvb"
    PASSWORD = "pw"
    MUC_JIDS = "jvbbrewery@internal.auth.meet.test"
    MUC_NICKNAME = "bench-1"
  }
}
`
	if got := bridgeConfig(c); got != loop {
		t.Errorf("loopback config\n%s", got)
	}
	c.HTTPHost, c.XMPPHost, c.XMPPPort, c.OnlyAddr, c.XMPPSecurity = "10.203.0.2", "10.203.0.1", 40001, "10.203.0.2", "disabled"
	veth := `videobridge {
  http-servers.private { host = "10.203.0.2", port = 8080 }
  ice.udp.port = 10000
  health.require-valid-address = false
  apis.xmpp-client.configs.bench {
    HOSTNAME = "10.203.0.1"
    PORT = 40001
    DOMAIN = "auth.meet.test"
    USERNAME = "jvb"
    PASSWORD = "pw"
    MUC_JIDS = "jvbbrewery@internal.auth.meet.test"
    MUC_NICKNAME = "bench-1"
    SECURITY_MODE = "disabled"
  }
}
ice4j.harvest.allowed-addresses = ["10.203.0.2"]
`
	if got := bridgeConfig(c); got != veth {
		t.Errorf("veth config\n%s", got)
	}
}

func TestChildArgs(t *testing.T) {
	args := []string{"capacity", "--scenario", "lecture", "--net", "veth"}
	if got, want := childArgs(args, "", "bench/results/x"), append(append([]string(nil), args...), "--out", "bench/results/x"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	withOut := append(append([]string(nil), args...), "--out", "mine")
	if got := childArgs(withOut, "mine", "mine"); !reflect.DeepEqual(got, withOut) {
		t.Errorf("got %q", got)
	}
}

// FuzzStaleNamespaces: whatever `ip netns list` prints, only the harness's own names with a
// dead owner PID are picked, so the cleanup never deletes another program's namespace.
func FuzzStaleNamespaces(f *testing.F) {
	f.Add("vbh-100 (id: 1)\nvbb-100\nother\n")
	f.Add("vbh-0\nvbb--1\nvbh-+5\nvbb-99999999999999999999\n")
	f.Fuzz(func(t *testing.T, list string) {
		for _, name := range staleNamespaces(list, func(pid int) bool { return pid%2 == 0 }) {
			var rest string
			switch {
			case strings.HasPrefix(name, harnessNSPrefix):
				rest = name[len(harnessNSPrefix):]
			case strings.HasPrefix(name, bridgeNSPrefix):
				rest = name[len(bridgeNSPrefix):]
			default:
				t.Fatalf("picked %q", name)
			}
			pid, err := strconv.Atoi(rest)
			if err != nil || pid <= 0 || pid%2 == 0 || strconv.Itoa(pid) != rest {
				t.Fatalf("picked %q", name)
			}
		}
	})
}
