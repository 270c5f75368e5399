package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/api"
	"github.com/cityjitsi/videobridge/bridge/channel"
	"github.com/cityjitsi/videobridge/bridge/config"
	"github.com/cityjitsi/videobridge/bridge/control"
	"github.com/cityjitsi/videobridge/bridge/demo"
	"github.com/cityjitsi/videobridge/bridge/media"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
	"github.com/cityjitsi/videobridge/xmpp"
)

// baseVersion is the bridge's release line; the VCS revision is appended when known.
const baseVersion = "1.0.0"

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 8 {
				return baseVersion + "-g" + s.Value[:8]
			}
		}
	}
	return baseVersion + "-dev"
}

// bridge is the wired process: control plane, XMPP clients, HTTP server, the media socket and
// the data plane on it.
type bridge struct {
	cfg     *config.Config
	log     *zap.Logger // this file's own messages (component=videobridge)
	base    *zap.Logger // handed to the packages, which add their own component field
	version string

	sock       *udp.Socket
	plane      *media.Plane
	transports *control.MediaTransports
	cands      []ice.Candidate
	vb         *control.Videobridge
	clients    []*xmpp.Client
	http       *api.Server // private: REST API, metrics, the standalone demo
	public     *api.Server // public: colibri-ws (nil when disabled)
	demo       bool        // the standalone demo is mounted on the private server

	reg     *prometheus.Registry
	colibri *api.Colibri2Metrics

	shutdown chan struct{} // closed when the graceful-shutdown state machine says exit
	once     sync.Once
}

func wire(cfg *config.Config, log *zap.Logger) (*bridge, error) {
	base := log
	log = log.With(zap.String("component", "videobridge"))
	b := &bridge{cfg: cfg, log: log, base: base, version: version(), shutdown: make(chan struct{}), reg: api.NewRegistry()}
	b.colibri = api.NewColibri2Metrics(b.reg)
	// The single media port is bound now, as JVB binds it at start-up: health reports it, and
	// the candidates Jicofo receives must point at a socket that exists. Its receive buffer is
	// ice4j's udp.receive-buffer-size (JVB: 10 MB), as the kernel default drops bursts; the
	// kernel caps it at net.core.rmem_max and udp logs the effective size.
	// UDP GRO lets the kernel hand a sender's burst (a NIC's GRO, or a GSO send from a local
	// peer) up as one message, so the receive path runs per burst; the reader cuts it apart.
	sock, err := udp.Listen(cfg.ICE.UDPPort, udp.Options{ReadBuffer: cfg.ICE.Harvest.UDPReceiveBufferSize,
		GRO: true, Logger: base})
	if err != nil {
		return nil, fmt.Errorf("bind media port (videobridge.ice.udp.port=%d): %w", cfg.ICE.UDPPort, err)
	}
	b.sock = sock
	if err := b.wireControl(); err != nil {
		b.closeMedia()
		return nil, err
	}
	b.wireXMPP()
	if err := b.wireHTTP(); err != nil {
		b.vb.Close()
		b.closeMedia()
		return nil, err
	}
	return b, nil
}

// closeMedia stops the data plane and the media socket (after the control plane has closed
// the endpoints).
func (b *bridge) closeMedia() {
	if b.plane != nil {
		b.plane.Close()
	}
	_ = b.sock.Close()
}

func (b *bridge) wireControl() error {
	cert, err := dtls.NewCertificate()
	if err != nil {
		return err
	}
	opts, err := harvestOptions(b.cfg)
	if err != nil {
		return err
	}
	cands, err := ice.HostCandidates(opts)
	if err != nil {
		return fmt.Errorf("harvest candidates: %w", err)
	}
	b.cands = cands
	c := b.cfg
	// The plane asks the control plane to expire endpoints (ICE/DTLS failure, inactivity);
	// b.vb is set below, before any endpoint can exist.
	b.plane = media.NewPlane(b.sock, cert, cands, media.Options{Log: b.base,
		TransportOptions: []endpoint.Option{endpoint.WithConsent(c.ICE.ConsentFreshness.Interval, c.ICE.ConsentFreshness.MaxRetransmissions)},
		OnExpire:         func(confID, epID, reason string) { b.vb.ExpireEndpoint(confID, epID, reason) }})
	// JVB caps every receiver's last-N by jvb-last-n and the video SSRC limit (50).
	lastN := channel.CapLastN(c.CC.JVBLastN, channel.DefaultLastNLimit)
	if lastN == 0 {
		b.log.Warn("videobridge.cc.jvb-last-n = 0 would forward no video at all; using 1")
		lastN = 1
	}
	b.transports = &control.MediaTransports{Plane: b.plane, Certificate: cert, Candidates: cands,
		UfragPrefix: c.ICE.UfragPrefix, AdvertisePrivate: c.ICE.AdvertisePrivateCandidates,
		LastNLimit: lastN, Log: b.base}
	b.vb = control.New(control.Options{
		Log: b.base, Version: b.version, Release: c.Version.Release,
		Region: c.Relay.Region, RelayID: c.Relay.RelayID, RelaysEnabled: c.Relay.Enabled,
		SCTPEnabled: c.SCTP.Enabled,
		WebSockets: control.WebSocketOptions{Enabled: c.Websockets.Enabled && publicServerEnabled(c),
			ServerID: c.Websockets.ServerID, Domains: c.Websockets.Domains, TLS: websocketTLS(c)},
		Transports:                      b.transports,
		InitialDrain:                    c.InitialDrainMode,
		AverageParticipantStress:        c.LoadManagement.AverageParticipantStress,
		GracefulShutdownMinParticipants: c.Shutdown.GracefulShutdownMinParticipants,
		GracefulShutdownMaxDuration:     c.Shutdown.GracefulShutdownMaxDuration,
		ShuttingDownDelay:               c.Shutdown.ShuttingDownDelay,
		OnShutdown:                      func() { b.once.Do(func() { close(b.shutdown) }) },
		OnStateChange:                   b.republish,
	})
	b.vb.SetHealthCheck(b.healthCheck)
	return nil
}

// healthCheck follows JVB's JvbHealthChecker: the media socket is bound and, unless
// videobridge.health.require-valid-address is off, some candidate is a public address.
func (b *bridge) healthCheck() error {
	if b.sock == nil {
		return errors.New("media port not bound")
	}
	if !b.cfg.Health.RequireValidAddress {
		return nil
	}
	for _, c := range b.cands {
		a := c.Addr.Unmap()
		if !a.IsLoopback() && !a.IsLinkLocalUnicast() && !ice.IsPrivate(a) {
			return nil
		}
	}
	return errors.New("No valid IP addresses available for harvesting.")
}

func harvestOptions(c *config.Config) (ice.HarvestOptions, error) {
	h := c.ICE.Harvest
	o := ice.HarvestOptions{Port: c.ICE.UDPPort, UseIPv6: h.UseIPv6,
		AllowedInterfaces: h.AllowedInterfaces, BlockedInterfaces: h.BlockedInterfaces}
	var err error
	if o.AllowedAddresses, err = parseAddrs("ice4j.harvest.allowed-addresses", h.AllowedAddresses); err != nil {
		return o, err
	}
	if o.BlockedAddresses, err = parseAddrs("ice4j.harvest.blocked-addresses", h.BlockedAddresses); err != nil {
		return o, err
	}
	for _, m := range h.StaticMappings {
		local, err1 := netip.ParseAddr(m.LocalAddress)
		public, err2 := netip.ParseAddr(m.PublicAddress)
		if err := errors.Join(err1, err2); err != nil {
			return o, fmt.Errorf("ice4j.harvest.mapping.static-mappings %q: %w", m.Name, err)
		}
		o.StaticMappings = append(o.StaticMappings, ice.StaticMapping{Name: m.Name, LocalAddress: local,
			PublicAddress: public, LocalPort: m.LocalPort, PublicPort: m.PublicPort})
	}
	return o, nil
}

func parseAddrs(key string, in []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range in {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func publicServerEnabled(c *config.Config) bool {
	return c.HTTP.Public.Port != -1 || c.HTTP.Public.TLSPort != -1
}

// websocketTLS is videobridge.websockets.tls, defaulting to whether the public server has TLS.
func websocketTLS(c *config.Config) bool {
	switch c.Websockets.TLS {
	case config.True:
		return true
	case config.False:
		return false
	}
	return c.HTTP.Public.KeyStorePath != ""
}

func (b *bridge) wireXMPP() {
	for _, xc := range b.cfg.XMPP.Clients {
		handler := xmpp.NewBridgeHandler(b.vb, b.colibri.Observe, b.base)
		client := xmpp.New(xmpp.Config{
			ID: xc.ID, Host: xc.Hostname, Port: xc.Port, Domain: xc.Domain,
			Username: xc.Username, Password: xc.Password,
			MUCJIDs: xc.MUCJIDs, MUCNickname: xc.MUCNickname,
			DisableCertificateVerification: xc.DisableCertificateVerification,
			SecurityMode:                   string(xc.SecurityMode),
			PresenceInterval:               b.cfg.XMPP.PresenceInterval,
		}, handler, b.presenceStats, b.version, b.base)
		b.clients = append(b.clients, client)
	}
}

func (b *bridge) wireHTTP() error {
	c := b.cfg
	view := bridgeView{b}
	if err := api.RegisterBridgeMetrics(b.reg, view, xmppView{b}); err != nil {
		return err
	}
	if err := b.reg.Register(newMediaCollector(b.plane, b.sock)); err != nil {
		return fmt.Errorf("register media metrics: %w", err)
	}
	var h http.Handler = api.NewHandler(view, xmppView{b}, b.reg, api.Options{
		Version: b.version, RESTEnabled: c.REST.Colibri, ShutdownEnabled: c.REST.Shutdown,
		DrainEnabled: c.REST.Drain, HealthEnabled: c.REST.Health, VersionEnabled: c.REST.Version,
		PrometheusEnabled: c.REST.Prometheus, Log: b.base,
	})
	if c.REST.Debug {
		// A debug aid: ReceiverVideoConstraints for an endpoint without a client-side bridge
		// channel (no video flows before a receiver's first constraints, as in JVB).
		mux := http.NewServeMux()
		mux.HandleFunc("POST /debug/constraints/{conf}/{ep}", b.setConstraints)
		mux.Handle("/", h)
		h = mux
	}
	if len(c.XMPP.Clients) == 0 {
		// Standalone mode: no Jicofo can reach the bridge, so it serves the demo meeting page
		// and its embedded focus at the root, the REST API behind them.
		h = demo.New(b.vb, demo.Options{Log: b.base, SCTP: c.SCTP.Enabled, Fallback: h})
		b.demo = true
	}
	if publicServerEnabled(c) {
		b.public = b.publicServer()
	}
	if c.HTTP.Private.Port == -1 {
		return nil
	}
	b.http = api.NewServer(net.JoinHostPort(c.HTTP.Private.Host, strconv.Itoa(c.HTTP.Private.Port)), h)
	return nil
}

// publicServer is videobridge.http-servers.public: the colibri-ws endpoint the URLs in
// colibri2 transports point at (through the deployment's reverse proxy). TLS on tls-port
// needs a Java key store, which this bridge does not read: the plain port is served and TLS
// is left to the proxy, as Jitsi deployments usually do.
func (b *bridge) publicServer() *api.Server {
	c := b.cfg
	ws := c.Websockets
	mux := http.NewServeMux()
	mux.Handle(channel.WebSocketPathPrefix, channel.NewWebSocketHandler(channel.WebSocketConfig{
		ServerID: ws.ServerID,
		Password: b.vb.WebSocketPassword,
		Channel:  b.transports.Channel,
		// Jetty pings only when enabled; a ping every interval is harmless either way.
		PingInterval: ws.KeepalivePingInterval,
		IdleTimeout:  ws.IdleTimeout,
		Log:          b.base,
	}))
	if c.HTTP.Public.Port == -1 {
		b.log.Warn("videobridge.http-servers.public has only a tls-port, which needs a Java key store: "+
			"colibri-ws is not served; set public.port and terminate TLS in the reverse proxy",
			zap.Int("tls_port", c.HTTP.Public.TLSPort))
		return nil
	}
	if c.HTTP.Public.KeyStorePath != "" {
		b.log.Warn("videobridge.http-servers.public.key-store-path is ignored: the public server is plain HTTP on its port")
	}
	return api.NewServer(net.JoinHostPort(c.HTTP.Public.Host, strconv.Itoa(c.HTTP.Public.Port)), mux)
}

// setConstraints handles POST /debug/constraints/{conf}/{ep}; {conf} is the bridge-internal
// conference id or the meeting-id. The body is a bridge-channel ReceiverVideoConstraints
// (colibriClass may be left out) and is handled exactly as if the endpoint had sent it on its
// bridge channel: a first one without defaultConstraints sets the default to 180 (media.md
// pitfall 2), later ones leave absent fields unchanged.
func (b *bridge) setConstraints(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	msg, err := constraintsMessage(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	conf := r.PathValue("conf")
	if info, ok := b.vb.Conference(conf); ok {
		conf = info.ID
	}
	switch err := b.transports.Deliver(conf, r.PathValue("ep"), msg); {
	case errors.Is(err, control.ErrNoChannel):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// constraintsMessage turns a debug request body into a ReceiverVideoConstraints message: a
// JSON object whose colibriClass, if any, must be ReceiverVideoConstraints.
func constraintsMessage(body []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("invalid JSON object: %v", err)
	}
	if raw, ok := obj["colibriClass"]; ok {
		var class string
		if json.Unmarshal(raw, &class) != nil || class != bridgechannel.ClassReceiverVideoConstraints {
			return nil, fmt.Errorf("colibriClass must be %s", bridgechannel.ClassReceiverVideoConstraints)
		}
		return body, nil
	}
	obj["colibriClass"], _ = json.Marshal(bridgechannel.ClassReceiverVideoConstraints)
	return json.Marshal(obj)
}

// mediaCollector exports the data plane's counters at scrape time.
type mediaCollector struct {
	plane                                *media.Plane
	sock                                 *udp.Socket
	dropped, retrans, kfSent, kfThrottle *prometheus.Desc
	srForwarded, rtcpIn, rtcpOut         *prometheus.Desc
	historiesExpired                     *prometheus.Desc
	datagramsIn, datagramsOut, gso, gro  *prometheus.Desc
	messagesOut                          *prometheus.Desc
}

func newMediaCollector(p *media.Plane, s *udp.Socket) *mediaCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("jitsi_jvb_"+name, help, labels, nil)
	}
	return &mediaCollector{plane: p, sock: s,
		dropped:     d("packets_dropped_total", "Packets dropped by the media path, by stage and reason.", "stage", "reason"),
		retrans:     d("retransmissions_sent_total", "RTP retransmissions sent in answer to NACKs."),
		kfSent:      d("keyframe_requests_sent_total", "PLI/FIR sent to media senders."),
		kfThrottle:  d("keyframe_requests_throttled_total", "Keyframe requests held back by the per-receiver and per-source limits."),
		srForwarded: d("sender_reports_forwarded_total", "Sender reports translated and forwarded to receivers."),
		historiesExpired: d("rtx_histories_expired_total",
			"Per-receiver RTX histories released after 15 s without a packet."),
		rtcpIn:       d("rtcp_packets_received_total", "Compound RTCP packets received from endpoints."),
		rtcpOut:      d("rtcp_packets_sent_total", "Compound RTCP packets sent to endpoints."),
		datagramsIn:  d("media_datagrams_received_total", "UDP datagrams delivered by the media socket."),
		datagramsOut: d("media_datagrams_sent_total", "UDP datagrams the kernel accepted on the media socket."),
		gso:          d("media_datagrams_sent_gso_total", "Media datagrams sent as UDP GSO segments."),
		gro:          d("media_datagrams_received_gro_total", "Media datagrams that arrived coalesced by UDP GRO."),
		messagesOut:  d("media_messages_sent_total", "Messages the media datagrams left in: a UDP GSO run or a single datagram each."),
	}
}

func (c *mediaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dropped, c.retrans, c.kfSent, c.kfThrottle, c.srForwarded, c.historiesExpired,
		c.rtcpIn, c.rtcpOut, c.datagramsIn, c.datagramsOut, c.gso, c.gro, c.messagesOut} {
		ch <- d
	}
}

func (c *mediaCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	s := c.plane.Stats()
	for _, d := range s.Drops() {
		counter(c.dropped, d.Count, d.Stage, d.Reason)
	}
	us := c.sock.Stats()
	for i, n := range us.Drops {
		if n > 0 && udp.DropReason(i) != udp.DropNone {
			counter(c.dropped, n, "socket", udp.DropReason(i).String())
		}
	}
	counter(c.retrans, s.Retransmissions)
	counter(c.kfSent, s.KeyframeRequests)
	counter(c.kfThrottle, s.KeyframesThrottled)
	counter(c.srForwarded, s.SRForwarded)
	counter(c.historiesExpired, s.HistoriesExpired)
	counter(c.rtcpIn, s.RTCPReceived)
	counter(c.rtcpOut, s.RTCPSent)
	counter(c.datagramsIn, us.Received)
	counter(c.datagramsOut, us.Sent)
	counter(c.gso, us.GSOSent)
	counter(c.gro, us.GROReceived)
	counter(c.messagesOut, us.SentMessages)
}

func (b *bridge) run(ctx context.Context) error {
	defer b.closeMedia()
	if err := b.startHTTP(); err != nil {
		b.vb.Close()
		return err
	}
	if b.cfg.Relay.Enabled {
		b.log.Warn("videobridge.relay.enabled is set but relays (Octo) are not implemented yet: " +
			"Jicofo may cascade conferences onto this bridge and every relay request will fail; keep relays disabled")
	}
	b.log.Info("videobridge started", zap.String("version", b.version),
		zap.Int("media_port", b.cfg.ICE.UDPPort), zap.Int("candidates", len(b.cands)),
		zap.Int("xmpp_clients", len(b.clients)))
	if len(b.clients) == 0 {
		b.log.Info("no xmpp-client configured: Jicofo cannot reach this bridge (videobridge.apis.xmpp-client.configs)")
	}
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, c := range b.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Run(runCtx)
		}()
	}
	xm := api.NewXMPPMetrics(b.reg)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
wait:
	for {
		for i, c := range b.clients {
			xm.SetConnected(b.cfg.XMPP.Clients[i].ID, c.Status().Connected)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			b.log.Info("signal received: stopping")
			break wait
		case <-b.shutdown:
			b.log.Info("graceful shutdown complete: stopping")
			break wait
		}
	}
	for _, c := range b.clients {
		_ = c.Close() // unavailable presence: Jicofo moves conferences elsewhere
	}
	cancel()
	wg.Wait()
	b.vb.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	for _, s := range []*api.Server{b.http, b.public} {
		if s != nil {
			_ = s.Shutdown(sctx)
		}
	}
	return nil
}

// startHTTP starts the private and public servers and logs where they listen.
func (b *bridge) startHTTP() error {
	if b.http != nil {
		addr, err := b.http.Start()
		if err != nil {
			return fmt.Errorf("private HTTP server: %w", err)
		}
		b.log.Info("private REST API listening", zap.String("url", "http://"+addr),
			zap.String("health", "http://"+addr+"/about/health"))
		if b.demo {
			b.log.Info("standalone demo meeting: open this address in two browser tabs",
				zap.String("url", "http://"+addr+"/"))
		}
	}
	if b.public != nil {
		addr, err := b.public.Start()
		if err != nil {
			if b.http != nil {
				_ = b.http.Shutdown(context.Background())
			}
			return fmt.Errorf("public HTTP server: %w", err)
		}
		b.log.Info("public HTTP server (colibri-ws) listening", zap.String("addr", addr),
			zap.Bool("websockets", b.cfg.Websockets.Enabled), zap.Strings("domains", b.cfg.Websockets.Domains))
	}
	return nil
}
