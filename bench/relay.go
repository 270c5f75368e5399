package bench

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// relayDialTimeout bounds the relay's connection to its target.
const relayDialTimeout = 5 * time.Second

// tcpRelay accepts TCP connections on one address and splices each to a target address. The
// veth network needs it because the harness's Prosody (xmpp/xmpptest) listens on 127.0.0.1
// only, which the bridge's namespace cannot reach; XMPP signalling is light, so the extra hop
// costs the measurement nothing.
type tcpRelay struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// startTCPRelay listens on listen (port 0: any) and relays to target (host:port).
func startTCPRelay(listen netip.AddrPort, target string) (*tcpRelay, error) {
	ln, err := net.Listen("tcp", listen.String())
	if err != nil {
		return nil, fmt.Errorf("bench: relay listen %s: %w", listen, err)
	}
	r := &tcpRelay{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is the listening address.
func (r *tcpRelay) Addr() netip.AddrPort {
	return r.ln.Addr().(*net.TCPAddr).AddrPort()
}

func (r *tcpRelay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		if !r.track(c) {
			c.Close()
			return
		}
		r.wg.Add(1)
		go r.splice(c)
	}
}

// track registers a connection for Close; false when the relay is closed.
func (r *tcpRelay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *tcpRelay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

// splice copies both ways until either side closes, then closes both.
func (r *tcpRelay) splice(in net.Conn) {
	defer r.wg.Done()
	defer r.untrack(in)
	out, err := net.DialTimeout("tcp", r.target, relayDialTimeout)
	if err != nil {
		return
	}
	if !r.track(out) {
		out.Close()
		return
	}
	defer r.untrack(out)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go cp(out, in)
	go cp(in, out)
	<-done // one direction ended: end the other, as a direct connection would
	in.Close()
	out.Close()
	<-done
}

// Close stops accepting, closes every relayed connection and waits for the copies to end.
func (r *tcpRelay) Close() {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.ln.Close()
	r.wg.Wait()
}
