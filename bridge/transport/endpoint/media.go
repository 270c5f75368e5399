package endpoint

import (
	"net/netip"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/transport/srtp"
	"github.com/cityjitsi/videobridge/bridge/transport/udp"
	"github.com/pion/stun/v4"
)

// HandleDatagram implements udp.Handler. It runs on the socket reader goroutine: SRTP and
// SRTCP are decrypted in place in b and delivered to the Handler synchronously; STUN and DTLS
// are copied to the ICE agent's queue.
func (t *Transport) HandleDatagram(kind rtp.Kind, b []byte, from netip.AddrPort, now int64) {
	switch kind {
	case rtp.KindRTP:
		t.handleRTP(b, now)
	case rtp.KindRTCP:
		t.handleRTCP(b, now)
	case rtp.KindSTUN:
		t.handleSTUN(b, from, now)
	case rtp.KindDTLS:
		// The agent accepts non-STUN data only from its known remote candidates, so a record
		// from an address bound to us but not (yet) a candidate is dropped there.
		if !t.mux.Deliver(b, from) {
			t.stats.drops[DropControlQueue].Add(1)
		}
	}
}

func (t *Transport) handleRTP(b []byte, now int64) {
	rx := t.rx.Load()
	if rx == nil {
		t.stats.drops[DropNotReady].Add(1)
		return
	}
	out, err := rx.DecryptRTP(b[:0], b)
	if err != nil {
		t.stats.drops[dropOf(srtp.ReasonOf(err))].Add(1)
		return
	}
	t.lastActivity.Store(now)
	t.stats.rtpIn.Add(1)
	t.h.OnRTP(out)
}

func (t *Transport) handleRTCP(b []byte, now int64) {
	rx := t.rx.Load()
	if rx == nil {
		t.stats.drops[DropNotReady].Add(1)
		return
	}
	out, err := rx.DecryptRTCP(b[:0], b)
	if err != nil {
		t.stats.drops[dropOf(srtp.ReasonOf(err))].Add(1)
		return
	}
	t.lastActivity.Store(now)
	t.stats.rtcpIn.Add(1)
	t.h.OnRTCP(out)
}

func dropOf(r srtp.Reason) DropReason {
	switch r {
	case srtp.ReasonAuth:
		return DropAuth
	case srtp.ReasonReplay:
		return DropReplay
	}
	return DropMalformed
}

// handleSTUN passes a STUN message to the agent. The first message from an address this
// endpoint does not own yet arrived by ufrag alone (the ufrag is not secret), so it must pass
// MESSAGE-INTEGRITY with our password before the address is routed here; pion re-checks every
// message anyway. Consent checks and keepalives count as activity (pitfall 14: otherwise a
// muted endpoint is expired after a minute).
func (t *Transport) handleSTUN(b []byte, from netip.AddrPort, now int64) {
	if t.sock.Owner(from) != udp.Handler(t) {
		if !t.verifyRequest(b) {
			t.stats.drops[DropSTUNAuth].Add(1)
			return
		}
		t.bind(from, true)
	}
	t.lastActivity.Store(now)
	if !t.mux.Deliver(b, from) {
		t.stats.drops[DropControlQueue].Add(1)
	}
}

// verifyRequest checks a Binding request's short-term credential (RFC 8489 §9.1, RFC 8445
// §7.2.2): the key is our local password. It allocates, but runs once per new address.
func (t *Transport) verifyRequest(b []byte) bool {
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
		return false
	}
	return stun.NewShortTermIntegrity(t.local.Pwd).Check(m) == nil
}

// WriteRTP encrypts the RTP packet pkt into a pooled buffer and queues it to the selected
// remote address. It never blocks; it returns false when the packet was dropped (counted by
// reason). Only one goroutine per endpoint may call WriteRTP/WriteRTCP: it owns the outbound
// SRTP context. pkt is not modified and may be reused when WriteRTP returns.
func (t *Transport) WriteRTP(pkt []byte) bool {
	return t.write(nil, pkt, false)
}

// WriteRTCP is WriteRTP for a compound RTCP packet (rtcp-mux: same address and socket).
func (t *Transport) WriteRTCP(pkt []byte) bool {
	return t.write(nil, pkt, true)
}

// WriteRTPBatch is WriteRTP that adds the encrypted packet to b, a batch on this transport's
// socket owned by the calling goroutine, instead of queueing it to the socket's writer
// goroutine; it leaves when the caller flushes b.
func (t *Transport) WriteRTPBatch(b *udp.Batch, pkt []byte) bool {
	return t.write(b, pkt, false)
}

// WriteRTCPBatch is WriteRTPBatch for a compound RTCP packet.
func (t *Transport) WriteRTCPBatch(b *udp.Batch, pkt []byte) bool {
	return t.write(b, pkt, true)
}

// PrefetchSend adds to b the cache lines the next write reads, for an egress worker that
// writes to many transports in turn (at a large fan-out each one is cold by its turn). Each
// stage follows pointers that the previous one brought into the cache, so the caller issues
// them in order, some work apart: 0 the transport's media fields; 1 the SRTP context's head
// and the destination; 2 the cipher's state.
func (t *Transport) PrefetchSend(stage int, b *prefetch.Batch) {
	switch stage {
	case 0: // reads nothing of t, whose lines are not cached yet (&t.rx would load from t)
		b.Add(unsafe.Add(unsafe.Pointer(t), unsafe.Offsetof(t.rx)), unsafe.Offsetof(t.stats)+unsafe.Sizeof(t.stats)-unsafe.Offsetof(t.rx))
	case 1:
		if tx := t.tx.Load(); tx != nil {
			tx.PrefetchEncrypt(false, b)
		}
		if d := t.dst.Load(); d != nil {
			b.Add(unsafe.Pointer(d), unsafe.Sizeof(*d))
		}
	case 2:
		if tx := t.tx.Load(); tx != nil {
			tx.PrefetchEncrypt(true, b)
		}
	}
}

// write encrypts pkt and adds it to b, or queues it to the writer goroutine when b is nil.
func (t *Transport) write(b *udp.Batch, pkt []byte, isRTCP bool) bool {
	tx := t.tx.Load()
	if tx == nil {
		t.stats.drops[DropNotReady].Add(1)
		return false
	}
	dst := t.dst.Load()
	if dst == nil {
		t.stats.drops[DropNoDestination].Add(1)
		return false
	}
	rtpOver, rtcpOver := tx.Profile().Overhead()
	over := rtpOver
	if isRTCP {
		over = rtcpOver
	}
	if len(pkt)+over > udp.MTU {
		t.stats.drops[DropTooLarge].Add(1)
		return false
	}
	buf := udp.GetBuffer()
	var out []byte
	var err error
	if isRTCP {
		out, err = tx.EncryptRTCP(buf[:0], pkt)
	} else {
		out, err = tx.EncryptRTP(buf[:0], pkt)
	}
	if err != nil || len(out) == 0 || len(out) > udp.MTU || &out[0] != &buf[0] {
		udp.PutBuffer(buf, udp.MTU)
		t.stats.drops[DropEncrypt].Add(1)
		return false
	}
	if b != nil {
		if !b.Add(buf, len(out), *dst) {
			t.stats.drops[DropSendQueue].Add(1)
			return false
		}
	} else if !t.sock.Enqueue(buf, len(out), *dst) {
		t.stats.drops[DropSendQueue].Add(1)
		return false
	}
	if isRTCP {
		t.stats.rtcpOut.Add(1)
	} else {
		t.stats.rtpOut.Add(1)
	}
	return true
}

// LastActivity returns the Unix time in nanoseconds of the last authenticated media packet or
// STUN message from the remote (0: none yet), for the control plane's liveness checks.
func (t *Transport) LastActivity() int64 { return t.lastActivity.Load() }

// Stats returns a snapshot of the endpoint's counters.
func (t *Transport) Stats() Stats { return t.stats.snapshot() }

// Selected returns the remote address of the selected ICE pair (invalid before selection).
func (t *Transport) Selected() netip.AddrPort {
	if d := t.dst.Load(); d != nil {
		return *d
	}
	return netip.AddrPort{}
}

// SRTPProfile returns the negotiated SRTP protection profile (0 before DTLS finished).
func (t *Transport) SRTPProfile() srtp.Profile {
	if rx := t.rx.Load(); rx != nil {
		return rx.Profile()
	}
	return 0
}
