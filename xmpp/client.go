package xmpp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Client errors.
var (
	ErrAlreadyRunning = errors.New("xmpp: Run called twice")
	ErrCloseTimeout   = errors.New("xmpp: Close timed out waiting for the connection to end")
)

// Timing defaults. Pings follow jicoco (Smack PingManager every 30 s); a server that does not
// answer within 10 s is treated as gone, because a half-dead connection keeps the bridge
// invisible to Jicofo without ever failing a read.
const (
	defaultPingInterval = 30 * time.Second
	defaultPingTimeout  = 10 * time.Second
	defaultJoinTimeout  = 15 * time.Second // Smack's reply timeout for the MUC join
	defaultLoginTimeout = 30 * time.Second
	defaultWriteTimeout = 10 * time.Second
	defaultCloseWait    = 2 * time.Second // for the server's </stream:stream> after ours
	// stableSession is how long a connection must have lasted for the reconnect delay to start
	// over at the minimum.
	stableSession = 30 * time.Second
)

// Status is a snapshot for metrics and health.
type Status struct {
	Connected   bool
	JID         string // full JID bound on the current connection
	Encrypted   bool
	Mechanism   string // SASL mechanism of the current connection
	MUCsJoined  int
	MUCs        int    // configured rooms
	Disconnects uint64 // established connections that were lost
	// ConnectFailures counts failed connection/login attempts.
	ConnectFailures uint64
	IQsReceived     uint64 // requests handed to the Handler
	IQsRejected     uint64 // requests refused with forbidden
}

// Client is the bridge's XMPP client for one xmpp-client config: it logs in to Prosody, joins
// the brewery rooms, publishes stats presence and serves IQs, reconnecting until closed.
type Client struct {
	cfg     Config
	cfgErr  error
	h       Handler
	stats   func() []Stat
	version string
	log     *zap.Logger
	rooms   map[string]bool // lowercased bare room JIDs: the only senders allowed to send requests

	// Timings; tests shorten them.
	backoffMin, backoffMax  time.Duration
	pingInterval            time.Duration
	pingTimeout             time.Duration
	joinTimeout             time.Duration
	loginTimeout            time.Duration
	writeTimeout, closeWait time.Duration

	idPrefix string
	idSeq    atomic.Uint64

	closeCtx context.Context // done once Close is called
	closeFn  context.CancelFunc
	running  atomic.Bool
	runDone  chan struct{}

	mu   sync.Mutex
	sess *session // current connection, nil while disconnected

	disconnects, connectFailures atomic.Uint64
	iqsReceived, iqsRejected     atomic.Uint64
}

// New returns a client; Run starts it. stats is called for every presence (from the client's
// goroutines and from SendPresenceNow) and must be safe for concurrent use. version is the
// bridge version answered to jabber:iq:version. An invalid config makes Run fail at once.
func New(cfg Config, h Handler, stats func() []Stat, version string, log *zap.Logger) *Client {
	cfg = cfg.withDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	if stats == nil {
		stats = func() []Stat { return nil }
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	c := &Client{
		cfg: cfg, cfgErr: cfg.validate(), h: h, stats: stats, version: version,
		log: log.With(zap.String("component", "xmpp"), zap.String("xmpp_config", cfg.ID),
			zap.String("host", cfg.Host), zap.String("domain", cfg.Domain)),
		rooms:      map[string]bool{},
		backoffMin: defaultBackoffMin, backoffMax: defaultBackoffMax,
		pingInterval: defaultPingInterval, pingTimeout: defaultPingTimeout,
		joinTimeout: defaultJoinTimeout, loginTimeout: defaultLoginTimeout,
		writeTimeout: defaultWriteTimeout, closeWait: defaultCloseWait,
		idPrefix: "jvb" + hex.EncodeToString(rnd[:]) + "-",
		runDone:  make(chan struct{}),
	}
	c.closeCtx, c.closeFn = context.WithCancel(context.Background())
	for _, r := range cfg.MUCJIDs {
		c.rooms[bareJID(r)] = true
	}
	return c
}

// Run connects, logs in, joins the rooms and serves until ctx is done or Close is called,
// reconnecting with backoff (1 s doubling to 30 s, jittered) after any failure, including the
// first connection. It returns nil after Close, ctx.Err() when ctx ends, or a config error.
func (c *Client) Run(ctx context.Context) error {
	if c.cfgErr != nil {
		return c.cfgErr
	}
	if !c.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer close(c.runDone)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.closeCtx, cancel)()

	var delay time.Duration
	for ctx.Err() == nil {
		if delay > 0 && !sleep(ctx, jittered(delay)) {
			break
		}
		l, err := c.login(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.connectFailures.Add(1)
			delay = nextBackoff(delay, c.backoffMin, c.backoffMax)
			c.log.Warn("XMPP login failed", zap.Error(err), zap.Duration("retry_in", delay))
			continue
		}
		began := time.Now()
		err = c.serve(ctx, l)
		if ctx.Err() != nil {
			break
		}
		c.disconnects.Add(1)
		if time.Since(began) >= stableSession {
			delay = 0
		}
		delay = nextBackoff(delay, c.backoffMin, c.backoffMax)
		c.log.Warn("XMPP connection lost", zap.Error(err), zap.Duration("retry_in", delay))
	}
	if c.closeCtx.Err() != nil {
		return nil
	}
	return parent.Err()
}

// serve runs one logged-in connection until it fails or ctx ends; on ctx end it leaves the
// rooms and closes the stream first.
func (c *Client) serve(ctx context.Context, l *login) error {
	s, err := newSession(c, l)
	if err != nil {
		l.conn.Close()
		return err
	}
	c.setSession(s)
	defer c.setSession(nil)
	s.log.Info("XMPP connected", zap.Bool("encrypted", l.encrypted), zap.String("sasl", l.mechanism))

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.fail(s.readLoop())
	}()
	go func() {
		defer wg.Done()
		s.timerLoop()
	}()
	s.joinAll()
	select {
	case <-s.done:
	case <-ctx.Done():
		s.leave()
	}
	s.fail(errSessionEnded)
	wg.Wait()
	return s.err
}

// SendPresenceNow re-publishes the stats presence in every joined room now, e.g. right after
// the shutdown state changed. It does nothing while disconnected.
func (c *Client) SendPresenceNow() {
	if s := c.session(); s != nil {
		s.sendPresences()
	}
}

// Status returns a snapshot of the connection state and counters.
func (c *Client) Status() Status {
	st := Status{
		MUCs:            len(c.cfg.MUCJIDs),
		Disconnects:     c.disconnects.Load(),
		ConnectFailures: c.connectFailures.Load(),
		IQsReceived:     c.iqsReceived.Load(),
		IQsRejected:     c.iqsRejected.Load(),
	}
	s := c.session()
	if s == nil || s.ended() {
		return st
	}
	st.Connected, st.JID, st.Encrypted, st.Mechanism = true, s.login.jid, s.login.encrypted, s.login.mechanism
	st.MUCsJoined = s.joinedCount()
	return st
}

// Close leaves the rooms (unavailable presence), closes the stream and waits until Run has
// returned and every goroutine of the client has ended. It may be called more than once, and
// before or without Run.
func (c *Client) Close() error {
	c.closeFn()
	if !c.running.Load() {
		return nil
	}
	t := time.NewTimer(c.closeWait + c.writeTimeout + time.Second)
	defer t.Stop()
	select {
	case <-c.runDone:
		return nil
	case <-t.C:
		return ErrCloseTimeout
	}
}

func (c *Client) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

func (c *Client) setSession(s *session) {
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
}

// newID returns a stanza id unique for this client.
func (c *Client) newID(kind string) string {
	return c.idPrefix + kind + "-" + strconv.FormatUint(c.idSeq.Add(1), 10)
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
