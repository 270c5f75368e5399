package media

import "github.com/cityjitsi/videobridge/bridge/router"

// maxFramePad bounds the RTP padding that evens out the packets of one video frame.
//
// Why pad at all: a receiver gets a frame's packets in one UDP GSO send only if they have
// one size (the last may be shorter), and the kernel's send cost is per send. libwebrtc
// splits a frame into packets that differ by one byte, the larger ones last
// (RtpPacketizer::SplitAboutEqually), so a frame would cost two sends per receiver. Padding
// the shorter packets by that byte (RFC 3550 §5.1: the P bit and a count in the last byte;
// receivers strip it before depacketizing) makes it one. Larger differences are left
// alone: they are not the packetizer's rounding, and padding them would cost bandwidth.
const maxFramePad = 8

// framePads sets padTo on the round's video packets: within each run of one source's
// packets, the packets of one frame (same SSRC and timestamp) are padded to the frame's
// longest payload when all of them are within maxFramePad of it. Packets that already
// carry padding, and frames whose sizes spread further, get none (padTo 0).
func framePads(items []fanItem) {
	for i := 0; i < len(items); {
		j := runEnd(items, i)
		if items[i].src.rs.Kind == router.KindVideo && j-i > 1 {
			padRun(items[i:j])
		} else {
			for k := i; k < j; k++ {
				items[k].padTo = 0
			}
		}
		i = j
	}
}

// padRun is framePads for one source's run (at most mediaBatch packets).
func padRun(run []fanItem) {
	var keys [mediaBatch]uint64
	var lens [mediaBatch]int
	for i := range run {
		b := run[i].buf
		keys[i] = uint64(b.SSRC)<<32 | uint64(uint32(b.TS64))
		lens[i] = b.PayloadLen
		if b.PayloadOffset+b.PayloadLen != b.N { // padded already: not evened out
			lens[i] = -1
		}
	}
	for i := range run {
		run[i].padTo = 0
		if lens[i] < 0 {
			continue
		}
		hi, lo := lens[i], lens[i]
		for k := range run {
			if keys[k] != keys[i] {
				continue
			}
			if lens[k] < 0 {
				hi = -1
				break
			}
			hi, lo = max(hi, lens[k]), min(lo, lens[k])
		}
		if hi > lens[i] && hi-lo <= maxFramePad {
			run[i].padTo = int32(hi)
		}
	}
}
