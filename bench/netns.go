package bench

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
)

// Network modes of the self-contained mode (--net).
const (
	// NetLoopback runs the bridge and the endpoints on 127.0.0.1. The kernel then runs the
	// receivers' UDP receive path inside the sender's sendmmsg softirq, so about 2 µs per
	// packet of the harness's receive work is charged to the bridge's CPU.
	NetLoopback = "loopback"
	// NetVeth puts the bridge and the harness in two network namespaces joined by a veth
	// pair, with Receive Packet Steering moving each side's receive softirq to its own pinned
	// CPUs, as a NIC between the bridge and its clients would.
	NetVeth = "veth"
)

// The veth network: a private /30 from 10.0.0.0/8 that deployments rarely route (RFC 1918),
// the harness on .1 and the bridge on .2. The namespaces are private to one run, so the
// addresses cannot clash with the host's own routes.
const (
	vethSubnet      = "10.203.0.0/30"
	vethHarnessAddr = "10.203.0.1"
	vethBridgeAddr  = "10.203.0.2"
	vethPrefixLen   = 30
	// Namespace name prefixes; the harness PID follows the dash.
	harnessNSPrefix = "vbh-"
	bridgeNSPrefix  = "vbb-"
	// Device names, one per namespace: each exists only inside its (fresh) namespace.
	harnessDev = "vbh0"
	bridgeDev  = "vbb0"
)

// VethNet is one run's veth network: what the parent creates and tears down, and what the
// re-executed harness needs to know (it travels in the netChildEnv variable as JSON).
type VethNet struct {
	HarnessNS   string     `json:"harness_ns"`
	BridgeNS    string     `json:"bridge_ns"`
	HarnessDev  string     `json:"harness_dev"`
	BridgeDev   string     `json:"bridge_dev"`
	HarnessAddr netip.Addr `json:"harness_addr"`
	BridgeAddr  netip.Addr `json:"bridge_addr"`
	// HarnessRPS and BridgeRPS are the hex CPU masks steering each side's receive softirq
	// ("" when that side is not pinned and RPS is left off).
	HarnessRPS string `json:"harness_rps,omitempty"`
	BridgeRPS  string `json:"bridge_rps,omitempty"`
	// GeneratorCPUs and BridgeCPUs are the taskset lists the masks come from.
	GeneratorCPUs string `json:"generator_cpus,omitempty"`
	BridgeCPUs    string `json:"bridge_cpus,omitempty"`
}

// NewVethNet plans the veth network of the harness with process ID pid: namespaces vbh-<pid>
// and vbb-<pid>, and RPS masks from the pinned CPU lists ("" not pinned: no RPS on that side).
func NewVethNet(pid int, generatorCPUs, bridgeCPUs string) (VethNet, error) {
	n := VethNet{HarnessNS: harnessNSPrefix + strconv.Itoa(pid), BridgeNS: bridgeNSPrefix + strconv.Itoa(pid),
		HarnessDev: harnessDev, BridgeDev: bridgeDev,
		HarnessAddr: netip.MustParseAddr(vethHarnessAddr), BridgeAddr: netip.MustParseAddr(vethBridgeAddr),
		GeneratorCPUs: generatorCPUs, BridgeCPUs: bridgeCPUs}
	var err error
	if generatorCPUs != "" {
		if n.HarnessRPS, err = CPUMask(generatorCPUs); err != nil {
			return VethNet{}, err
		}
	}
	if bridgeCPUs != "" {
		if n.BridgeRPS, err = CPUMask(bridgeCPUs); err != nil {
			return VethNet{}, err
		}
	}
	return n, nil
}

// CPUMask is the hex CPU mask of a taskset list, in the format of /sys/class/net/*/queues/
// rx-*/rps_cpus (the kernel's bitmap format: 32-bit groups separated by commas, most
// significant first): "1" → "2", "0,2-3" → "d", "32" → "1,00000000".
func CPUMask(list string) (string, error) {
	cpus, err := ParseCPUList(list)
	if err != nil {
		return "", err
	}
	var m big.Int
	for _, c := range cpus {
		m.SetBit(&m, c, 1)
	}
	hex := m.Text(16)
	var groups []string
	for len(hex) > 8 {
		groups = append([]string{hex[len(hex)-8:]}, groups...)
		hex = hex[:len(hex)-8]
	}
	return strings.Join(append([]string{hex}, groups...), ","), nil
}

// sameMask says whether a mask read back from sysfs equals want: the kernel pads each group
// to 8 digits and may print more groups than were written.
func sameMask(read, want string) bool {
	norm := func(s string) string {
		s = strings.TrimLeft(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), "0")
		return strings.ToLower(s)
	}
	return norm(read) != "" && norm(read) == norm(want)
}

// SetupCommands are the ip(8) invocations that build the network, in order: both namespaces,
// the veth pair created directly inside them (one queue each, so rx-0 is the only receive
// queue RPS must cover), the addresses, and lo and the veths up.
func (n VethNet) SetupCommands() [][]string {
	pl := "/" + strconv.Itoa(vethPrefixLen)
	return [][]string{
		{"ip", "netns", "add", n.HarnessNS},
		{"ip", "netns", "add", n.BridgeNS},
		{"ip", "link", "add", n.HarnessDev, "netns", n.HarnessNS, "numtxqueues", "1", "numrxqueues", "1",
			"type", "veth", "peer", "name", n.BridgeDev, "netns", n.BridgeNS, "numtxqueues", "1", "numrxqueues", "1"},
		{"ip", "-n", n.HarnessNS, "addr", "add", n.HarnessAddr.String() + pl, "dev", n.HarnessDev},
		{"ip", "-n", n.BridgeNS, "addr", "add", n.BridgeAddr.String() + pl, "dev", n.BridgeDev},
		{"ip", "-n", n.HarnessNS, "link", "set", "lo", "up"},
		{"ip", "-n", n.BridgeNS, "link", "set", "lo", "up"},
		{"ip", "-n", n.HarnessNS, "link", "set", n.HarnessDev, "up"},
		{"ip", "-n", n.BridgeNS, "link", "set", n.BridgeDev, "up"},
	}
}

// rpsStep is one side's Receive Packet Steering: the command writing the mask and the one
// reading it back. `ip netns exec` remounts /sys for the namespace, so the device's sysfs
// entry is visible.
type rpsStep struct {
	Side        string // "harness" or "bridge"
	Mask        string
	Write, Read []string
}

// RPSSteps are the RPS writes of the pinned sides: the harness side's veth receives what the
// bridge sends, so its softirq goes to the generator's CPUs; the bridge side's to the bridge's.
func (n VethNet) RPSSteps() []rpsStep {
	var out []rpsStep
	for _, s := range []struct{ side, ns, dev, mask string }{
		{"harness", n.HarnessNS, n.HarnessDev, n.HarnessRPS},
		{"bridge", n.BridgeNS, n.BridgeDev, n.BridgeRPS},
	} {
		if s.mask == "" {
			continue
		}
		path := "/sys/class/net/" + s.dev + "/queues/rx-0/rps_cpus"
		out = append(out, rpsStep{Side: s.side, Mask: s.mask,
			Write: []string{"ip", "netns", "exec", s.ns, "sh", "-c", "echo " + s.mask + " > " + path},
			Read:  []string{"ip", "netns", "exec", s.ns, "cat", path}})
	}
	return out
}

// TeardownCommands delete both namespaces; the veth pair goes with them.
func (n VethNet) TeardownCommands() [][]string {
	return [][]string{{"ip", "netns", "del", n.HarnessNS}, {"ip", "netns", "del", n.BridgeNS}}
}

// Note describes the network for the report: the path and where each side's receive work runs.
func (n VethNet) Note() string {
	rps := func(side, cpus, mask string) string {
		if mask == "" {
			return side + " receive softirq not steered (CPUs not pinned: RPS off, the sender's CPU may pay for it)"
		}
		return fmt.Sprintf("%s receive softirq on CPUs %s (RPS mask %s)", side, cpus, mask)
	}
	return fmt.Sprintf("veth pair between namespaces %s (harness, %s) and %s (bridge, %s); %s; %s",
		n.HarnessNS, n.HarnessAddr, n.BridgeNS, n.BridgeAddr,
		rps("harness", n.GeneratorCPUs, n.HarnessRPS), rps("bridge", n.BridgeCPUs, n.BridgeRPS))
}

// ErrNetns is a failure to build or enter the veth network.
var ErrNetns = errors.New("bench: veth network")

// staleNamespaces picks, from `ip netns list` output, the harness's namespaces whose owner
// PID no longer runs (alive reports whether a PID exists): leftovers of a killed run.
func staleNamespaces(list string, alive func(pid int) bool) []string {
	var out []string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line) // "name" or "name (id: 3)"
		if len(f) == 0 {
			continue
		}
		name := f[0]
		var rest string
		switch {
		case strings.HasPrefix(name, harnessNSPrefix):
			rest = name[len(harnessNSPrefix):]
		case strings.HasPrefix(name, bridgeNSPrefix):
			rest = name[len(bridgeNSPrefix):]
		default:
			continue
		}
		pid, err := strconv.Atoi(rest)
		if err != nil || pid <= 0 || strconv.Itoa(pid) != rest {
			continue
		}
		if !alive(pid) {
			out = append(out, name)
		}
	}
	return out
}
