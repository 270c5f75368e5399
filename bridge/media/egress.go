package media

import (
	"slices"

	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/receiver"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/selector"
	"github.com/cityjitsi/videobridge/bridge/sender"
)

// itemKind says what an egress queue item carries.
type itemKind uint8

const (
	itemRTCP     itemKind = iota + 1 // RTCP ingress generated for this endpoint (buf)
	itemNACK                         // this receiver's NACK pair (ssrc, pid, blp)
	itemKeyframe                     // this receiver asks for a keyframe of ssrc (its PLI/FIR)
	itemPLI                          // ask this endpoint, a source owner, for a keyframe of ssrc
	itemSR                           // a source's SR to translate for this receiver (src, enc, si)
	itemRefresh                      // a new snapshot: wake up and apply it (releases senders of gone sources)
	itemSweep                        // release the RTX histories idle for sender.HistoryIdle
)

// item is one egress queue entry, passed by value (no allocation). Media does not pass
// through these queues: it reaches the endpoint's worker once per packet (worker.fan).
type item struct {
	kind     itemKind
	enc      int8
	fir      bool
	pid, blp uint16
	ssrc     uint32
	buf      *packet.Buf
	src      *srcView
	si       rtp.SenderInfo
}

const (
	// targetRefresh is how often a sender's target layer is recomputed from the source's
	// arriving layers (constraint changes apply at once).
	targetRefresh int64 = 200e6
	// popBatch bounds the items handled per clock read.
	popBatch = 64
)

// egress is the send state of one endpoint, owned by its egress worker.
type egress struct {
	snap *snapshot // the snapshot rx and the senders were last updated from
	// bySrc is senders by source index of snap (nil where none yet): the per-packet lookup,
	// a slice index instead of a map probe on state that is cold at a large fan-out.
	bySrc []*egSender
	// bySrcInline backs bySrc in conferences of up to 8 sources: in the endpoint's hot
	// lines, not a separate cold allocation.
	bySrcInline [8]*egSender
	rx          sender.Receiver
	senders     map[*sourceState]*egSender
	// fwdDirty: a sender's forwarded flag changed since the set was last published.
	fwdDirty bool
	firSeq   uint8
	rtcp     [256]byte
}

// egSender is one source as sent to this endpoint.
type egSender struct {
	s        *sender.Sender
	sv       *srcView
	gen      uint64 // snapshot generation that last listed the source
	targetAt int64
	consGen  uint64
	hasTgt   bool
	// forwarded: the target layer is not suspended (the source is in ForwardedSources).
	forwarded bool
}

func (o *egress) init() { o.senders = map[*sourceState]*egSender{} }

func (o *egress) close() {
	for k, es := range o.senders {
		es.s.Close()
		delete(o.senders, k)
	}
	// bySrc is left as it is: the worker's fan-out hints (hint.go) may still read it for a
	// closing endpoint, without its lock, and Close must not write what they read. The
	// senders hold no packets any more, and the endpoint is garbage once unlisted.
}

// drainBatch applies a new snapshot if there is one and handles up to popBatch items at now;
// it returns how many it handled.
func (e *Endpoint) drainBatch(now int64) int {
	e.refresh()
	n := 0
	for ; n < popBatch; n++ {
		it, ok := e.q.Pop()
		if !ok {
			break
		}
		e.handle(&it, now)
	}
	e.publishForwarded()
	return n
}

func (e *Endpoint) handle(it *item, now int64) {
	switch it.kind {
	case itemRTCP:
		e.writeRTCP(it.buf.Bytes())
		it.buf.Release()
	case itemNACK:
		e.retransmit(it, now)
	case itemKeyframe:
		e.receiverKeyframe(it.ssrc, now)
	case itemPLI:
		e.sendKeyframeRequest(it.ssrc, it.fir)
	case itemSR:
		e.forwardSR(it, now)
	case itemSweep:
		e.sweepHistories(now)
	}
}

// sweepHistories releases the RTX histories of the sources this receiver has not been sent
// anything of for sender.HistoryIdle.
func (e *Endpoint) sweepHistories(now int64) {
	for _, es := range e.out.senders {
		if es.s.ExpireHistory(now) {
			e.cout.historiesExpired.Add(1)
		}
	}
}

// refresh applies a new snapshot: this receiver's negotiated extensions and RTX types, the
// senders' SSRCs, and the release of senders whose source is gone.
func (e *Endpoint) refresh() {
	v := e.view.Load()
	if v == nil || v.snap == e.out.snap {
		return
	}
	s := v.snap
	me := &s.routes.Endpoints[v.idx]
	e.out.rx.Ext, e.out.rx.RTXFor = me.Ext, me.RTXFor
	for i := range s.srcs {
		sv := &s.srcs[i]
		if es := e.out.senders[sv.st]; es != nil {
			es.sv, es.gen = sv, s.gen
			es.s.SetSSRCs(sv.rs.SSRCs[0], sv.rs.RTX[0])
		}
	}
	for k, es := range e.out.senders {
		if es.gen != s.gen {
			e.out.setForwarded(es, false)
			es.s.Close()
			delete(e.out.senders, k)
		}
	}
	if n := len(s.srcs); n <= len(e.out.bySrcInline) {
		e.out.bySrc = e.out.bySrcInline[:n]
	} else {
		e.out.bySrc = slices.Grow(e.out.bySrc[:0], n)[:n]
	}
	for i := range s.srcs {
		e.out.bySrc[i] = e.out.senders[s.srcs[i].st]
	}
	e.out.snap = s
}

// senderFor returns the sender of sv's source, creating it on the source's first packet.
func (e *Endpoint) senderFor(sv *srcView) *egSender {
	cur := e.out.snap != nil && sv.idx < len(e.out.bySrc) && &e.out.snap.srcs[sv.idx] == sv
	if cur && e.out.bySrc[sv.idx] != nil {
		return e.out.bySrc[sv.idx]
	}
	es := e.out.senders[sv.st]
	if es == nil {
		video := sv.rs.Kind == router.KindVideo
		out := sv.rs.SSRCs[0] // classic mode: every encoding goes out on the first SIM SSRC
		es = &egSender{s: sender.New(video, out, sv.rs.RTX[0]), sv: sv}
		if e.out.snap != nil {
			es.gen = e.out.snap.gen
		}
		e.out.senders[sv.st] = es
	}
	if cur {
		e.out.bySrc[sv.idx] = es
	}
	return es
}

// forward sends the packet of it to this endpoint, taking over the caller's reference to
// its buf.
func (e *Endpoint) forward(it *fanItem, now int64) {
	sv := it.src
	es := e.senderFor(sv)
	if sv.rs.Kind == router.KindVideo {
		e.updateTarget(es, sv, now)
	}
	in := sender.Input{Codec: it.codec, SrcExt: sv.ext, PadTo: int(it.padTo)}
	out, r, kf := es.s.Forward(it.buf, &in, &e.out.rx, now)
	if kf {
		e.requestKeyframe(es, sv, es.s.Target().Encoding, now)
	}
	if r != sender.DropNone {
		e.cout.drops[r].Add(1)
		return
	}
	e.writeRTP(out)
}

// updateTarget recomputes the layer this receiver gets of a video source: the highest
// arriving encoding within its maxHeight constraint (selector.TargetEncoding; until the
// allocator exists, media.md §3.4), with heights 180/360/720 by SIM order until keyframes
// tell the real ones (media.md §2.4).
func (e *Endpoint) updateTarget(es *egSender, sv *srcView, now int64) {
	gen := e.consGen.Load()
	if es.hasTgt && es.consGen == gen && now-es.targetAt < targetRefresh {
		return
	}
	es.hasTgt, es.consGen, es.targetAt = true, gen, now
	maxHeight := e.cons.Load().maxHeight(sv.rs.Name)
	n := min(len(sv.rs.SSRCs), receiver.MaxEncodings)
	var heights [receiver.MaxEncodings]int
	var active [receiver.MaxEncodings]bool
	for i := range n {
		heights[i] = 180 << i
	}
	sv.st.layers.Fill(now, heights[:n], active[:n])
	target := selector.TargetLayer(maxHeight, heights[:n], active[:n])
	es.s.SetTarget(target)
	e.out.setForwarded(es, !target.IsSuspended())
}

// requestKeyframe asks the source's owner for a keyframe of encoding enc, within the limits
// per receiver and source (≥ 200 ms apart, ≤ 3 per 10 s) and per source (≤ 1 per 200 ms).
func (e *Endpoint) requestKeyframe(es *egSender, sv *srcView, enc int8, now int64) {
	owner := sv.owner
	if owner == nil || owner.closed.Load() {
		return
	}
	if !es.s.RequestKeyframe(now, &sv.st.kf) {
		e.cout.keyframesThrottled.Add(1)
		return
	}
	ssrc := sv.rs.SSRCs[0]
	if enc > 0 && int(enc) < len(sv.rs.SSRCs) {
		ssrc = sv.rs.SSRCs[enc]
	}
	sv.askOwner(ssrc)
}

// askOwner queues a keyframe request for ssrc, one of sv's SSRCs, at sv's owner: PLI, or
// FIR where it signaled no PLI. The limits are the caller's; a full queue is counted at the
// owner. It reports whether the request was queued.
func (sv *srcView) askOwner(ssrc uint32) bool {
	if !sv.owner.push(item{kind: itemPLI, ssrc: ssrc, fir: !sv.pli}) {
		sv.owner.cin.drops[DropRTCPQueueFull].Add(1)
		return false
	}
	return true
}

// receiverKeyframe handles this receiver's PLI or FIR for ssrc (the SSRC it is sent, or any
// SSRC of the source): the request goes to the owner for the encoding being sent to it.
func (e *Endpoint) receiverKeyframe(ssrc uint32, now int64) {
	es := e.senderBySSRC(ssrc)
	if es == nil {
		e.cout.unknownFeedbackSSRC.Add(1)
		return
	}
	enc := es.s.Current()
	if enc < 0 {
		enc = es.s.Target().Encoding
	}
	e.requestKeyframe(es, es.sv, enc, now)
}

// senderBySSRC finds the sender of the source that ssrc (a primary or RTX SSRC) belongs to.
func (e *Endpoint) senderBySSRC(ssrc uint32) *egSender {
	s := e.out.snap
	if s == nil {
		return nil
	}
	rt, ok := s.routes.Lookup(ssrc)
	if !ok {
		return nil
	}
	return e.out.senders[s.srcs[rt.Source].st]
}

// sendKeyframeRequest writes a PLI (or FIR to an endpoint without PLI support) for ssrc, one
// of this endpoint's own sources.
func (e *Endpoint) sendKeyframeRequest(ssrc uint32, fir bool) {
	var fb uint32
	if e.out.snap != nil {
		fb = e.out.snap.fbSSRC
	}
	var b []byte
	if fir {
		e.out.firSeq++
		b = rtp.AppendFIR(e.out.rtcp[:0], fb, ssrc, e.out.firSeq)
	} else {
		b = rtp.AppendPLI(e.out.rtcp[:0], fb, ssrc)
	}
	if e.writeRTCP(b) {
		e.cout.keyframeRequests.Add(1)
	}
}

// retransmit answers one NACK pair from this receiver from the senders' RTX histories.
func (e *Endpoint) retransmit(it *item, now int64) {
	es := e.senderBySSRC(it.ssrc)
	if es == nil || es.s.SSRC() != it.ssrc {
		e.cout.unknownFeedbackSSRC.Add(1)
		return
	}
	in := sender.Input{SrcExt: es.sv.ext}
	e.out.rx.RTT = e.rtt.Load()
	for i := -1; i < 16; i++ {
		if i >= 0 && it.blp&(1<<i) == 0 {
			continue
		}
		seq := it.pid + uint16(i+1)
		out, r := es.s.Retransmit(seq, &in, &e.out.rx, now)
		if r != sender.DropNone {
			e.cout.drops[r].Add(1)
			continue
		}
		if e.writeRTP(out) {
			e.cout.retransmissions.Add(1)
		}
	}
}

// forwardSR sends a source's SR translated for this receiver, if it has been sent anything,
// and notes it for the receiver's RTT.
func (e *Endpoint) forwardSR(it *item, now int64) {
	es := e.out.senders[it.src.st]
	if es == nil {
		return
	}
	si, ok := es.s.TranslateSR(it.enc, it.si)
	if !ok {
		return
	}
	if e.writeRTCP(rtp.AppendSR(e.out.rtcp[:0], si)) {
		e.cout.srForwarded.Add(1)
		e.reports.Sent(si.NTPTime, now)
	}
}

// writeRTP and writeRTCP run on e's worker only: the worker's batch has a single owner.
func (e *Endpoint) writeRTP(b []byte) bool {
	var ok bool
	if e.btr != nil {
		ok = e.btr.WriteRTPBatch(e.w.batch, b)
	} else {
		ok = e.tr.WriteRTP(b)
	}
	if !ok {
		e.cout.writeFailed.Add(1)
		return false
	}
	e.cout.rtp.Add(1)
	e.cout.bytes.Add(uint64(len(b)))
	return true
}

func (e *Endpoint) writeRTCP(b []byte) bool {
	var ok bool
	if e.btr != nil {
		ok = e.btr.WriteRTCPBatch(e.w.batch, b)
	} else {
		ok = e.tr.WriteRTCP(b)
	}
	if !ok {
		e.cout.writeFailed.Add(1)
		return false
	}
	e.cout.rtcp.Add(1)
	return true
}
