package dtls

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

func TestVerifyAnyFingerprint(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCertificate()
	sha1fp, _ := Fingerprint(c.TLS.Leaf, "sha-1")
	tests := []struct {
		name string
		fps  map[string][]string
		want error
	}{
		{"sha-256 match", map[string][]string{"sha-256": {c.Fingerprint}}, nil},
		{"second of several", map[string][]string{"sha-256": {other.Fingerprint, c.Fingerprint}}, nil},
		{"sha-1 match beside unknown hash", map[string][]string{"md5": {"AA"}, "sha-1": {sha1fp}}, nil},
		{"mismatch", map[string][]string{"sha-256": {other.Fingerprint}}, ErrFingerprintMismatch},
		{"only unknown hashes", map[string][]string{"md5": {"AA:BB"}}, ErrNoRemoteFingerprint},
		{"none", nil, ErrNoRemoteFingerprint},
	}
	for _, tt := range tests {
		err := VerifyAnyFingerprint(c.TLS.Leaf, tt.fps)
		if (tt.want == nil && err != nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// udpPair returns two connected loopback UDP sockets (DTLS needs datagram semantics).
func udpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.DialUDP("udp4", nil, a.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	ac, err := net.DialUDP("udp4", a.LocalAddr().(*net.UDPAddr), b.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	return ac, b
}

type result struct {
	conn    *piondtls.Conn
	profile uint16
	err     error
}

func handshakePair(t *testing.T, serverCfg, clientCfg HandshakeConfig) (server, client result) {
	t.Helper()
	sc, cc := udpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		conn, p, err := Handshake(ctx, sc, serverCfg)
		done <- result{conn, p, err}
	}()
	conn, p, err := Handshake(ctx, cc, clientCfg)
	client = result{conn, p, err}
	if err != nil {
		// Give the server a moment to report its own failure (e.g. the fingerprint check that
		// made the client fail) before cancelling; cancelling at once races that report.
		select {
		case server = <-done:
		case <-time.After(time.Second):
			cancel() // unblock the server
			server = <-done
		}
	} else {
		server = <-done
	}
	t.Cleanup(func() {
		for _, r := range []result{server, client} {
			if r.conn != nil {
				_ = r.conn.Close()
			}
		}
		_ = sc.Close()
		_ = cc.Close()
	})
	return server, client
}

func TestHandshake(t *testing.T) {
	sCert, _ := NewCertificate()
	cCert, _ := NewCertificate()
	srv := HandshakeConfig{Certificate: sCert, Role: RoleServer, RemoteFingerprints: map[string][]string{"sha-256": {cCert.Fingerprint}}}
	cli := HandshakeConfig{Certificate: cCert, Role: RoleClient, RemoteFingerprints: map[string][]string{"sha-256": {sCert.Fingerprint}}}

	s, c := handshakePair(t, srv, cli)
	if s.err != nil || c.err != nil {
		t.Fatalf("handshake: server %v, client %v", s.err, c.err)
	}
	// Both ends offer GCM first, so the server picks it (media.md §6 preference).
	if s.profile != uint16(piondtls.SRTP_AEAD_AES_128_GCM) || c.profile != s.profile {
		t.Fatalf("profiles server %#x client %#x", s.profile, c.profile)
	}
	st, _ := s.conn.ConnectionState()
	ct, _ := c.conn.ConnectionState()
	k1, _ := st.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 60)
	k2, _ := ct.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 60)
	if string(k1) != string(k2) {
		t.Fatal("exported keying material differs")
	}
}

func TestHandshakeRejectsWrongFingerprint(t *testing.T) {
	sCert, _ := NewCertificate()
	cCert, _ := NewCertificate()
	other, _ := NewCertificate()
	// The server expects another certificate than the client presents.
	srv := HandshakeConfig{Certificate: sCert, Role: RoleServer, RemoteFingerprints: map[string][]string{"sha-256": {other.Fingerprint}}}
	cli := HandshakeConfig{Certificate: cCert, Role: RoleClient, RemoteFingerprints: map[string][]string{"sha-256": {sCert.Fingerprint}}}
	s, _ := handshakePair(t, srv, cli)
	if !errors.Is(s.err, ErrFingerprintMismatch) {
		t.Fatalf("server accepted a wrong client certificate: %v", s.err)
	}
}

func TestHandshakeConfigErrors(t *testing.T) {
	c, _ := NewCertificate()
	a, b := udpPair(t)
	defer a.Close()
	defer b.Close()
	fps := map[string][]string{"sha-256": {c.Fingerprint}}
	for _, cfg := range []HandshakeConfig{
		{Certificate: c, Role: RoleUnknown, RemoteFingerprints: fps},
		{Certificate: c, Role: RoleServer},
		{Role: RoleServer, RemoteFingerprints: fps},
	} {
		if _, _, err := Handshake(context.Background(), a, cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}
