package receiver

import "github.com/cityjitsi/videobridge/bridge/rtp"

// Receiver reports (media.md §2.7): the bridge sends an RR every 500 ms to
// each sender, one report block per incoming SSRC, at most 31 blocks per RR.
const (
	// RRInterval is the period of the bridge's receiver reports.
	RRInterval int64 = 500e6
	// ReportTimeout is how long after its last packet an SSRC is still
	// reported (libwebrtc stops reporting a silent SSRC after 8 s too).
	ReportTimeout int64 = 8e9
	// maxBlocks is the 5-bit RC field's limit.
	maxBlocks = 31
)

// AppendRR appends to dst the receiver reports from senderSSRC (the bridge's
// local SSRC) for the streams that received a packet within ReportTimeout
// before now, 31 blocks per RR, and starts a new fraction-lost interval for
// each of them. It appends nothing when no stream qualifies. With enough
// capacity in dst it does not allocate.
func AppendRR(dst []byte, senderSSRC uint32, now int64, streams ...*Stream) []byte {
	var blocks [maxBlocks]rtp.ReportBlock
	n := 0
	for _, s := range streams {
		if !s.started || now-s.lastActivity >= ReportTimeout {
			continue
		}
		blocks[n] = s.ReportBlock(now)
		if n++; n == maxBlocks {
			dst = rtp.AppendRR(dst, senderSSRC, blocks[:n]...)
			n = 0
		}
	}
	if n > 0 {
		dst = rtp.AppendRR(dst, senderSSRC, blocks[:n]...)
	}
	return dst
}
