package control

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

// CredentialTransports is the stand-in TransportFactory used until the data plane exists: real
// ICE credentials, the real bridge certificate fingerprint and the real harvested candidates,
// a stored remote description, and no media at all.
type CredentialTransports struct {
	Certificate *dtls.Certificate
	// Candidates are the bridge's harvested candidates (ice.HostCandidates), shared by all
	// endpoints.
	Candidates []ice.Candidate
	// UfragPrefix is videobridge.ice.ufrag-prefix.
	UfragPrefix string
	// AdvertisePrivate is videobridge.ice.advertise-private-candidates.
	AdvertisePrivate bool
}

// ErrNoCertificate means CredentialTransports was built without a certificate.
var ErrNoCertificate = errors.New("control: transport factory has no DTLS certificate")

// NewEndpointTransport implements TransportFactory.
func (f *CredentialTransports) NewEndpointTransport(confID, epID string, opts EndpointTransportOptions) (EndpointTransport, error) {
	if f.Certificate == nil {
		return nil, fmt.Errorf("endpoint %s/%s: %w", confID, epID, ErrNoCertificate)
	}
	creds := ice.NewCredentials(f.UfragPrefix)
	return &credentialTransport{local: LocalTransport{
		Ufrag: creds.Ufrag, Pwd: creds.Pwd,
		Fingerprint: Fingerprint{Hash: dtls.FingerprintHash, Value: f.Certificate.Fingerprint},
		Candidates:  ice.Advertised(f.Candidates, f.AdvertisePrivate, opts.PrivateAddressConnectivity),
	}}, nil
}

type credentialTransport struct {
	local LocalTransport

	mu     sync.Mutex
	remote RemoteTransport
	closed bool
}

func (t *credentialTransport) Local() LocalTransport { return t.local }

func (t *credentialTransport) SetRemote(r RemoteTransport) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remote = r
	return nil
}

func (t *credentialTransport) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// Remote returns the stored remote description (tests and debugging).
func (t *credentialTransport) Remote() RemoteTransport {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.remote
}
