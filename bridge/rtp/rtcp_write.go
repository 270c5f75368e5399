package rtp

import "encoding/binary"

// RTCP writers. Each appends one packet (or, for reports with more than 31
// blocks, several) to dst and returns the extended slice, like the
// strconv.AppendX family: with enough capacity in dst they do not allocate.

const (
	maxRTCPWords = 0xffff // 16-bit length field
	maxNACKPairs = maxRTCPWords - 2
	maxREMBSSRCs = 255 // 8-bit Num SSRC field
	rembMantBits = 18
)

func appendRTCPHeader(dst []byte, count, typ uint8, length int) []byte {
	return append(dst, 0x80|count&0x1f, typ, byte(length>>8), byte(length))
}

// AppendPLI appends a picture loss indication (RFC 4585 §6.3.1).
func AppendPLI(dst []byte, sender, media uint32) []byte {
	dst = appendRTCPHeader(dst, FmtPLI, TypePSFB, 2)
	dst = binary.BigEndian.AppendUint32(dst, sender)
	return binary.BigEndian.AppendUint32(dst, media)
}

// AppendFIR appends a full intra request for media with request sequence
// number seq (RFC 5104 §4.3.1). The header's media SSRC is 0 as the RFC
// says; the FCI carries the media SSRC (unlike JVB when it forwards a FIR,
// see media.md §2.6).
func AppendFIR(dst []byte, sender, media uint32, seq uint8) []byte {
	dst = appendRTCPHeader(dst, FmtFIR, TypePSFB, 4)
	dst = binary.BigEndian.AppendUint32(dst, sender)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, media)
	return append(dst, seq, 0, 0, 0)
}

// AppendNACK appends a generic NACK (RFC 4585 §6.2.1) asking for every
// sequence number in lost. Consecutive numbers within 16 of a pair's PID go
// into its bitmask; for the most compact packet pass them in ascending order
// (modulo 2^16), but any order still asks for each one. Nothing is appended
// when lost is empty, because a NACK without FCI is invalid.
func AppendNACK(dst []byte, sender, media uint32, lost []uint16) []byte {
	if len(lost) == 0 {
		return dst
	}
	start := len(dst)
	dst = appendRTCPHeader(dst, FmtNACK, TypeRTPFB, 0)
	dst = binary.BigEndian.AppendUint32(dst, sender)
	dst = binary.BigEndian.AppendUint32(dst, media)
	for i, pairs := 0, 0; i < len(lost) && pairs < maxNACKPairs; pairs++ {
		pid := lost[i]
		var blp uint16
		for i++; i < len(lost); i++ {
			d := lost[i] - pid
			if d > 16 {
				break
			}
			if d > 0 {
				blp |= 1 << (d - 1)
			}
		}
		dst = binary.BigEndian.AppendUint16(dst, pid)
		dst = binary.BigEndian.AppendUint16(dst, blp)
	}
	binary.BigEndian.PutUint16(dst[start+2:], uint16((len(dst)-start)/4-1))
	return dst
}

func appendReportBlock(dst []byte, rb ReportBlock) []byte {
	lost := min(max(rb.TotalLost, -0x800000), 0x7fffff) // 24-bit signed
	dst = binary.BigEndian.AppendUint32(dst, rb.SSRC)
	dst = binary.BigEndian.AppendUint32(dst, uint32(rb.FractionLost)<<24|uint32(lost)&0xffffff)
	dst = binary.BigEndian.AppendUint32(dst, rb.HighestSeq)
	dst = binary.BigEndian.AppendUint32(dst, rb.Jitter)
	dst = binary.BigEndian.AppendUint32(dst, rb.LSR)
	return binary.BigEndian.AppendUint32(dst, rb.DLSR)
}

// AppendRR appends receiver reports from sender with the given blocks. The RC
// field holds at most 31 blocks, so more blocks produce several RRs in a row
// (JVB sends at most 31 per packet too). No blocks give one empty RR.
func AppendRR(dst []byte, sender uint32, blocks ...ReportBlock) []byte {
	for first := true; first || len(blocks) > 0; first = false {
		n := min(len(blocks), maxReportBlocks)
		dst = appendRTCPHeader(dst, uint8(n), TypeRR, 1+6*n)
		dst = binary.BigEndian.AppendUint32(dst, sender)
		for _, rb := range blocks[:n] {
			dst = appendReportBlock(dst, rb)
		}
		blocks = blocks[n:]
	}
	return dst
}

// AppendSR appends a sender report. Blocks beyond the 31 that fit follow in
// RRs from the same SSRC. The bridge forwards SRs with no blocks
// (media.md §2.7), which is AppendSR(dst, si).
func AppendSR(dst []byte, si SenderInfo, blocks ...ReportBlock) []byte {
	n := min(len(blocks), maxReportBlocks)
	dst = appendRTCPHeader(dst, uint8(n), TypeSR, 6+6*n)
	dst = binary.BigEndian.AppendUint32(dst, si.SSRC)
	dst = binary.BigEndian.AppendUint64(dst, si.NTPTime)
	dst = binary.BigEndian.AppendUint32(dst, si.RTPTime)
	dst = binary.BigEndian.AppendUint32(dst, si.PacketCount)
	dst = binary.BigEndian.AppendUint32(dst, si.OctetCount)
	for _, rb := range blocks[:n] {
		dst = appendReportBlock(dst, rb)
	}
	if len(blocks) > n {
		dst = AppendRR(dst, si.SSRC, blocks[n:]...)
	}
	return dst
}

// AppendREMB appends a REMB (draft-alvestrand-rmcat-remb-03 §2.2) for up to
// 255 SSRCs (JVB lists at most 8). The bitrate is rounded down to an 18-bit
// mantissa and a 6-bit exponent, so the estimate is never overstated.
func AppendREMB(dst []byte, sender uint32, bitrate uint64, ssrcs ...uint32) []byte {
	num := min(len(ssrcs), maxREMBSSRCs)
	exp := 0
	for bitrate >= 1<<rembMantBits {
		bitrate >>= 1
		exp++
	}
	dst = appendRTCPHeader(dst, FmtAFB, TypePSFB, 4+num)
	dst = binary.BigEndian.AppendUint32(dst, sender)
	dst = binary.BigEndian.AppendUint32(dst, 0) // media SSRC: unused, 0
	dst = append(dst, 'R', 'E', 'M', 'B')
	dst = binary.BigEndian.AppendUint32(dst, uint32(num)<<24|uint32(exp)<<rembMantBits|uint32(bitrate))
	for _, s := range ssrcs[:num] {
		dst = binary.BigEndian.AppendUint32(dst, s)
	}
	return dst
}
