package rtp

import (
	"encoding/binary"
	"time"
)

// Transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1; PT 205, FMT 15):
//
//	 0                   1                   2                   3
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P|  FMT=15 |    PT=205     |           length              |
//	|                     SSRC of packet sender                     |
//	|                      SSRC of media source                     |
//	|      base sequence number     |      packet status count      |
//	|                 reference time                | fb pkt. count |
//	|  packet chunk  |  packet chunk  | ... | recv delta | ... | pad |
//
// A chunk is 16 bits. Run length (T=0): |0|S S|run length (13)|.
// Status vector (T=1): |1|0|14 one-bit symbols| or |1|1|7 two-bit symbols|.
// Symbols: 0 not received, 1 received with a 1-byte unsigned delta, 2
// received with a 2-byte signed delta, 3 reserved. Deltas count 250 µs.

// TWCCDeltaUnit is the unit of transport-cc receive deltas.
const TWCCDeltaUnit = 250 * time.Microsecond

// TWCC packet status symbols.
const (
	TWCCNotReceived   uint8 = 0
	TWCCSmallDelta    uint8 = 1
	TWCCLargeDelta    uint8 = 2
	twccReservedDelta uint8 = 3
)

// TransportCC is a parsed transport-cc feedback header; Packets decodes the
// per-packet statuses and deltas.
type TransportCC struct {
	SenderSSRC, MediaSSRC uint32
	BaseSeq               uint16
	StatusCount           uint16
	// ReferenceTime is the 24-bit reference time in multiples of 64 ms. It
	// wraps; compare values modulo 1<<24.
	ReferenceTime uint32
	FbPktCount    uint8

	chunks []byte // exactly the chunks that cover StatusCount statuses
	deltas []byte // everything after the chunks
}

// ParseTransportCC parses the feedback header and locates the chunk list
// covering StatusCount packets. Receive deltas are checked by the iterator.
func ParseTransportCC(pkt []byte) (TransportCC, DropReason) {
	s, m, fci, r := feedback(pkt, TypeRTPFB, FmtTransportCC)
	if r != DropNone {
		return TransportCC{}, r
	}
	if len(fci) < 8 {
		return TransportCC{}, DropTruncated
	}
	t := TransportCC{
		SenderSSRC:    s,
		MediaSSRC:     m,
		BaseSeq:       binary.BigEndian.Uint16(fci),
		StatusCount:   binary.BigEndian.Uint16(fci[2:]),
		ReferenceTime: binary.BigEndian.Uint32(fci[4:]) >> 8,
		FbPktCount:    fci[7],
	}
	rest := fci[8:]
	off := 0
	for covered := 0; covered < int(t.StatusCount); off += 2 {
		if off+2 > len(rest) {
			return TransportCC{}, DropTruncated
		}
		covered += chunkLen(binary.BigEndian.Uint16(rest[off:]))
	}
	t.chunks, t.deltas = rest[:off], rest[off:]
	return t, DropNone
}

// chunkLen is the number of statuses a chunk holds.
func chunkLen(c uint16) int {
	switch {
	case c&0x8000 == 0:
		return int(c & 0x1fff)
	case c&0x4000 == 0:
		return 14
	default:
		return 7
	}
}

// TWCCPacket is the feedback for one transport-wide sequence number.
type TWCCPacket struct {
	Seq      uint16
	Received bool
	// Delta is the arrival time relative to the previous received packet
	// (or to the reference time for the first one); 0 when not received.
	Delta time.Duration
}

// TWCCIter decodes statuses and deltas without allocating.
type TWCCIter struct {
	chunks, deltas []byte
	pos            int // index inside the current chunk
	seq            uint16
	left           int
	reason         DropReason
}

// Packets returns an iterator over the StatusCount packets, starting at BaseSeq.
func (t TransportCC) Packets() TWCCIter {
	return TWCCIter{chunks: t.chunks, deltas: t.deltas, seq: t.BaseSeq, left: int(t.StatusCount)}
}

// Next returns the next packet's feedback. It stops early, with Reason set,
// on a reserved symbol or when the deltas run out.
func (it *TWCCIter) Next() (TWCCPacket, bool) {
	for it.left > 0 && len(it.chunks) >= 2 {
		c := binary.BigEndian.Uint16(it.chunks)
		if it.pos >= chunkLen(c) {
			it.chunks, it.pos = it.chunks[2:], 0
			continue
		}
		var sym uint8
		switch {
		case c&0x8000 == 0:
			sym = uint8(c>>13) & 3
		case c&0x4000 == 0:
			sym = uint8(c>>(13-it.pos)) & 1
		default:
			sym = uint8(c>>(12-2*it.pos)) & 3
		}
		it.pos++
		return it.emit(sym)
	}
	if it.left > 0 && it.reason == DropNone {
		it.reason, it.left = DropTruncated, 0
	}
	return TWCCPacket{}, false
}

func (it *TWCCIter) emit(sym uint8) (TWCCPacket, bool) {
	p := TWCCPacket{Seq: it.seq}
	switch sym {
	case TWCCSmallDelta:
		if len(it.deltas) < 1 {
			return it.stop(DropTruncated)
		}
		p.Received, p.Delta = true, time.Duration(it.deltas[0])*TWCCDeltaUnit
		it.deltas = it.deltas[1:]
	case TWCCLargeDelta:
		if len(it.deltas) < 2 {
			return it.stop(DropTruncated)
		}
		d := int16(binary.BigEndian.Uint16(it.deltas))
		p.Received, p.Delta = true, time.Duration(d)*TWCCDeltaUnit
		it.deltas = it.deltas[2:]
	case twccReservedDelta:
		return it.stop(DropBadChunk)
	}
	it.seq++
	it.left--
	return p, true
}

func (it *TWCCIter) stop(r DropReason) (TWCCPacket, bool) {
	it.reason, it.left = r, 0
	return TWCCPacket{}, false
}

// Reason is DropNone when every status was decoded, or why decoding stopped.
func (it *TWCCIter) Reason() DropReason { return it.reason }
