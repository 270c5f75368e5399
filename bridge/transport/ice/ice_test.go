package ice

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNewCredentials(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		c := NewCredentials("jvb-1:")
		rnd, ok := strings.CutPrefix(c.Ufrag, "jvb-1:")
		if !ok || len(rnd) != UfragRandomLen || len(c.Pwd) != PwdLen {
			t.Fatalf("bad credentials %+v", c)
		}
		for _, s := range []string{rnd, c.Pwd} {
			if strings.Trim(s, credAlphabet) != "" {
				t.Fatalf("%q has characters outside the ice-char subset", s)
			}
		}
		if seen[c.Ufrag] || seen[c.Pwd] {
			t.Fatalf("repeated credential %+v", c)
		}
		seen[c.Ufrag], seen[c.Pwd] = true, true
	}
}

func TestPriority(t *testing.T) {
	// Values from JVB's answer in signaling.md §4.2: ice4j's first host and srflx candidates.
	tests := []struct {
		typ       string
		localPref uint16
		want      uint32
	}{
		{TypeHost, 65535, 2130706431},
		{TypeSrflx, 65535, 1694498815},
		{TypePrflx, 65535, 110<<24 | 65535<<8 | 255},
		{TypeRelay, 0, 255},
		{TypeHost, 65534, 2130706431 - 256},
	}
	for _, tt := range tests {
		if got := Priority(tt.typ, tt.localPref, ComponentRTP); got != tt.want {
			t.Errorf("Priority(%s, %d) = %d, want %d", tt.typ, tt.localPref, got, tt.want)
		}
	}
}

var (
	lo4    = netip.MustParseAddr("127.0.0.1")
	lo6    = netip.MustParseAddr("::1")
	eth4   = netip.MustParseAddr("192.0.2.2")
	eth6   = netip.MustParseAddr("fd00::2")
	ll6    = netip.MustParseAddr("fe80::1")
	ll4    = netip.MustParseAddr("169.254.7.7")
	priv4  = netip.MustParseAddr("10.0.0.5")
	pub1   = netip.MustParseAddr("203.0.113.7")
	pub2   = netip.MustParseAddr("198.51.100.9")
	docker = netip.MustParseAddr("172.17.0.1")
)

func testInterfaces() ([]Interface, error) {
	return []Interface{
		{Name: "lo", Up: true, Addrs: []netip.Addr{lo4, lo6}},
		{Name: "eth0", Up: true, Addrs: []netip.Addr{eth4, eth6, ll6, ll4}},
		{Name: "eth1", Up: true, Addrs: []netip.Addr{priv4, netip.AddrFrom16(priv4.As16())}}, // v4-mapped duplicate
		{Name: "docker0", Up: false, Addrs: []netip.Addr{docker}},
	}, nil
}

func host(addr netip.Addr, idx int) Candidate {
	return Candidate{Component: 1, Type: TypeHost, Addr: addr, Port: 10000,
		Priority: Priority(TypeHost, uint16(65535-idx), 1)}
}

func srflx(pub netip.Addr, port int, base netip.Addr, idx int) Candidate {
	return Candidate{Component: 1, Type: TypeSrflx, Addr: pub, Port: port, RelAddr: base, RelPort: 10000,
		Priority: Priority(TypeSrflx, uint16(65535-idx), 1)}
}

// numbered assigns the expected foundations (1, 2, ... in order).
func numbered(cs ...Candidate) []Candidate {
	for i := range cs {
		cs[i].Foundation = strconv.Itoa(i + 1)
	}
	return cs
}

func TestHostCandidates(t *testing.T) {
	tests := []struct {
		name string
		opts HarvestOptions
		want []Candidate
		err  error
	}{
		{
			name: "ipv4 only: loopback kept, link-local and down interfaces skipped, mapped duplicate merged",
			opts: HarvestOptions{Port: 10000},
			want: numbered(host(lo4, 0), host(eth4, 1), host(priv4, 2)),
		},
		{
			name: "ipv6 enabled",
			opts: HarvestOptions{Port: 10000, UseIPv6: true},
			want: numbered(host(lo4, 0), host(lo6, 1), host(eth4, 2), host(eth6, 3), host(priv4, 4)),
		},
		{
			name: "static mappings: local address match, local port match, public port default, no match",
			opts: HarvestOptions{Port: 10000, StaticMappings: []StaticMapping{
				{Name: "ip-0", LocalAddress: priv4, PublicAddress: pub1},
				{Name: "ip-1", LocalAddress: priv4, PublicAddress: pub2, LocalPort: 10000, PublicPort: 12000},
				{Name: "wrong-port", LocalAddress: priv4, PublicAddress: pub2, LocalPort: 10001},
				{Name: "absent-local", LocalAddress: docker, PublicAddress: pub2},
				{Name: "duplicate", LocalAddress: priv4, PublicAddress: pub1},
				{Name: "to-self", LocalAddress: eth4, PublicAddress: eth4},
			}},
			want: numbered(host(lo4, 0), host(eth4, 1), host(priv4, 2),
				srflx(pub1, 10000, priv4, 2), srflx(pub2, 12000, priv4, 2)),
		},
		{
			name: "allowed interfaces win over blocked",
			opts: HarvestOptions{Port: 10000, AllowedInterfaces: []string{"eth1"}, BlockedInterfaces: []string{"eth1"}},
			want: numbered(host(priv4, 0)),
		},
		{
			name: "blocked interfaces",
			opts: HarvestOptions{Port: 10000, BlockedInterfaces: []string{"lo"}},
			want: numbered(host(eth4, 0), host(priv4, 1)),
		},
		{
			name: "allowed addresses win over blocked",
			opts: HarvestOptions{Port: 10000, AllowedAddresses: []netip.Addr{eth4, lo6}, BlockedAddresses: []netip.Addr{eth4}},
			want: numbered(host(eth4, 0)),
		},
		{
			name: "blocked addresses; mapping on a blocked address yields nothing",
			opts: HarvestOptions{Port: 10000, BlockedAddresses: []netip.Addr{priv4, lo4},
				StaticMappings: []StaticMapping{{LocalAddress: priv4, PublicAddress: pub1}}},
			want: numbered(host(eth4, 0)),
		},
		{
			name: "nothing usable",
			opts: HarvestOptions{Port: 10000, AllowedInterfaces: []string{"docker0"}},
			err:  ErrNoCandidates,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Interfaces = testInterfaces
			got, err := HostCandidates(tt.opts)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			ids := map[string]bool{}
			for i := range got {
				if got[i].ID == "" || ids[got[i].ID] || got[i].ID != candidateID(got[i]) {
					t.Fatalf("candidate %d: bad or duplicate id %q", i, got[i].ID)
				}
				ids[got[i].ID] = true
				got[i].ID = ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("candidates\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHostCandidatesErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, err := HostCandidates(HarvestOptions{Port: 0, Interfaces: testInterfaces}); err == nil {
		t.Fatal("port 0 accepted")
	}
	_, err := HostCandidates(HarvestOptions{Port: 10000, Interfaces: func() ([]Interface, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestSystemInterfacesHaveLoopback(t *testing.T) {
	ifs, err := SystemInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	up := false
	for _, ifc := range ifs {
		up = up || (ifc.Up && slices.Contains(ifc.Addrs, lo4))
	}
	if !up {
		t.Skip("no 127.0.0.1 on an up interface here (fresh network namespace?)")
	}
	cands, err := HostCandidates(HarvestOptions{Port: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if c.Addr == lo4 {
			return
		}
	}
	t.Fatalf("no 127.0.0.1 host candidate in %+v", cands)
}

func TestIsPrivate(t *testing.T) {
	for s, want := range map[string]bool{
		"10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true, "192.168.1.1": true,
		"fd00::2": true, "fc00::1": true, "fec0::1": true, "::ffff:10.0.0.1": true,
		"172.32.0.1": false, "192.0.2.2": false, "127.0.0.1": false, "::1": false, "2001:db8::1": false,
		"fe80::1": false,
	} {
		if got := IsPrivate(netip.MustParseAddr(s)); got != want {
			t.Errorf("IsPrivate(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestAdvertised(t *testing.T) {
	all := numbered(host(lo4, 0), host(priv4, 1), host(eth6, 2), srflx(pub1, 10000, priv4, 1), srflx(pub2, 10000, eth4, 3))
	masked := srflx(pub1, 10000, priv4, 1)
	masked.Foundation, masked.RelAddr, masked.RelPort = all[3].Foundation, netip.MustParseAddr("0.0.0.0"), 9
	tests := []struct {
		name                    string
		advertise, endpointPriv bool
		want                    []Candidate
	}{
		{"advertise private (JVB default)", true, false, all},
		{"withhold private, mask rel-addr", false, false, []Candidate{all[0], masked, all[4]}},
		{"endpoint capability keeps private hosts, rel-addr still masked", false, true,
			[]Candidate{all[0], all[1], all[2], masked, all[4]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]Candidate(nil), all...)
			got := Advertised(all, tt.advertise, tt.endpointPriv)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(all, before) {
				t.Fatal("input modified")
			}
		})
	}
	public := numbered(host(lo4, 0), host(eth4, 1))
	if got := Advertised(public, false, false); &got[0] != &public[0] {
		t.Fatal("nothing to filter, but the slice was copied")
	}
}
