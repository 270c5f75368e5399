package ice

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
)

// ErrNoCandidates means no local address survived the filters. JVB's health check fails in that
// case ("No valid IP addresses available for harvesting.").
var ErrNoCandidates = errors.New("ice: no usable local address")

// Interface is one network interface as the harvester sees it.
type Interface struct {
	Name  string
	Up    bool
	Addrs []netip.Addr
}

// StaticMapping is one ice4j.harvest.mapping.static-mappings entry: every host candidate on
// LocalAddress (and LocalPort, when non-zero) gets a server-reflexive twin on PublicAddress
// (and PublicPort, defaulting to the host candidate's port). docker-jitsi-meet's
// JVB_ADVERTISE_IPS produces these.
type StaticMapping struct {
	Name          string
	LocalAddress  netip.Addr
	PublicAddress netip.Addr
	LocalPort     int // 0: any
	PublicPort    int // 0: same as the host candidate's port
}

// HarvestOptions select the local candidates (ice4j.harvest.* and videobridge.ice.udp.port).
type HarvestOptions struct {
	Port    int  // the single UDP port (videobridge.ice.udp.port, 10000)
	UseIPv6 bool // ice4j.harvest.use-ipv6
	// Allowed*/Blocked* follow ice4j: a non-empty allow list admits only its members and then
	// the block list is not consulted.
	AllowedAddresses  []netip.Addr
	BlockedAddresses  []netip.Addr
	AllowedInterfaces []string
	BlockedInterfaces []string
	StaticMappings    []StaticMapping
	// Interfaces lists the local interfaces; nil means SystemInterfaces. Tests inject a list.
	Interfaces func() ([]Interface, error)
}

// SystemInterfaces lists the host's interfaces and their unicast addresses.
func SystemInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("ice: list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("ice: addresses of %s: %w", ifc.Name, err)
		}
		it := Interface{Name: ifc.Name, Up: ifc.Flags&net.FlagUp != 0}
		for _, a := range addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			if addr, ok := netip.AddrFromSlice(ip); ok {
				it.Addrs = append(it.Addrs, addr.Unmap())
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// HostCandidates returns the bridge's local candidates on the single UDP port: one host
// candidate per usable local address, in interface order, followed by the server-reflexive
// candidates of the static mappings. Loopback addresses are kept on purpose (loopback-only
// deployments and network namespaces need them); link-local addresses are skipped (JVB sets
// ice4j use-link-local-addresses = false), as are IPv6 addresses unless UseIPv6.
func HostCandidates(opts HarvestOptions) ([]Candidate, error) {
	if opts.Port <= 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("ice: invalid UDP port %d", opts.Port)
	}
	list := opts.Interfaces
	if list == nil {
		list = SystemInterfaces
	}
	ifs, err := list()
	if err != nil {
		return nil, err
	}
	addrs := hostAddresses(ifs, opts)
	if len(addrs) == 0 {
		return nil, ErrNoCandidates
	}
	cands := make([]Candidate, 0, len(addrs)+len(opts.StaticMappings))
	seen := make(map[netip.AddrPort]bool, cap(cands))
	add := func(c Candidate) {
		// RFC 8445 §5.1.3: a candidate with the same transport address as an earlier one is
		// redundant (e.g. a mapping whose public address is a local address).
		ap := netip.AddrPortFrom(c.Addr, uint16(c.Port))
		if seen[ap] {
			return
		}
		seen[ap] = true
		c.Foundation = strconv.Itoa(len(cands) + 1)
		c.ID = candidateID(c)
		cands = append(cands, c)
	}
	for i, a := range addrs {
		add(Candidate{
			Component: ComponentRTP, Type: TypeHost, Addr: a, Port: opts.Port,
			Priority: Priority(TypeHost, localPreference(i), ComponentRTP),
		})
	}
	for i, a := range addrs {
		for _, m := range opts.StaticMappings {
			if !m.PublicAddress.IsValid() || m.LocalAddress != a || (m.LocalPort != 0 && m.LocalPort != opts.Port) {
				continue
			}
			port := m.PublicPort
			if port == 0 {
				port = opts.Port
			}
			add(Candidate{
				Component: ComponentRTP, Type: TypeSrflx, Addr: m.PublicAddress.Unmap(), Port: port,
				RelAddr: a, RelPort: opts.Port,
				Priority: Priority(TypeSrflx, localPreference(i), ComponentRTP),
			})
		}
	}
	return cands, nil
}

// localPreference gives each base address a distinct local preference (RFC 8445 §5.1.2.1:
// unique per address when multihomed), highest for the first; a srflx candidate shares its
// base's value.
func localPreference(baseIndex int) uint16 {
	return uint16(65535 - min(baseIndex, 65535))
}

// hostAddresses applies the interface and address filters, deduplicating addresses.
func hostAddresses(ifs []Interface, opts HarvestOptions) []netip.Addr {
	var out []netip.Addr
	for _, ifc := range ifs {
		if !ifc.Up || !interfaceAllowed(ifc.Name, opts) {
			continue
		}
		for _, a := range ifc.Addrs {
			a = a.Unmap().WithZone("")
			if usableAddress(a, opts) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func interfaceAllowed(name string, opts HarvestOptions) bool {
	if len(opts.AllowedInterfaces) > 0 {
		return slices.Contains(opts.AllowedInterfaces, name)
	}
	return !slices.Contains(opts.BlockedInterfaces, name)
}

func usableAddress(a netip.Addr, opts HarvestOptions) bool {
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsMulticast(), a.IsLinkLocalUnicast():
		return false
	case a.Is6() && !opts.UseIPv6:
		return false
	case len(opts.AllowedAddresses) > 0:
		return slices.Contains(opts.AllowedAddresses, a)
	default:
		return !slices.Contains(opts.BlockedAddresses, a)
	}
}
