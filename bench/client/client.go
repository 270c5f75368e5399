// Package client is the bench harness's synthetic endpoint: a real WebRTC client as Jitsi
// Meet's looks to the bridge — ICE (controlled, as browsers are toward JVB), DTLS 1.2 client
// (setup=active), SRTP with rtcp-mux — that sends simulcast VP8 and Opus from bench/traffic and
// receives what the bridge forwards, answering with RR, transport-cc feedback, NACK and PLI.
//
// It is built on the bridge's own transport pieces (bridge/transport/udp, ice, dtls, srtp): one
// udp.Socket per endpoint, because the bridge tells endpoints apart by their address (a shared
// client socket would not be faithful), batched receive and send on that socket, pion/ice
// through ice.Mux, and the SRTP contexts of bridge/transport/srtp.
//
// To stay cheaper than the bridge it measures, a receiver decrypts only a sample of the RTP
// packets (1 in SampleEvery per stream, every RTX packet and all RTCP) and counts the rest by
// their clear header.
//
// Goroutines: the socket's reader runs HandleDatagram (receive state under mu); one run loop
// per endpoint generates media, paces it, and sends RTCP; pion runs its agent and DTLS
// goroutines. Close stops all of them.
package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	piondtls "github.com/pion/dtls/v3"
	pionice "github.com/pion/ice/v4"
	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bench/traffic"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/srtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
)

// Sentinel errors.
var (
	ErrClosed  = errors.New("client: closed")
	ErrICE     = errors.New("client: ICE did not connect")
	ErrDTLS    = errors.New("client: DTLS handshake failed")
	ErrNoMedia = errors.New("client: media not started")
)

// SendConfig describes what a sending endpoint sends. A nil SendConfig makes a receive-only
// endpoint.
type SendConfig struct {
	SSRCs  SSRCs
	Talker *traffic.Talker
	Member int // index in the talker's conference
	// Video is the simulcast model; NoVideo sends audio only.
	Video   traffic.VideoConfig
	NoVideo bool
}

// Pacer is a model of Chrome's video pacer.
type Pacer string

const (
	// PacerBurst is libwebrtc's pacer since its burst interval (default 40 ms): queued
	// packets leave back to back while the media debt stays under 40 ms at the pacing rate,
	// so a frame of ordinary size leaves whole, all simulcast layers together, and only a
	// large keyframe is spread out.
	PacerBurst Pacer = "burst"
	// PacerInterval is the older budget pacer: every 5 ms it sends 5 ms worth of the
	// pacing rate, so a 720p frame leaves over two or three intervals.
	PacerInterval Pacer = "interval"
)

// Config configures one endpoint.
type Config struct {
	Index       uint32 // endpoint index in the run: the Stamp sender
	LocalAddr   netip.Addr
	Certificate *dtls.Certificate
	Registry    *Registry
	Send        *SendConfig
	// SampleEvery decrypts one RTP packet in SampleEvery per stream (default 10; 1: all).
	SampleEvery int
	// RecvLoss drops this fraction of incoming RTP before it is processed, as a lossy
	// downlink would (the receiver then NACKs). SendLoss drops outgoing RTP after it got its
	// transport-wide number (the bridge then NACKs us). SendDelay holds outgoing packets
	// back (5 ms granularity).
	RecvLoss, SendLoss float64
	SendDelay          time.Duration
	// HandshakeTimeout bounds ICE plus DTLS in Connect when ctx has no deadline (default 30 s).
	HandshakeTimeout time.Duration
	// GRO turns on UDP GRO on the endpoint's socket (fewer receive-path passes per burst).
	GRO bool
	// Pacer is how video leaves the sender (default PacerBurst).
	Pacer Pacer
	Seed  uint64
	Log   *zap.Logger
}

// Remote is the bridge side of the transport, from the colibri2 allocation answer.
type Remote struct {
	Ufrag, Pwd   string
	Fingerprints map[string][]string // hash → values
	Candidates   []ice.Candidate
}

// JoinTimes are the phases of Connect.
type JoinTimes struct {
	ICE, DTLS time.Duration
}

// Client is one synthetic endpoint.
type Client struct {
	cfg   Config
	log   *zap.Logger
	sock  *udp.Socket
	mux   *ice.Mux
	agent *pionice.Agent
	local ice.Credentials
	// rtcpSSRC is the sender SSRC of our RTCP: the audio SSRC of a sender, else random, as a
	// receive-only browser uses.
	rtcpSSRC uint32

	// Set once by Connect, before media starts.
	dtlsConn *piondtls.Conn
	dst      atomic.Pointer[netip.AddrPort]
	rx       atomic.Pointer[srtp.Context] // socket reader goroutine only
	txRTP    *srtp.Context                // run loop only
	txRTCP   *srtp.Context                // run loop only: SRTCP state is separate from SRTP

	// mu guards the receive state, shared by the reader goroutine and the run loop's RTCP.
	mu      sync.Mutex
	rs      recvState
	latency latencyHists
	channel *bridgeChannel // the SCTP bridge channel, once open

	ctl     control // reader → run loop: keyframe and NACK requests for our streams
	counter Counters
	// videoSeq is the newest sequence number sent per encoding (for diagnostics and tests).
	videoSeq [3]atomic.Uint32

	start     time.Time
	firstRTP  atomic.Int64 // Unix ns of the first RTP packet received
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool
}

// New binds the endpoint's socket and prepares its ICE agent (controlled) with fresh
// credentials. Nothing is sent until Connect.
func New(cfg Config) (*Client, error) {
	if cfg.Certificate == nil || cfg.Registry == nil {
		return nil, errors.New("client: certificate and registry are required")
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = 10
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 30 * time.Second
	}
	if !cfg.LocalAddr.IsValid() {
		cfg.LocalAddr = netip.MustParseAddr("127.0.0.1")
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	c := &Client{cfg: cfg, local: ice.NewCredentials("b"),
		log: log.With(zap.String("component", "bench-client"), zap.Uint32("endpoint", cfg.Index))}
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.Index)))
	c.rtcpSSRC = rng.Uint32() | 1
	if cfg.Send != nil {
		c.rtcpSSRC = cfg.Send.SSRCs.Audio
	}
	c.rs.init(cfg, rng.Uint64())
	c.ctl.init()
	opts := udp.Options{Addr: cfg.LocalAddr, ReadBuffer: 1 << 20, WriteBuffer: 1 << 20}
	if cfg.GRO {
		// 8 slots of 64 KiB: a burst is one message. That is 512 KiB of address space per
		// endpoint, resident only as far as bursts fill it (≈ 40 KiB per slot).
		opts.GRO, opts.ReadBatch = true, 8
	}
	sock, err := udp.Listen(0, opts)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c.sock = sock
	c.mux = ice.NewMux(c.local.Ufrag, []netip.AddrPort{sock.LocalAddr()}, sock, c.onSend)
	agent, err := ice.NewAgent(ice.AgentConfig{Local: c.local, Mux: c.mux, Controlling: false,
		LoggerFactory: ice.LoggerFactory(c.log)})
	if err != nil {
		_ = c.mux.Close()
		_ = sock.Close()
		return nil, fmt.Errorf("client: %w", err)
	}
	c.agent = agent
	if err := sock.RegisterUfrag(c.local.Ufrag, c); err != nil {
		c.closeTransport()
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// LocalPort is the port of the endpoint's socket.
func (c *Client) LocalPort() uint16 { return c.sock.LocalAddr().Port() }

// Credentials are the endpoint's ICE credentials, for the colibri2 transport update.
func (c *Client) Credentials() ice.Credentials { return c.local }

// Candidate is the endpoint's only host candidate (its socket address).
func (c *Client) Candidate() ice.Candidate {
	ap := c.sock.LocalAddr()
	return ice.Candidate{Foundation: "1", Component: ice.ComponentRTP, Type: ice.TypeHost,
		Priority: ice.Priority(ice.TypeHost, 65535, ice.ComponentRTP), Addr: ap.Addr(), Port: int(ap.Port()),
		ID: c.local.Ufrag + "1"}
}

// Fingerprint is the sha-256 fingerprint of the endpoint's certificate.
func (c *Client) Fingerprint() string { return c.cfg.Certificate.Fingerprint }

// onSend routes answers from addr to us: the bridge's responses to our checks carry no
// USERNAME, so the socket demultiplexes them by address.
func (c *Client) onSend(addr netip.AddrPort) {
	if c.sock.Owner(addr) == nil {
		c.sock.BindAddr(addr, c)
	}
}

// usable says whether a remote candidate can be reached from our local address: a loopback
// socket cannot send to the bridge's other interfaces (and the harness stays on loopback).
func (c *Client) usable(cand ice.Candidate) bool {
	a := cand.Addr.Unmap()
	l := c.cfg.LocalAddr.Unmap()
	return a.Is4() == l.Is4() && a.IsLoopback() == l.IsLoopback()
}

// Connect runs ICE (controlled: the bridge nominates) and the DTLS handshake as client, and
// installs the SRTP contexts. It returns how long each phase took.
func (c *Client) Connect(ctx context.Context, r Remote) (JoinTimes, error) {
	var jt JoinTimes
	if c.closed.Load() {
		return jt, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.HandshakeTimeout)
		defer cancel()
	}
	added := 0
	for _, cand := range r.Candidates {
		if !c.usable(cand) {
			continue
		}
		pc, err := ice.ToPion(cand)
		if err != nil {
			continue
		}
		if err := c.agent.AddRemoteCandidate(pc); err == nil {
			added++
		}
	}
	if added == 0 {
		return jt, fmt.Errorf("%w: no usable remote candidate among %d", ErrICE, len(r.Candidates))
	}
	t0 := time.Now()
	conn, err := c.agent.Accept(ctx, r.Ufrag, r.Pwd)
	if err != nil {
		return jt, fmt.Errorf("%w: %w", ErrICE, err)
	}
	jt.ICE = time.Since(t0)
	if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		c.dst.Store(&ap)
		c.sock.BindAddr(ap, c)
	}
	t1 := time.Now()
	dc, profile, err := dtls.Handshake(ctx, conn, dtls.HandshakeConfig{Certificate: c.cfg.Certificate,
		Role: dtls.RoleClient, RemoteFingerprints: r.Fingerprints, LoggerFactory: ice.LoggerFactory(c.log)})
	if err != nil {
		return jt, fmt.Errorf("%w: %w", ErrDTLS, err)
	}
	jt.DTLS = time.Since(t1)
	if err := c.installSRTP(dc, srtp.Profile(profile)); err != nil {
		_ = dc.Close()
		return jt, fmt.Errorf("%w: %w", ErrDTLS, err)
	}
	c.dtlsConn = dc
	return jt, nil
}

func (c *Client) installSRTP(dc *piondtls.Conn, p srtp.Profile) error {
	state, ok := dc.ConnectionState()
	if !ok {
		return errors.New("DTLS state unavailable")
	}
	keys, err := srtp.KeysFromDTLS(&state, p, true)
	if err != nil {
		return err
	}
	rx, err1 := srtp.NewInbound(keys)
	txRTP, err2 := srtp.NewOutbound(keys)
	txRTCP, err3 := srtp.NewOutbound(keys)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	c.txRTP, c.txRTCP = txRTP, txRTCP
	c.rx.Store(rx)
	return nil
}

// Start begins sending media (senders) and RTCP. Connect must have succeeded.
func (c *Client) Start() error {
	if c.rx.Load() == nil || c.dst.Load() == nil {
		return ErrNoMedia
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.start = time.Now()
	c.wg.Add(1)
	go c.run(ctx)
	return nil
}

// FirstMedia is when the first RTP packet arrived (zero if none yet).
func (c *Client) FirstMedia() time.Time {
	if ns := c.firstRTP.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// HandleDatagram implements udp.Handler on the socket's reader goroutine.
func (c *Client) HandleDatagram(kind rtp.Kind, b []byte, from netip.AddrPort, now int64) {
	switch kind {
	case rtp.KindSTUN, rtp.KindDTLS:
		c.mux.Deliver(b, from)
	case rtp.KindRTP:
		c.onRTP(b, now)
	case rtp.KindRTCP:
		c.onRTCP(b, now)
	}
}

// Close stops media, closes DTLS (a close_notify tells the bridge), ICE and the socket.
// Idempotent.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
		c.mu.Lock()
		bc := c.channel
		c.mu.Unlock()
		if bc != nil {
			bc.close()
		}
		if c.dtlsConn != nil {
			_ = c.dtlsConn.Close()
		}
		c.closeTransport()
	})
}

func (c *Client) closeTransport() {
	_ = c.agent.Close()
	_ = c.mux.Close()
	c.sock.Unregister(c)
	_ = c.sock.Close()
}
