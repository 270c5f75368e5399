package control

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

func TestMergeRemote(t *testing.T) {
	gen1 := 1
	host := colibri2.Candidate{Component: 1, Foundation: "1", Priority: 2122260223, Protocol: "udp", Type: "host",
		IP: "192.0.2.10", Port: 51000, ID: "x"}
	srflx := colibri2.Candidate{Component: 1, Foundation: "2", Priority: 1686052607, Protocol: "UDP", Type: "srflx",
		IP: "198.51.100.3", Port: 51001, RelAddr: "192.0.2.10", RelPort: 51000}
	iceHost := ice.Candidate{Foundation: "1", Component: 1, Priority: 2122260223, Type: "host",
		Addr: netip.MustParseAddr("192.0.2.10"), Port: 51000, ID: "x"}
	iceSrflx := ice.Candidate{Foundation: "2", Component: 1, Priority: 1686052607, Type: "srflx",
		Addr: netip.MustParseAddr("198.51.100.3"), Port: 51001, RelAddr: netip.MustParseAddr("192.0.2.10"), RelPort: 51000}
	prev := RemoteTransport{Ufrag: "old", Pwd: "oldpwd", Fingerprints: map[string][]string{"sha-256": {"AA"}},
		Role: DTLSRoleServer, Candidates: []ice.Candidate{iceHost}}
	with := func(mod func(*colibri2.Candidate)) colibri2.Candidate { c := host; mod(&c); return c }

	tests := []struct {
		name      string
		prev      RemoteTransport
		in        colibri2.ICEUDPTransport
		want      RemoteTransport
		wantNotes remoteNotes
	}{
		{
			name: "first transport: fingerprints grouped by lower-case hash, active → server",
			in: colibri2.ICEUDPTransport{Ufrag: "u", Pwd: "p", Fingerprints: []colibri2.Fingerprint{
				{Hash: "SHA-256", Setup: "active", Fingerprint: " AB:CD "}, {Hash: "sha-256", Fingerprint: "EF:01"},
				{Hash: "sha-1", Fingerprint: "12"}}},
			want: RemoteTransport{Ufrag: "u", Pwd: "p", Role: DTLSRoleServer,
				Fingerprints: map[string][]string{"sha-256": {"AB:CD", "EF:01"}, "sha-1": {"12"}}},
		},
		{
			name: "passive → client",
			in:   colibri2.ICEUDPTransport{Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "passive", Fingerprint: "BB"}}},
			want: RemoteTransport{Fingerprints: map[string][]string{"sha-256": {"BB"}}, Role: DTLSRoleClient},
		},
		{
			name:      "actpass is noted and leaves the role",
			prev:      prev,
			in:        colibri2.ICEUDPTransport{Fingerprints: []colibri2.Fingerprint{{Hash: "sha-256", Setup: "actpass", Fingerprint: "CC"}}},
			want:      RemoteTransport{Ufrag: "old", Pwd: "oldpwd", Fingerprints: map[string][]string{"sha-256": {"CC"}}, Role: DTLSRoleServer, Candidates: prev.Candidates},
			wantNotes: remoteNotes{actpass: true},
		},
		{
			name: "empty fingerprint elements do not wipe stored fingerprints; their setup still counts",
			prev: prev,
			in: colibri2.ICEUDPTransport{Fingerprints: []colibri2.Fingerprint{
				{Hash: "sha-256", Setup: "passive"}, {Hash: "", Fingerprint: "DD"}, {Hash: "sha-256", Fingerprint: "  "}}},
			want: RemoteTransport{Ufrag: "old", Pwd: "oldpwd", Fingerprints: prev.Fingerprints, Role: DTLSRoleClient,
				Candidates: prev.Candidates},
		},
		{
			name: "usable fingerprints replace the stored set, empty ones among them are dropped",
			prev: prev,
			in: colibri2.ICEUDPTransport{Fingerprints: []colibri2.Fingerprint{
				{Hash: "sha-256", Setup: "active"}, {Hash: "sha-256", Fingerprint: "EE"}}},
			want: RemoteTransport{Ufrag: "old", Pwd: "oldpwd", Fingerprints: map[string][]string{"sha-256": {"EE"}},
				Role: DTLSRoleServer, Candidates: prev.Candidates},
		},
		{
			name: "trickle without fingerprints keeps everything, adds candidates, skips duplicates",
			prev: prev,
			in:   colibri2.ICEUDPTransport{Candidates: []colibri2.Candidate{host, srflx, srflx}},
			want: RemoteTransport{Ufrag: "old", Pwd: "oldpwd", Fingerprints: prev.Fingerprints, Role: DTLSRoleServer,
				Candidates: []ice.Candidate{iceHost, iceSrflx}},
		},
		{
			name: "only current generation, UDP, component 1, IP literals",
			in: colibri2.ICEUDPTransport{Candidates: []colibri2.Candidate{
				with(func(c *colibri2.Candidate) { c.Generation = gen1 }),
				with(func(c *colibri2.Candidate) { c.Protocol = "tcp" }),
				with(func(c *colibri2.Candidate) { c.Component = 2 }),
				with(func(c *colibri2.Candidate) { c.IP = "host.example" }),
				with(func(c *colibri2.Candidate) { c.IP = "fe80::1%eth0" }),
				with(func(c *colibri2.Candidate) { c.Port = 0 }),
				with(func(c *colibri2.Candidate) { c.IP = "::ffff:192.0.2.10"; c.Protocol = "" }),
			}},
			want:      RemoteTransport{Candidates: []ice.Candidate{iceHost}},
			wantNotes: remoteNotes{skippedCandidates: 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prevCopy := tt.prev
			prevCopy.Candidates = append([]ice.Candidate(nil), tt.prev.Candidates...)
			got, notes := mergeRemote(tt.prev, &tt.in)
			if !reflect.DeepEqual(got, tt.want) || notes != tt.wantNotes {
				t.Fatalf("got  %+v %+v\nwant %+v %+v", got, notes, tt.want, tt.wantNotes)
			}
			if !reflect.DeepEqual(tt.prev.Candidates, prevCopy.Candidates) || (len(tt.prev.Candidates) > 0 &&
				len(got.Candidates) > len(tt.prev.Candidates) && &got.Candidates[0] == &tt.prev.Candidates[0]) {
				t.Fatal("previous candidates shared or modified")
			}
		})
	}
}

func TestMergeRemoteCandidateLimit(t *testing.T) {
	var in colibri2.ICEUDPTransport
	for i := range maxRemoteCandidates + 5 {
		in.Candidates = append(in.Candidates, colibri2.Candidate{Component: 1, Type: "host", IP: "192.0.2.1", Port: 1000 + i})
	}
	got, notes := mergeRemote(RemoteTransport{}, &in)
	if len(got.Candidates) != maxRemoteCandidates || notes.skippedCandidates != 5 {
		t.Fatalf("%d candidates, %d skipped", len(got.Candidates), notes.skippedCandidates)
	}
}

func TestCredentialTransports(t *testing.T) {
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	private := ice.Candidate{Foundation: "1", Component: 1, Type: "host", Addr: netip.MustParseAddr("10.0.0.5"), Port: 10000, ID: "p"}
	public := ice.Candidate{Foundation: "2", Component: 1, Type: "srflx", Addr: netip.MustParseAddr("203.0.113.7"), Port: 10000,
		RelAddr: netip.MustParseAddr("10.0.0.5"), RelPort: 10000, ID: "s"}
	masked := public
	masked.RelAddr, masked.RelPort = netip.MustParseAddr("0.0.0.0"), 9
	tests := []struct {
		name             string
		advertisePrivate bool
		capability       bool
		want             []ice.Candidate
	}{
		{"advertise private", true, false, []ice.Candidate{private, public}},
		{"withhold private", false, false, []ice.Candidate{masked}},
		{"private-address-connectivity", false, true, []ice.Candidate{private, masked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &CredentialTransports{Certificate: cert, Candidates: []ice.Candidate{private, public},
				UfragPrefix: "jvb:", AdvertisePrivate: tt.advertisePrivate}
			tr, err := f.NewEndpointTransport("c", "e", EndpointTransportOptions{ICEControlling: true, PrivateAddressConnectivity: tt.capability})
			if err != nil {
				t.Fatal(err)
			}
			local := tr.Local()
			if !reflect.DeepEqual(local.Candidates, tt.want) || local.Fingerprint != (Fingerprint{"sha-256", cert.Fingerprint}) ||
				len(local.Ufrag) != 4+ice.UfragRandomLen || local.Ufrag[:4] != "jvb:" || len(local.Pwd) != ice.PwdLen {
				t.Fatalf("local %+v", local)
			}
			r := RemoteTransport{Ufrag: "u", Role: DTLSRoleServer}
			if err := tr.SetRemote(r); err != nil || !reflect.DeepEqual(tr.(*credentialTransport).Remote(), r) {
				t.Fatalf("remote not stored: %v", err)
			}
			tr.Close()
		})
	}
	if _, err := (&CredentialTransports{}).NewEndpointTransport("c", "e", EndpointTransportOptions{}); err == nil {
		t.Fatal("no certificate accepted")
	}
}
