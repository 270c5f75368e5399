package media

import (
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/receiver"
	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// OnRTCP implements endpoint.Handler: one decrypted compound RTCP packet from this endpoint,
// on the socket reader goroutine. The bridge terminates RR, SDES, BYE, APP, XR, transport-cc
// and REMB; it acts on NACK (retransmission from this receiver's history), PLI/FIR (routed to
// the source's owner, throttled) and SR (translated for each receiver) (media.md §2.7).
func (e *Endpoint) OnRTCP(b []byte) {
	now := e.p.now()
	e.cin.rtcp.Add(1)
	v := e.view.Load()
	if v == nil {
		e.cin.drops[DropNotConfigured].Add(1)
		return
	}
	it := rtp.NewRTCPIter(b)
	for h, pkt, ok := it.Next(); ok; h, pkt, ok = it.Next() {
		switch {
		case h.Type == rtp.TypeSR:
			e.onSR(v, pkt, now)
		case h.Type == rtp.TypeRR:
			if rr, r := rtp.ParseRR(pkt); r == rtp.DropNone {
				e.onReports(rr.Reports, now)
			}
		case h.Type == rtp.TypeRTPFB && h.Count == rtp.FmtNACK:
			e.onNACK(pkt)
		case h.Type == rtp.TypePSFB && h.Count == rtp.FmtPLI:
			if pli, r := rtp.ParsePLI(pkt); r == rtp.DropNone {
				e.pushOwn(item{kind: itemKeyframe, ssrc: pli.MediaSSRC})
			}
		case h.Type == rtp.TypePSFB && h.Count == rtp.FmtFIR:
			if fir, r := rtp.ParseFIR(pkt); r == rtp.DropNone {
				for i := range fir.Len() {
					e.pushOwn(item{kind: itemKeyframe, ssrc: fir.Entry(i).SSRC})
				}
			}
		}
	}
	if it.Reason() != rtp.DropNone {
		e.cin.drops[DropMalformed].Add(1)
	}
}

// onSR records a sender report of one of this endpoint's sources (for the LSR of the bridge's
// receiver reports) and hands it to every subscriber's egress for translation.
func (e *Endpoint) onSR(v *view, pkt []byte, now int64) {
	sr, r := rtp.ParseSR(pkt)
	if r != rtp.DropNone {
		return
	}
	e.onReports(sr.Reports, now)
	snap := v.snap
	rt, ok := snap.routes.Lookup(sr.SSRC)
	if !ok || rt.RTX {
		return
	}
	sv := &snap.srcs[rt.Source]
	if sv.owner != e {
		return
	}
	if s := e.in.streams[sv.rs.SSRCs[rt.Encoding]]; s != nil {
		s.rs.ReceiveSR(sr.NTPTime, now)
	}
	for _, i := range sv.rs.Subscribers {
		if dst := snap.eps[i]; dst != nil && !dst.closed.Load() {
			if !dst.push(item{kind: itemSR, src: sv, enc: rt.Encoding, si: sr.SenderInfo}) {
				dst.cin.drops[DropRTCPQueueFull].Add(1)
			}
		}
	}
}

// onReports takes this endpoint's RTT from the first of its reception reports that names an
// SR the bridge sent it (media.md §2.6 uses the RTT; JVB reports the latest sample).
func (e *Endpoint) onReports(blocks rtp.ReportBlocks, now int64) {
	for i := range blocks.Len() {
		b := blocks.At(i)
		if rtt, ok := e.reports.RoundTrip(&b, now); ok {
			e.rtt.Store(max(rtt, 1)) // 0 means unknown
			return
		}
	}
}

// onNACK queues each PID/BLP pair for this endpoint's egress, which owns the history.
func (e *Endpoint) onNACK(pkt []byte) {
	n, r := rtp.ParseNACK(pkt)
	if r != rtp.DropNone {
		return
	}
	for i := range n.Len() {
		pid, blp := n.Pair(i)
		e.pushOwn(item{kind: itemNACK, ssrc: n.MediaSSRC, pid: pid, blp: blp})
	}
}

// pushOwn queues a control item for this endpoint's own egress.
func (e *Endpoint) pushOwn(it item) {
	if !e.push(it) {
		e.cin.drops[DropRTCPQueueFull].Add(1)
	}
}

// pushRTCP queues RTCP that ingress generated for this endpoint (its egress writes it: one
// writer per endpoint owns the SRTP context).
func (e *Endpoint) pushRTCP(b []byte) {
	buf := packet.Get()
	if !buf.SetBytes(b) {
		buf.Release()
		return
	}
	if !e.push(item{kind: itemRTCP, buf: buf}) {
		buf.Release()
		e.cin.drops[DropRTCPQueueFull].Add(1)
	}
}

// nackUpstream asks the sender for the packets of is that are missing and due (media.md
// §2.6: at once, then every 150 ms, up to 10 times).
func (e *Endpoint) nackUpstream(is *inStream, fbSSRC uint32, now int64) {
	if due, ok := is.nack.NextDue(); !ok || now < due {
		return
	}
	lost := is.nack.Due(now, e.in.lost[:0])
	if len(lost) > 0 {
		e.pushRTCP(rtp.AppendNACK(e.in.scratch[:0], fbSSRC, is.rs.SSRC(), lost))
	}
}

// upstreamRTCP sends what the bridge owes this endpoint as a sender: receiver reports every
// 500 ms and transport-cc feedback on bwe's timing. It runs after each packet from the
// endpoint; with no packets arriving, nothing is owed.
func (e *Endpoint) upstreamRTCP(snap *snapshot, now int64) {
	if len(e.in.list) > 0 && now-e.in.lastRR >= receiver.RRInterval {
		e.in.lastRR = now
		if out := receiver.AppendRR(e.in.scratch[:0], snap.fbSSRC, now, e.in.list...); len(out) > 0 {
			e.pushRTCP(out)
		}
	}
	if e.in.twccOn && e.in.twcc.Due(now) {
		out := e.in.twcc.Append(e.in.scratch[:0], snap.fbSSRC, e.in.twccFor, now)
		// One datagram per feedback packet: a long history can make two.
		it := rtp.NewRTCPIter(out)
		for _, pkt, ok := it.Next(); ok; _, pkt, ok = it.Next() {
			e.pushRTCP(pkt)
		}
	}
}
