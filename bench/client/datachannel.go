package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/sctp"

	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

// The bridge channel as lib-jitsi-meet opens it over SCTP (media.md §1.1, RFC 8831/8832):
// the client is the SCTP client (colibri2 answers <sctp role="server"/>) and opens one
// reliable data channel with this label and protocol. As DTLS client it uses an even stream.
const (
	dataChannelLabel    = "JVB data channel"
	dataChannelProtocol = "http://jitsi.org/protocols/colibri"
	dataChannelStream   = 0
	maxBridgeMessage    = 1 << 16
)

// ErrNoDataChannel means the data channel is not open.
var ErrNoDataChannel = errors.New("client: no data channel")

// bridgeChannel is an open SCTP data channel.
type bridgeChannel struct {
	assoc *sctp.Association
	dc    *datachannel.DataChannel
	wmu   sync.Mutex
	recv  atomic.Uint64
	done  chan struct{}
}

// OpenDataChannel starts SCTP over the DTLS connection and opens the bridge channel, waiting
// for the bridge's DCEP ACK. It returns how long that took. Call it after Connect, at most
// once; ctx bounds the whole exchange.
func (c *Client) OpenDataChannel(ctx context.Context) (time.Duration, error) {
	if c.dtlsConn == nil {
		return 0, ErrNoMedia
	}
	t0 := time.Now()
	lf := ice.LoggerFactory(c.log)
	// pion closes the association's conn when the association ends (also when ctx gives up on
	// a bridge that does not answer SCTP); closing the DTLS connection would close the ICE
	// agent too and the bridge would soon see ICE fail. The wrapper only stops the reads.
	assoc, err := sctp.ClientContext(ctx, sctp.WithNetConn(&sctpConn{Conn: c.dtlsConn}), sctp.WithLoggerFactory(lf),
		sctp.WithName(c.local.Ufrag))
	if err != nil {
		return 0, fmt.Errorf("client: SCTP association: %w", err)
	}
	dc, err := datachannel.Dial(assoc, dataChannelStream, &datachannel.Config{
		ChannelType: datachannel.ChannelTypeReliable, Label: dataChannelLabel, Protocol: dataChannelProtocol,
		LoggerFactory: lf})
	if err != nil {
		assoc.Abort("data channel refused")
		return 0, fmt.Errorf("client: data channel: %w", err)
	}
	opened := make(chan struct{})
	var once sync.Once
	dc.OnOpen(func() { once.Do(func() { close(opened) }) })
	bc := &bridgeChannel{assoc: assoc, dc: dc, done: make(chan struct{})}
	go bc.read()
	select {
	case <-opened:
	case <-bc.done:
		bc.close()
		return 0, fmt.Errorf("client: data channel closed before the bridge acknowledged it")
	case <-ctx.Done():
		bc.close()
		return 0, fmt.Errorf("client: data channel not acknowledged: %w", ctx.Err())
	}
	c.mu.Lock()
	c.channel = bc
	c.mu.Unlock()
	return time.Since(t0), nil
}

// read drains what the bridge sends (ForwardedSources, speaker events, ...), which also
// processes the DCEP ACK; it counts the messages.
func (bc *bridgeChannel) read() {
	defer close(bc.done)
	buf := make([]byte, maxBridgeMessage)
	for {
		if _, _, err := bc.dc.ReadDataChannel(buf); err != nil {
			return
		}
		bc.recv.Add(1)
	}
}

func (bc *bridgeChannel) close() {
	_ = bc.dc.Close()
	_ = bc.assoc.Close()
	select {
	case <-bc.done:
	case <-time.After(2 * time.Second):
	}
}

// SendMessage sends one bridge-channel JSON message on the data channel.
func (c *Client) SendMessage(msg []byte) error {
	c.mu.Lock()
	bc := c.channel
	c.mu.Unlock()
	if bc == nil {
		return ErrNoDataChannel
	}
	bc.wmu.Lock()
	defer bc.wmu.Unlock()
	if _, err := bc.dc.WriteDataChannel(msg, true); err != nil {
		return fmt.Errorf("client: data channel write: %w", err)
	}
	return nil
}

// ChannelMessages is the number of bridge-channel messages received.
func (c *Client) ChannelMessages() uint64 {
	c.mu.Lock()
	bc := c.channel
	c.mu.Unlock()
	if bc == nil {
		return 0
	}
	return bc.recv.Load()
}

// sctpConn is the DTLS connection as the SCTP association sees it: Close unblocks and ends the
// association's reads (a read deadline in the past) but leaves the DTLS connection, and with
// it ICE and SRTP, running.
type sctpConn struct {
	net.Conn
}

func (s *sctpConn) Close() error {
	return s.Conn.SetReadDeadline(time.Now())
}
