package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/coder/websocket"
	"github.com/pion/datachannel"
	"github.com/pion/sctp"
	"go.uber.org/zap"
)

// The SCTP data channel (media.md §1.1, RFC 8831/8832).
const (
	// SCTPPort is the SCTP port on both sides (colibri2 <sctp port="5000" role="server"/>);
	// pion/sctp always uses 5000.
	SCTPPort = 5000
	// DataChannelLabel and DataChannelProtocol are what lib-jitsi-meet opens. A channel with
	// other values is accepted too (and logged): JVB does not check them.
	DataChannelLabel    = "JVB data channel"
	DataChannelProtocol = "http://jitsi.org/protocols/colibri"

	// sctpMaxMessageSize is the a=max-message-size lib-jitsi-meet puts in the SDP.
	sctpMaxMessageSize = 262144
	// maxSCTPRead bounds the read buffer. A message cannot be skipped without reading it, so
	// a client sending more than this (four times what it advertised) loses its association.
	maxSCTPRead = 1 << 20
	// dcMaxBuffered bounds the data channel's send buffer: a client that stops reading gets
	// its messages dropped and counted rather than buffered without limit.
	dcMaxBuffered = 1 << 20
	// maxExtraStreams bounds the streams of ignored DCEP OPENs that are drained (their data
	// would otherwise fill the association's receive window); further ones are reset.
	maxExtraStreams = 8
	// maxAssociations bounds how often a client may start a new association on one DTLS
	// connection after the previous one ended (ABORT, SHUTDOWN).
	maxAssociations = 16
)

// ErrTooManyAssociations ends ServeSCTP after maxAssociations associations.
var ErrTooManyAssociations = errors.New("channel: too many SCTP associations")

// ServeSCTP runs the bridge's side of the SCTP association over conn, the endpoint's
// established DTLS connection (endpoint.Transport.DTLSConn), and attaches the data channel the
// client opens. The bridge is the SCTP server: the client sends INIT; the client also opens
// the channel with a DCEP OPEN, answered with an ACK. One channel at a time: a second OPEN
// gets no ACK and its messages are ignored (videobridge.sctp.max-channels = 1).
//
// Run it on its own goroutine as soon as DTLS is connected: it is conn's only reader, and
// pion's DTLS connection stalls until its application data is read. It never closes conn (a
// DTLS close_notify would end the client's PeerConnection). It returns nil when the channel
// closes, or the error that ended conn.
func (c *Channel) ServeSCTP(conn net.Conn) error {
	lf := ice.LoggerFactory(c.log)
	for range maxAssociations {
		if c.ctx.Err() != nil {
			return nil
		}
		_ = conn.SetDeadline(time.Time{}) // a previous association may have left deadlines
		ac := &assocConn{Conn: conn}
		stop := context.AfterFunc(c.ctx, ac.stop)
		a, err := sctp.ServerWithOptions(sctp.WithNetConn(ac), sctp.WithLoggerFactory(lf),
			sctp.WithName(c.id), sctp.WithMaxMessageSize(sctpMaxMessageSize))
		if err == nil {
			c.serveAssociation(a)
			_ = a.Close()
		}
		stop()
		switch {
		case c.ctx.Err() != nil:
			return nil
		case ac.failure() != nil:
			return fmt.Errorf("channel: SCTP transport: %w", ac.failure())
		case err != nil:
			ac.stop()
			return fmt.Errorf("channel: SCTP association: %w", err)
		}
		c.log.Debug("SCTP association ended; accepting a new one")
	}
	return ErrTooManyAssociations
}

// serveAssociation accepts the association's streams until it ends.
func (c *Channel) serveAssociation(a *sctp.Association) {
	var readers sync.WaitGroup
	defer readers.Wait()
	var open atomic.Bool
	extra := 0
	for {
		s, err := a.AcceptStream()
		if err != nil {
			return // the association ended
		}
		if open.Load() {
			c.stats.extraDataChannels.Add(1)
			c.log.Debug("second data channel ignored", zap.Uint16("stream", s.StreamIdentifier()))
			if extra++; extra > maxExtraStreams {
				_ = s.Close()
				continue
			}
			readers.Add(1)
			go func() { defer readers.Done(); drain(s) }()
			continue
		}
		// Reads the DCEP OPEN and answers with the ACK.
		dc, err := datachannel.Server(s, &datachannel.Config{LoggerFactory: ice.LoggerFactory(c.log)})
		if err != nil {
			c.stats.malformed.Add(1)
			c.log.Debug("data channel not opened", zap.Error(err))
			_ = s.Close()
			continue
		}
		if dc.Config.Label != DataChannelLabel || dc.Config.Protocol != DataChannelProtocol {
			c.log.Debug("unexpected data channel accepted", zap.String("label", dc.Config.Label),
				zap.String("protocol", dc.Config.Protocol))
		}
		open.Store(true)
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer open.Store(false)
			c.readDataChannel(a, dc)
		}()
	}
}

// readDataChannel attaches dc to the channel and reads it until it ends. Text messages (PPID
// 51) are processed; binary ones (PPID 53) are counted and ignored, as JVB does.
func (c *Channel) readDataChannel(a *sctp.Association, dc *datachannel.DataChannel) {
	l := &dcLink{dc: dc}
	if !c.attach(l, false, nil) {
		_ = dc.Close()
		return
	}
	defer c.detach(l)
	c.connected()
	c.log.Info("data channel opened", zap.Uint16("stream", dc.StreamIdentifier()))
	buf := make([]byte, 16<<10)
	for {
		n, text, err := dc.ReadDataChannel(buf)
		if errors.Is(err, io.ErrShortBuffer) {
			if len(buf) >= maxSCTPRead {
				c.stats.malformed.Add(1)
				c.log.Info("oversized data channel message; aborting the SCTP association")
				a.Abort("message too large")
				return
			}
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err != nil {
			return
		}
		if !text {
			c.stats.binary.Add(1)
			continue
		}
		c.receive(l, bytes.Clone(buf[:n]))
	}
}

// drain reads and discards a stream until it ends.
func drain(s *sctp.Stream) {
	buf := make([]byte, 4096)
	for {
		_, _, err := s.ReadSCTP(buf)
		switch {
		case errors.Is(err, io.ErrShortBuffer):
			if len(buf) >= maxSCTPRead {
				_ = s.Close()
				return
			}
			buf = make([]byte, 2*len(buf))
		case err != nil:
			return
		}
	}
}

// dcLink is the endpoint's data channel.
type dcLink struct{ dc *datachannel.DataChannel }

func (l *dcLink) send(b []byte) error {
	if l.dc.BufferedAmount() > dcMaxBuffered {
		return errBackpressure
	}
	_, err := l.dc.WriteDataChannel(b, true) // PPID 51, WebRTC string
	return err
}

func (l *dcLink) close(websocket.StatusCode, string) { _ = l.dc.Close() }

// assocConn is the DTLS connection as one SCTP association sees it. Closing it only stops
// the association's reads: the endpoint's transport owns the DTLS connection.
type assocConn struct {
	net.Conn
	mu      sync.Mutex
	stopped bool
	err     error // the first read error not caused by stop
}

func (a *assocConn) Read(b []byte) (int, error) {
	n, err := a.Conn.Read(b)
	if err != nil {
		a.mu.Lock()
		if !a.stopped && a.err == nil {
			a.err = err
		}
		a.mu.Unlock()
	}
	return n, err
}

func (a *assocConn) Close() error {
	a.stop()
	return nil
}

// stop unblocks the association's pending read with a past deadline.
func (a *assocConn) stop() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	_ = a.Conn.SetReadDeadline(time.Now())
}

func (a *assocConn) failure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
