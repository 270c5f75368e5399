package sender

import (
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/selector"
)

// HistorySize is the number of packets kept per outgoing video SSRC for retransmission; JVB
// keeps 500 (media.md §2.6), rounded up here to a power of two for indexing by sequence number.
const HistorySize = 512

// histEntry is a packet as it was sent: the stored packet (a reference held) and the values
// the projection gave it, so a retransmission rewrites it exactly the same way.
type histEntry struct {
	b      *packet.Buf
	seq    uint16
	ts     uint32
	pic    uint16
	tl0    uint8
	marker bool
	vp8    bool
}

// history is a ring indexed by outgoing sequence number.
type history struct {
	e [HistorySize]histEntry
}

// put keeps b (taking over the caller's reference) as sent with decision d, releasing the
// packet it replaces.
func (h *history) put(b *packet.Buf, d *selector.Decision, vp8 bool) {
	slot := &h.e[d.Seq&(HistorySize-1)]
	if slot.b != nil {
		slot.b.Release()
	}
	*slot = histEntry{b: b, seq: d.Seq, ts: d.Timestamp, pic: d.PictureID, tl0: d.TL0PICIDX, marker: d.Marker, vp8: vp8}
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
