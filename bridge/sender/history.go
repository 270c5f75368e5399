package sender

import (
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/selector"
)

// HistorySize is the number of packets kept per outgoing video SSRC for retransmission; JVB
// keeps 500 (media.md §2.6), rounded up here to a power of two for indexing by sequence number.
const HistorySize = 512

// HistoryIdle is how long an SSRC's history is kept after its last packet: JVB drops a
// packet cache after 15 s without access (media.md §2.6), so a source no longer forwarded to
// the receiver (suspended, off stage) does not hold 500 packet buffers.
const HistoryIdle int64 = 15e9

// histEntry is a packet as it was sent: the stored packet (a reference held) and the values
// the projection gave it, so a retransmission rewrites it exactly the same way. 24 bytes.
type histEntry struct {
	b  *packet.Buf
	ts uint32
	// sent is when the packet was last (re)sent, in ms of the plane's clock modulo 2^32.
	sent   uint32
	seq    uint16
	pic    uint16
	tl0    uint8
	marker bool
	vp8    bool
}

// msTime is clock ns as histEntry.sent keeps it.
func msTime(now int64) uint32 { return uint32(now / 1e6) }

// since is the time from a histEntry.sent to now, in ns; 0 if sent is later than now (a
// caller's older clock reading must not look like 49 days).
func since(sent uint32, now int64) int64 { return max(int64(int32(msTime(now)-sent)), 0) * 1e6 }

// history is a ring indexed by outgoing sequence number.
type history struct {
	e [HistorySize]histEntry
}

// put keeps b (taking over the caller's reference) as sent with decision d, releasing the
// packet it replaces.
func (h *history) put(b *packet.Buf, d *selector.Decision, vp8 bool, now int64) {
	slot := &h.e[d.Seq&(HistorySize-1)]
	if slot.b != nil {
		slot.b.Release()
	}
	*slot = histEntry{b: b, seq: d.Seq, ts: d.Timestamp, sent: msTime(now), pic: d.PictureID, tl0: d.TL0PICIDX,
		marker: d.Marker, vp8: vp8}
}

// get returns the packet sent with sequence number seq, or nil.
func (h *history) get(seq uint16) *histEntry {
	slot := &h.e[seq&(HistorySize-1)]
	if slot.b == nil || slot.seq != seq {
		return nil
	}
	return slot
}

// clear releases every packet held.
func (h *history) clear() {
	for i := range h.e {
		if h.e[i].b != nil {
			h.e[i].b.Release()
		}
		h.e[i] = histEntry{}
	}
}
