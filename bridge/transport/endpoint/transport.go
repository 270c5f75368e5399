// Package endpoint ties one endpoint's media transport together on the shared UDP socket:
// ICE (pion/ice, the bridge controlling, full agent), DTLS 1.2 (role from the remote setup
// attribute, fingerprint-verified), SRTP (pion/srtp) and rtcp-mux (media.md §6, pitfall 14).
//
// Goroutines and ownership:
//   - the socket reader goroutine calls HandleDatagram; it owns the inbound SRTP context and
//     delivers decrypted media to Handler.OnRTP/OnRTCP synchronously;
//   - the endpoint's single egress goroutine (the caller of WriteRTP/WriteRTCP) owns the
//     outbound SRTP context: at most one goroutine may write media per endpoint;
//   - one goroutine per Transport runs ICE connect and the DTLS handshake, plus pion's own
//     agent and DTLS goroutines; Close stops and waits for all of them.
//
// It is a data-plane package: it imports no control-plane package.
package endpoint

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/srtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	piondtls "github.com/pion/dtls/v3"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/logging"
	"go.uber.org/zap"
)

// Defaults.
const (
	// DefaultHandshakeTimeout bounds the DTLS handshake (JVB: 30 s).
	DefaultHandshakeTimeout = 30 * time.Second
	// maxBoundAddrs bounds the remote addresses one endpoint owns on the socket (every
	// authenticated check source and every address its agent sent to); the oldest that is
	// not the selected one is released beyond it.
	maxBoundAddrs = 16
)

// Sentinel errors.
var ErrClosed = errors.New("endpoint: transport closed")

// Remote is the remote side's transport description, as accumulated by the control plane
// (control.RemoteTransport): every SetRemote call passes the whole description known so far.
type Remote struct {
	Ufrag, Pwd string
	// Fingerprints maps a lower-case hash function name to the signaled fingerprints.
	Fingerprints map[string][]string
	// Role is the bridge's DTLS role (remote setup=active: server; passive: client).
	Role dtls.Role
	// Candidates are the signaled remote candidates (optional: checks from the remote make
	// peer-reflexive candidates).
	Candidates []ice.Candidate
}

// Option tunes a Transport.
type Option func(*Transport)

// WithICETimeouts overrides pion's keepalive interval, disconnected and failed timeouts.
func WithICETimeouts(keepalive, disconnected, failed time.Duration) Option {
	return func(t *Transport) { t.keepalive, t.disconnected, t.failed = keepalive, disconnected, failed }
}

// consentRetransmitWait is ice4j's wait between consent freshness retransmissions.
const consentRetransmitWait = 500 * time.Millisecond

// WithConsent maps ice4j's consent freshness (RFC 7675; ice4j.consent-freshness) onto the
// agent: a binding request on the selected pair every interval (JVB's application.conf: 5 s),
// and the pair disconnected when no STUN came back for an interval plus the retransmissions
// ice4j waits for (500 ms each). pion's agent wakes only at these intervals (its default is a
// request every 2 s), so hundreds of endpoints cost the bridge fewer wake-ups. The failed
// timeout stays pion's.
func WithConsent(interval time.Duration, maxRetransmissions int) Option {
	return func(t *Transport) {
		if interval <= 0 {
			return
		}
		t.keepalive = interval
		t.disconnected = interval + time.Duration(max(maxRetransmissions, 0))*consentRetransmitWait
	}
}

// Transport is one endpoint's ICE/DTLS/SRTP transport on the shared socket.
type Transport struct {
	sock  *udp.Socket
	cert  *dtls.Certificate
	local ice.Credentials
	h     Handler
	log   *zap.Logger
	plog  logging.LoggerFactory
	mux   *ice.Mux
	agent *pionice.Agent

	keepalive, disconnected, failed time.Duration

	// Media state, read per packet without locks.
	rx           atomic.Pointer[srtp.Context]   // owned by the socket reader goroutine
	tx           atomic.Pointer[srtp.Context]   // owned by the single egress goroutine
	dst          atomic.Pointer[netip.AddrPort] // remote address of the selected pair
	lastActivity atomic.Int64                   // Unix ns of the last authenticated STUN or media
	closing      atomic.Bool                    // set first in Close: suppresses callbacks
	stats        counters

	ctx           context.Context
	cancel        context.CancelFunc
	wg            sync.WaitGroup
	remoteChanged chan struct{} // wakes run when a SetRemote may have completed DTLS params

	// mu guards the remote description and lifecycle fields. Never held while calling
	// into the agent (pion calls back into us from its loop).
	mu       sync.Mutex
	remote   Remote
	added    map[netip.AddrPort]bool // remote candidates already given to the agent
	started  bool
	closed   bool
	dtlsConn *piondtls.Conn

	// bindMu guards bound, the addresses this endpoint owns on the socket.
	bindMu sync.Mutex
	bound  []netip.AddrPort
}

// New creates the transport for one endpoint and registers its local ufrag on the socket.
// candidates are the bridge's advertised candidates; their host addresses anchor the agent's
// local candidates. The agent gathers at once but connects only after SetRemote supplies the
// remote credentials.
func New(sock *udp.Socket, cert *dtls.Certificate, local ice.Credentials, candidates []ice.Candidate,
	h Handler, log *zap.Logger, opts ...Option) (*Transport, error) {
	if log == nil {
		log = zap.NewNop()
	}
	t := &Transport{
		sock: sock, cert: cert, local: local, h: h,
		log:           log.With(zap.String("component", "transport"), zap.String("ufrag", local.Ufrag)),
		remoteChanged: make(chan struct{}, 1),
		added:         make(map[netip.AddrPort]bool),
	}
	for _, o := range opts {
		o(t)
	}
	t.plog = ice.LoggerFactory(t.log)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.mux = ice.NewMux(local.Ufrag, listenAddrs(candidates, sock.LocalAddr()), sock, t.onSend)
	agent, err := ice.NewAgent(ice.AgentConfig{
		Local: local, Mux: t.mux, Controlling: true, LoggerFactory: t.plog,
		KeepaliveInterval: t.keepalive, DisconnectedTimeout: t.disconnected, FailedTimeout: t.failed,
	})
	if err != nil {
		t.cancel()
		return nil, err
	}
	t.agent = agent
	if err := errors.Join(agent.OnConnectionStateChange(t.onICEState),
		agent.OnSelectedCandidatePairChange(t.onSelectedPair)); err != nil {
		t.abort()
		return nil, err
	}
	if err := sock.RegisterUfrag(local.Ufrag, t); err != nil {
		t.abort()
		return nil, err
	}
	return t, nil
}

func (t *Transport) abort() {
	t.cancel()
	_ = t.agent.Close()
	_ = t.mux.Close()
}

// listenAddrs picks the local addresses of the agent's host candidates: the advertised host
// candidates, else the socket's own address, else the unspecified addresses of both families.
func listenAddrs(cands []ice.Candidate, sock netip.AddrPort) []netip.AddrPort {
	var out []netip.AddrPort
	for _, c := range cands {
		if c.Type == ice.TypeHost && c.Addr.IsValid() {
			out = append(out, netip.AddrPortFrom(c.Addr, uint16(c.Port)))
		}
	}
	if len(out) > 0 {
		return out
	}
	if a := sock.Addr(); a.IsValid() && !a.IsUnspecified() {
		return []netip.AddrPort{sock}
	}
	return []netip.AddrPort{
		netip.AddrPortFrom(netip.IPv4Unspecified(), sock.Port()),
		netip.AddrPortFrom(netip.IPv6Unspecified(), sock.Port()),
	}
}

// Local returns the credentials the transport was created with.
func (t *Transport) Local() ice.Credentials { return t.local }

// SetRemote hands over the remote description known so far. The first call with ufrag and pwd
// starts ICE (controlling: the bridge nominates); DTLS starts once ICE is connected and the
// role and fingerprints are known. Later calls add new candidates and may complete the DTLS
// parameters; a changed ufrag (ICE restart) is not supported and keeps the first credentials.
func (t *Transport) SetRemote(r Remote) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	startUfrag, startPwd := "", ""
	if t.started {
		if r.Ufrag != "" && r.Ufrag != t.remote.Ufrag {
			t.log.Warn("remote ICE credentials changed; ICE restart is not supported")
		}
		r.Ufrag, r.Pwd = t.remote.Ufrag, t.remote.Pwd
	} else if r.Ufrag != "" && r.Pwd != "" {
		t.started = true
		startUfrag, startPwd = r.Ufrag, r.Pwd
	}
	var fresh []ice.Candidate
	for _, c := range r.Candidates {
		ap := netip.AddrPortFrom(c.Addr.Unmap(), uint16(c.Port))
		if !t.added[ap] {
			t.added[ap] = true
			fresh = append(fresh, c)
		}
	}
	t.remote = r
	if startUfrag != "" {
		t.wg.Add(1)
		go t.run(startUfrag, startPwd)
	}
	t.mu.Unlock()

	for _, c := range fresh {
		pc, err := ice.ToPion(c)
		if err != nil {
			t.log.Debug("remote candidate skipped", zap.Error(err))
			continue
		}
		if err := t.agent.AddRemoteCandidate(pc); err != nil {
			t.log.Debug("remote candidate not added", zap.Error(err))
		}
	}
	select {
	case t.remoteChanged <- struct{}{}:
	default:
	}
	return nil
}

// run connects ICE, then runs the DTLS handshake and installs the SRTP contexts.
func (t *Transport) run(remoteUfrag, remotePwd string) {
	defer t.wg.Done()
	conn, err := t.agent.Dial(t.ctx, remoteUfrag, remotePwd)
	if err != nil {
		if t.ctx.Err() == nil {
			t.log.Info("ICE did not connect", zap.Error(err))
		}
		return
	}
	cfg, ok := t.awaitDTLSParams()
	if !ok {
		return
	}
	t.notifyDTLS(DTLSConnecting)
	hctx, cancel := context.WithTimeout(t.ctx, DefaultHandshakeTimeout)
	dc, profile, err := dtls.Handshake(hctx, conn, cfg)
	cancel()
	if err != nil {
		if t.ctx.Err() == nil {
			t.log.Info("DTLS handshake failed", zap.Stringer("role", cfg.Role), zap.Error(err))
			t.notifyDTLS(DTLSFailed)
		}
		return
	}
	rx, tx, err := srtpContexts(dc, srtp.Profile(profile), cfg.Role == dtls.RoleClient)
	if err != nil {
		t.log.Warn("SRTP keys not derived", zap.Error(err))
		_ = dc.Close()
		t.notifyDTLS(DTLSFailed)
		return
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = dc.Close()
		return
	}
	t.dtlsConn = dc
	t.mu.Unlock()
	t.rx.Store(rx)
	t.tx.Store(tx)
	t.log.Info("DTLS connected", zap.Stringer("role", cfg.Role), zap.Stringer("srtp", srtp.Profile(profile)))
	t.notifyDTLS(DTLSConnected)
}

func srtpContexts(dc *piondtls.Conn, p srtp.Profile, isClient bool) (rx, tx *srtp.Context, err error) {
	state, ok := dc.ConnectionState()
	if !ok {
		return nil, nil, errors.New("endpoint: DTLS state unavailable")
	}
	keys, err := srtp.KeysFromDTLS(&state, p, isClient)
	if err != nil {
		return nil, nil, err
	}
	if rx, err = srtp.NewInbound(keys); err != nil {
		return nil, nil, err
	}
	if tx, err = srtp.NewOutbound(keys); err != nil {
		return nil, nil, err
	}
	return rx, tx, nil
}

// awaitDTLSParams waits until the remote role and fingerprints are known.
func (t *Transport) awaitDTLSParams() (dtls.HandshakeConfig, bool) {
	for {
		t.mu.Lock()
		r := t.remote
		t.mu.Unlock()
		if r.Role != dtls.RoleUnknown && len(r.Fingerprints) > 0 {
			return dtls.HandshakeConfig{
				Certificate: t.cert, Role: r.Role, RemoteFingerprints: r.Fingerprints, LoggerFactory: t.plog,
			}, true
		}
		select {
		case <-t.remoteChanged:
		case <-t.ctx.Done():
			return dtls.HandshakeConfig{}, false
		}
	}
}

func (t *Transport) notifyDTLS(s DTLSState) {
	if !t.closing.Load() {
		t.h.OnDTLSState(s)
	}
}

func (t *Transport) onICEState(s pionice.ConnectionState) {
	if t.closing.Load() {
		return
	}
	var st ICEState
	switch s {
	case pionice.ConnectionStateChecking:
		st = ICEChecking
	case pionice.ConnectionStateConnected, pionice.ConnectionStateCompleted:
		st = ICEConnected
	case pionice.ConnectionStateDisconnected:
		st = ICEDisconnected
	case pionice.ConnectionStateFailed:
		st = ICEFailed
	case pionice.ConnectionStateClosed:
		st = ICEClosed
	default:
		return
	}
	t.log.Debug("ICE state", zap.Stringer("state", st))
	t.h.OnICEState(st)
}

// onSelectedPair makes the selected pair's remote address the media destination and makes
// sure the socket routes it here.
func (t *Transport) onSelectedPair(_, remote pionice.Candidate) {
	ap := ice.AddrPortOf(remote)
	if !ap.IsValid() {
		return
	}
	t.dst.Store(&ap)
	t.bind(ap, true)
	t.log.Debug("ICE selected pair", zap.Stringer("remote", ap))
}

// onSend is called by the mux before the agent or DTLS sends to addr: the answers to our own
// checks come from there, so route it here unless another endpoint owns it.
func (t *Transport) onSend(addr netip.AddrPort) {
	if t.sock.Owner(addr) != udp.Handler(t) {
		t.bind(addr, false)
	}
}

// bind routes addr to this endpoint (force: even if another endpoint owns it) and keeps the
// endpoint's owned set bounded.
func (t *Transport) bind(addr netip.AddrPort, force bool) {
	t.bindMu.Lock()
	defer t.bindMu.Unlock()
	if t.closing.Load() {
		return // Close has released the routes; do not add new ones
	}
	if force {
		t.sock.BindAddr(addr, t)
	} else if !t.sock.BindAddrIfFree(addr, t) {
		return
	}
	if slices.Contains(t.bound, addr) {
		return
	}
	t.bound = append(t.bound, addr)
	if len(t.bound) <= maxBoundAddrs {
		return
	}
	var selected netip.AddrPort
	if d := t.dst.Load(); d != nil {
		selected = *d
	}
	for i, old := range t.bound {
		if old != selected && old != addr {
			t.sock.UnbindAddr(old, t)
			t.bound = slices.Delete(t.bound, i, i+1)
			return
		}
	}
}

// DTLSConn returns the established DTLS connection (for the SCTP data channel), or nil before
// the handshake finished.
func (t *Transport) DTLSConn() *piondtls.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dtlsConn
}

// Close tears down DTLS, the agent and the socket routes, and waits for the transport's
// goroutines. No Handler callback is made once Close has started. Idempotent.
func (t *Transport) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	dc := t.dtlsConn
	t.mu.Unlock()

	t.closing.Store(true)
	t.cancel()
	t.bindMu.Lock() // waits for a bind in flight, so Unregister sees its route
	t.bound = nil
	t.bindMu.Unlock()
	t.sock.Unregister(t)
	t.rx.Store(nil)
	t.tx.Store(nil)
	if dc != nil {
		_ = dc.Close()
	}
	_ = t.agent.Close()
	_ = t.mux.Close()
	t.wg.Wait()
}
