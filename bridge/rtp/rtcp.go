package rtp

import (
	"encoding/binary"
	"math"
)

// RTCP common header (RFC 3550 §6.4.1):
//
//	 0                   1                   2                   3
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P| RC/FMT  |      PT       |      length (words - 1)       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// RTCP packet types (RFC 3550, RFC 4585, RFC 3611).
const (
	TypeSR    uint8 = 200
	TypeRR    uint8 = 201
	TypeSDES  uint8 = 202
	TypeBYE   uint8 = 203
	TypeAPP   uint8 = 204
	TypeRTPFB uint8 = 205 // transport-layer feedback
	TypePSFB  uint8 = 206 // payload-specific feedback
	TypeXR    uint8 = 207
)

// Feedback message types (the FMT field) used by the bridge.
const (
	FmtNACK        uint8 = 1  // RTPFB, RFC 4585 §6.2.1
	FmtTransportCC uint8 = 15 // RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions-01
	FmtPLI         uint8 = 1  // PSFB, RFC 4585 §6.3.1
	FmtFIR         uint8 = 4  // PSFB, RFC 5104 §4.3.1
	FmtAFB         uint8 = 15 // PSFB application layer feedback; REMB lives here
)

const (
	rtcpHeaderLen   = 4
	reportBlockLen  = 24
	senderInfoLen   = 20
	maxReportBlocks = 31 // 5-bit RC field
)

// RTCPHeader is the common header of one RTCP packet.
type RTCPHeader struct {
	Padding bool
	Count   uint8  // RC, SC or FMT, depending on Type
	Type    uint8  // PT
	Length  uint16 // as on the wire: 32-bit words minus one
}

// Size is the packet length in bytes that the header announces.
func (h RTCPHeader) Size() int { return (int(h.Length) + 1) * 4 }

// ParseRTCPHeader reads the common header at the start of b and checks that
// the packet it announces fits in b.
func ParseRTCPHeader(b []byte) (RTCPHeader, DropReason) {
	if len(b) < rtcpHeaderLen {
		return RTCPHeader{}, DropTooShort
	}
	if b[0]>>6 != 2 {
		return RTCPHeader{}, DropBadVersion
	}
	h := RTCPHeader{
		Padding: b[0]&0x20 != 0,
		Count:   b[0] & 0x1f,
		Type:    b[1],
		Length:  binary.BigEndian.Uint16(b[2:]),
	}
	if h.Size() > len(b) {
		return RTCPHeader{}, DropLengthOverflow
	}
	return h, DropNone
}

// RTCPIter walks the packets of a compound RTCP datagram in place.
//
//	it := rtp.NewRTCPIter(buf)
//	for h, pkt, ok := it.Next(); ok; h, pkt, ok = it.Next() { ... }
//	if it.Reason() != rtp.DropNone { ... count it ... }
type RTCPIter struct {
	b      []byte
	off    int
	reason DropReason
}

// NewRTCPIter returns an iterator over the compound packet b.
func NewRTCPIter(b []byte) RTCPIter { return RTCPIter{b: b} }

// Next returns the next packet's header and bytes (header included, padding
// included), aliasing the buffer. It stops at the end or at the first
// malformed packet; Reason tells which.
func (it *RTCPIter) Next() (RTCPHeader, []byte, bool) {
	if it.off >= len(it.b) || it.reason != DropNone {
		return RTCPHeader{}, nil, false
	}
	h, r := ParseRTCPHeader(it.b[it.off:])
	if r != DropNone {
		it.reason = r
		return RTCPHeader{}, nil, false
	}
	pkt := it.b[it.off : it.off+h.Size()]
	it.off += h.Size()
	return h, pkt, true
}

// Reason is DropNone after a clean end, or why the walk stopped early.
func (it *RTCPIter) Reason() DropReason { return it.reason }

// rtcpBody checks pkt's header for the wanted type (and format, unless
// anyFmt) and returns the bytes after the common header, padding removed.
func rtcpBody(pkt []byte, typ, fmt uint8, anyFmt bool) ([]byte, DropReason) {
	h, r := ParseRTCPHeader(pkt)
	if r != DropNone {
		return nil, r
	}
	if h.Type != typ || (!anyFmt && h.Count != fmt) {
		return nil, DropWrongType
	}
	body := pkt[rtcpHeaderLen:h.Size()]
	if h.Padding {
		// RFC 3550 §6.4.1: the last octet counts the padding, itself included.
		if len(body) == 0 {
			return nil, DropBadPadding
		}
		pad := int(body[len(body)-1])
		if pad == 0 || pad > len(body) {
			return nil, DropBadPadding
		}
		body = body[:len(body)-pad]
	}
	return body, DropNone
}

// ReportBlock is one reception report (RFC 3550 §6.4.1).
type ReportBlock struct {
	SSRC         uint32
	FractionLost uint8
	TotalLost    int32 // 24-bit signed cumulative loss
	HighestSeq   uint32
	Jitter       uint32
	LSR          uint32 // middle 32 bits of the last SR's NTP time
	DLSR         uint32 // delay since last SR, 1/65536 s
}

// LSR is what a report block's LSR holds for a sender report with NTP time ntp: its middle
// 32 bits (RFC 3550 §6.4.1).
func LSR(ntp uint64) uint32 { return uint32(ntp >> 16) }

// ReportBlocks is a zero-copy list of report blocks.
type ReportBlocks struct{ b []byte }

// Len is the number of blocks.
func (rb ReportBlocks) Len() int { return len(rb.b) / reportBlockLen }

// At decodes block i; it panics when i is out of range, like a slice index.
func (rb ReportBlocks) At(i int) ReportBlock {
	b := rb.b[i*reportBlockLen : (i+1)*reportBlockLen]
	lost := int32(binary.BigEndian.Uint32(b[4:])<<8) >> 8 // sign-extend 24 bits
	return ReportBlock{
		SSRC:         binary.BigEndian.Uint32(b),
		FractionLost: b[4],
		TotalLost:    lost,
		HighestSeq:   binary.BigEndian.Uint32(b[8:]),
		Jitter:       binary.BigEndian.Uint32(b[12:]),
		LSR:          binary.BigEndian.Uint32(b[16:]),
		DLSR:         binary.BigEndian.Uint32(b[20:]),
	}
}

// SenderInfo is the sender part of an SR (RFC 3550 §6.4.1).
type SenderInfo struct {
	SSRC        uint32
	NTPTime     uint64
	RTPTime     uint32
	PacketCount uint32
	OctetCount  uint32
}

// SenderReport is a parsed SR.
type SenderReport struct {
	SenderInfo
	Reports ReportBlocks
}

// ParseSR parses an SR packet (as returned by RTCPIter.Next).
func ParseSR(pkt []byte) (SenderReport, DropReason) {
	body, r := rtcpBody(pkt, TypeSR, 0, true)
	if r != DropNone {
		return SenderReport{}, r
	}
	blocks := int(pkt[0] & 0x1f)
	if len(body) < 4+senderInfoLen+blocks*reportBlockLen {
		return SenderReport{}, DropTruncated
	}
	return SenderReport{
		SenderInfo: SenderInfo{
			SSRC:        binary.BigEndian.Uint32(body),
			NTPTime:     binary.BigEndian.Uint64(body[4:]),
			RTPTime:     binary.BigEndian.Uint32(body[12:]),
			PacketCount: binary.BigEndian.Uint32(body[16:]),
			OctetCount:  binary.BigEndian.Uint32(body[20:]),
		},
		Reports: ReportBlocks{body[24 : 24+blocks*reportBlockLen]},
	}, DropNone
}

// ReceiverReport is a parsed RR.
type ReceiverReport struct {
	SSRC    uint32
	Reports ReportBlocks
}

// ParseRR parses an RR packet.
func ParseRR(pkt []byte) (ReceiverReport, DropReason) {
	body, r := rtcpBody(pkt, TypeRR, 0, true)
	if r != DropNone {
		return ReceiverReport{}, r
	}
	blocks := int(pkt[0] & 0x1f)
	if len(body) < 4+blocks*reportBlockLen {
		return ReceiverReport{}, DropTruncated
	}
	return ReceiverReport{
		SSRC:    binary.BigEndian.Uint32(body),
		Reports: ReportBlocks{body[4 : 4+blocks*reportBlockLen]},
	}, DropNone
}

// feedback parses the common part of an RFC 4585 feedback message: sender
// SSRC, media SSRC and the FCI.
func feedback(pkt []byte, typ, fmt uint8) (sender, media uint32, fci []byte, r DropReason) {
	body, r := rtcpBody(pkt, typ, fmt, false)
	if r != DropNone {
		return 0, 0, nil, r
	}
	if len(body) < 8 {
		return 0, 0, nil, DropTruncated
	}
	return binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:]), body[8:], DropNone
}

// PLI is a picture loss indication (PT 206, FMT 1).
type PLI struct {
	SenderSSRC, MediaSSRC uint32
}

// ParsePLI parses a PLI.
func ParsePLI(pkt []byte) (PLI, DropReason) {
	s, m, _, r := feedback(pkt, TypePSFB, FmtPLI)
	return PLI{SenderSSRC: s, MediaSSRC: m}, r
}

// FIREntry is one FCI entry of a FIR: the SSRC asked for a keyframe and the
// request's sequence number.
type FIREntry struct {
	SSRC uint32
	Seq  uint8
}

// FIR is a full intra request (PT 206, FMT 4). RFC 5104 §4.3.1 says the
// media SSRC of the common header is unused (0); the SSRCs are in Entries.
type FIR struct {
	SenderSSRC, MediaSSRC uint32
	fci                   []byte
}

// Len is the number of FCI entries.
func (f FIR) Len() int { return len(f.fci) / 8 }

// Entry decodes entry i; it panics when i is out of range.
func (f FIR) Entry(i int) FIREntry {
	b := f.fci[i*8 : i*8+8]
	return FIREntry{SSRC: binary.BigEndian.Uint32(b), Seq: b[4]}
}

// ParseFIR parses a FIR with at least one entry.
func ParseFIR(pkt []byte) (FIR, DropReason) {
	s, m, fci, r := feedback(pkt, TypePSFB, FmtFIR)
	if r != DropNone {
		return FIR{}, r
	}
	if len(fci) < 8 {
		return FIR{}, DropTruncated
	}
	return FIR{SenderSSRC: s, MediaSSRC: m, fci: fci[:len(fci)/8*8]}, DropNone
}

// NACK is a generic NACK (PT 205, FMT 1): pairs of a packet ID and a bitmask
// of the 16 following lost packets (RFC 4585 §6.2.1).
type NACK struct {
	SenderSSRC, MediaSSRC uint32
	fci                   []byte
}

// ParseNACK parses a generic NACK with at least one PID/BLP pair.
func ParseNACK(pkt []byte) (NACK, DropReason) {
	s, m, fci, r := feedback(pkt, TypeRTPFB, FmtNACK)
	if r != DropNone {
		return NACK{}, r
	}
	if len(fci) < 4 {
		return NACK{}, DropTruncated
	}
	return NACK{SenderSSRC: s, MediaSSRC: m, fci: fci[:len(fci)/4*4]}, DropNone
}

// Len is the number of PID/BLP pairs.
func (n NACK) Len() int { return len(n.fci) / 4 }

// Pair returns pair i; it panics when i is out of range.
func (n NACK) Pair(i int) (pid, blp uint16) {
	return binary.BigEndian.Uint16(n.fci[i*4:]), binary.BigEndian.Uint16(n.fci[i*4+2:])
}

// Lost returns an iterator over every sequence number the NACK asks for.
func (n NACK) Lost() NACKIter { return NACKIter{fci: n.fci, bit: -1} }

// NACKIter expands PID/BLP pairs into sequence numbers, in wire order.
type NACKIter struct {
	fci []byte
	bit int // -1: the PID itself is next; 0..15: next BLP bit to test
}

// Next returns the next lost sequence number.
func (it *NACKIter) Next() (uint16, bool) {
	for len(it.fci) >= 4 {
		pid := binary.BigEndian.Uint16(it.fci)
		if it.bit < 0 {
			it.bit = 0
			return pid, true
		}
		blp := binary.BigEndian.Uint16(it.fci[2:])
		for ; it.bit < 16; it.bit++ {
			if blp&(1<<it.bit) != 0 {
				seq := pid + uint16(it.bit) + 1
				it.bit++
				return seq, true
			}
		}
		it.fci, it.bit = it.fci[4:], -1
	}
	return 0, false
}

// REMB is a receiver estimated maximum bitrate message
// (draft-alvestrand-rmcat-remb-03 §2.2; PT 206, FMT 15, identifier "REMB").
type REMB struct {
	SenderSSRC uint32
	Bitrate    uint64 // bits per second; saturates at math.MaxUint64
	ssrcs      []byte
}

// Len is the number of SSRCs the estimate applies to.
func (m REMB) Len() int { return len(m.ssrcs) / 4 }

// SSRC returns SSRC i; it panics when i is out of range.
func (m REMB) SSRC(i int) uint32 { return binary.BigEndian.Uint32(m.ssrcs[i*4:]) }

// ParseREMB parses a REMB. An application layer feedback message with
// another identifier gives DropWrongType.
func ParseREMB(pkt []byte) (REMB, DropReason) {
	s, _, fci, r := feedback(pkt, TypePSFB, FmtAFB)
	if r != DropNone {
		return REMB{}, r
	}
	if len(fci) < 8 {
		return REMB{}, DropTruncated
	}
	if string(fci[:4]) != "REMB" {
		return REMB{}, DropWrongType
	}
	num := int(fci[4])
	if len(fci) < 8+4*num {
		return REMB{}, DropTruncated
	}
	exp := fci[5] >> 2
	mantissa := uint64(binary.BigEndian.Uint32(fci[4:]) & 0x3ffff)
	bitrate := mantissa << exp
	if exp > 0 && bitrate>>exp != mantissa {
		bitrate = math.MaxUint64
	}
	return REMB{SenderSSRC: s, Bitrate: bitrate, ssrcs: fci[8 : 8+4*num]}, DropNone
}
