// Package loopsfu is a minimal forwarding SFU for testing the bench harness without the
// bridge's media core: the bridge's real transport (bridge/transport/endpoint on one
// udp.Socket, ICE controlling, DTLS server) and a forwarding rule small enough to trust — every
// RTP packet of an endpoint's audio SSRC, and of its first simulcast SSRC (the one a classic-mode
// bridge projects onto, media.md §2.3), goes unchanged to every other endpoint of the
// conference; receivers' PLIs go to the owner of the media SSRC; all other RTCP ends here. It
// also serves the SCTP bridge channel and records what clients send on it.
//
// It forwards on the socket reader goroutine, the only writer of every endpoint's media, as
// endpoint.Transport requires.
package loopsfu

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	"github.com/pion/datachannel"
	"github.com/pion/sctp"
	"go.uber.org/zap"
)

// ErrUnknown is returned for an unknown conference or endpoint.
var ErrUnknown = errors.New("loopsfu: unknown endpoint")

// Local is what an allocation answers.
type Local struct {
	Ufrag, Pwd  string
	Fingerprint string // sha-256
	Candidates  []ice.Candidate
}

// SFU is the test bridge.
type SFU struct {
	sock  *udp.Socket
	cert  *dtls.Certificate
	cands []ice.Candidate
	log   *zap.Logger

	mu       sync.Mutex
	confs    map[string]map[string]*ep
	messages map[string][]string // bridge-channel messages by endpoint ID
	ice      map[string][]endpoint.ICEState
	// routes is the immutable forwarding table read on the reader goroutine.
	routes atomic.Pointer[table]

	Forwarded atomic.Uint64
	// NoSCTP makes the SFU ignore SCTP, like a bridge without a data channel.
	NoSCTP atomic.Bool
}

type table struct {
	owner map[uint32]*ep   // forwarded SSRC → sending endpoint
	peers map[*ep][]*ep    // endpoint → the others in its conference
	fwd   map[uint32]bool  // SSRCs that are forwarded
	byEP  map[*ep]struct{} // live endpoints
}

type ep struct {
	sfu   *SFU
	conf  string
	id    string
	tr    *endpoint.Transport
	ssrcs []uint32 // forwarded SSRCs it sends (audio, first SIM)
}

// New starts the SFU on an ephemeral loopback port.
func New(log *zap.Logger) (*SFU, error) {
	if log == nil {
		log = zap.NewNop()
	}
	sock, err := udp.Listen(0, udp.Options{Addr: netip.MustParseAddr("127.0.0.1"), ReadBuffer: 4 << 20, WriteBuffer: 4 << 20})
	if err != nil {
		return nil, err
	}
	cert, err := dtls.NewCertificate()
	if err != nil {
		_ = sock.Close()
		return nil, err
	}
	port := int(sock.LocalAddr().Port())
	s := &SFU{sock: sock, cert: cert, log: log, confs: map[string]map[string]*ep{}, messages: map[string][]string{}, ice: map[string][]endpoint.ICEState{},
		cands: []ice.Candidate{{Foundation: "1", Component: 1, Type: ice.TypeHost, ID: "c1",
			Addr: netip.MustParseAddr("127.0.0.1"), Port: port, Priority: ice.Priority(ice.TypeHost, 65535, 1)}}}
	s.routes.Store(&table{})
	return s, nil
}

// Allocate creates an endpoint (and its conference on first use).
func (s *SFU) Allocate(conf, id string) (Local, error) {
	e := &ep{sfu: s, conf: conf, id: id}
	tr, err := endpoint.New(s.sock, s.cert, ice.NewCredentials("loop"), s.cands, e, s.log)
	if err != nil {
		return Local{}, err
	}
	e.tr = tr
	s.mu.Lock()
	if s.confs[conf] == nil {
		s.confs[conf] = map[string]*ep{}
	}
	if old := s.confs[conf][id]; old != nil {
		defer old.tr.Close()
	}
	s.confs[conf][id] = e
	s.rebuild()
	s.mu.Unlock()
	l := tr.Local()
	return Local{Ufrag: l.Ufrag, Pwd: l.Pwd, Fingerprint: s.cert.Fingerprint, Candidates: s.cands}, nil
}

// Accept hands over the endpoint's transport and the SSRCs it forwards (audio and first SIM).
func (s *SFU) Accept(conf, id string, remote endpoint.Remote, forward []uint32) error {
	s.mu.Lock()
	e := s.confs[conf][id]
	if e == nil {
		s.mu.Unlock()
		return ErrUnknown
	}
	e.ssrcs = forward
	s.rebuild()
	s.mu.Unlock()
	remote.Role = dtls.RoleServer // the client answered setup=active
	return e.tr.SetRemote(remote)
}

// Expire removes an endpoint.
func (s *SFU) Expire(conf, id string) {
	s.mu.Lock()
	e := s.confs[conf][id]
	delete(s.confs[conf], id)
	if len(s.confs[conf]) == 0 {
		delete(s.confs, conf)
	}
	s.rebuild()
	s.mu.Unlock()
	if e != nil {
		e.tr.Close()
	}
}

// ExpireConference removes every endpoint of a conference.
func (s *SFU) ExpireConference(conf string) {
	s.mu.Lock()
	var ids []string
	for id := range s.confs[conf] {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.Expire(conf, id)
	}
}

// Close expires everything and closes the socket.
func (s *SFU) Close() {
	s.mu.Lock()
	var all []*ep
	for _, c := range s.confs {
		for _, e := range c {
			all = append(all, e)
		}
	}
	s.confs = map[string]map[string]*ep{}
	s.rebuild()
	s.mu.Unlock()
	for _, e := range all {
		e.tr.Close()
	}
	_ = s.sock.Close()
}

// rebuild publishes a new forwarding table; s.mu is held.
func (s *SFU) rebuild() {
	t := &table{owner: map[uint32]*ep{}, peers: map[*ep][]*ep{}, fwd: map[uint32]bool{}, byEP: map[*ep]struct{}{}}
	for _, c := range s.confs {
		for _, e := range c {
			t.byEP[e] = struct{}{}
			for _, ssrc := range e.ssrcs {
				t.owner[ssrc] = e
				t.fwd[ssrc] = true
			}
			for _, o := range c {
				if o != e {
					t.peers[e] = append(t.peers[e], o)
				}
			}
		}
	}
	s.routes.Store(t)
}

// OnRTP forwards the packet unchanged to the conference's other endpoints.
func (e *ep) OnRTP(buf []byte) {
	var p rtp.Packet
	if p.Parse(buf) != rtp.DropNone {
		return
	}
	t := e.sfu.routes.Load()
	if !t.fwd[p.SSRC()] {
		return
	}
	for _, o := range t.peers[e] {
		if o.tr.WriteRTP(buf) {
			e.sfu.Forwarded.Add(1)
		}
	}
}

// OnRTCP routes PLIs to the owner of their media SSRC.
func (e *ep) OnRTCP(buf []byte) {
	t := e.sfu.routes.Load()
	it := rtp.NewRTCPIter(buf)
	for {
		h, pkt, ok := it.Next()
		if !ok {
			return
		}
		if h.Type != rtp.TypePSFB || h.Count != rtp.FmtPLI {
			continue
		}
		pli, r := rtp.ParsePLI(pkt)
		if r != rtp.DropNone {
			continue
		}
		if o := t.owner[pli.MediaSSRC]; o != nil && o != e {
			o.tr.WriteRTCP(pkt)
		}
	}
}

// OnICEState records the bridge side's ICE states (ICEStates).
func (e *ep) OnICEState(st endpoint.ICEState) {
	e.sfu.mu.Lock()
	e.sfu.ice[e.id] = append(e.sfu.ice[e.id], st)
	e.sfu.mu.Unlock()
}

// ICEStates returns the ICE states the bridge side of an endpoint went through.
func (s *SFU) ICEStates(id string) []endpoint.ICEState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]endpoint.ICEState(nil), s.ice[id]...)
}

// OnDTLSState serves the SCTP bridge channel once DTLS is up: the client opens the data
// channel and the messages it sends are kept (Messages).
func (e *ep) OnDTLSState(s endpoint.DTLSState) {
	if s != endpoint.DTLSConnected || e.sfu.NoSCTP.Load() {
		return
	}
	conn := e.tr.DTLSConn()
	if conn == nil {
		return
	}
	go e.serveSCTP(conn)
}

func (e *ep) serveSCTP(conn net.Conn) {
	a, err := sctp.ServerWithOptions(sctp.WithNetConn(conn), sctp.WithLoggerFactory(ice.LoggerFactory(e.sfu.log)))
	if err != nil {
		return
	}
	defer a.Close()
	dc, err := datachannel.Accept(a, &datachannel.Config{LoggerFactory: ice.LoggerFactory(e.sfu.log)})
	if err != nil {
		return
	}
	defer dc.Close()
	_, _ = dc.WriteDataChannel([]byte(`{"colibriClass":"ServerHello"}`), true)
	buf := make([]byte, 1<<16)
	for {
		n, _, err := dc.ReadDataChannel(buf)
		if err != nil {
			return
		}
		e.sfu.mu.Lock()
		e.sfu.messages[e.id] = append(e.sfu.messages[e.id], string(buf[:n]))
		e.sfu.mu.Unlock()
	}
}

// EndpointIDs lists the endpoints that sent bridge-channel messages.
func (s *SFU) EndpointIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.messages {
		out = append(out, id)
	}
	return out
}

// Messages returns the bridge-channel messages an endpoint sent over SCTP.
func (s *SFU) Messages(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.messages[id]...)
}
