// Package receiver keeps the state of the media a bridge endpoint receives:
// one Stream per incoming SSRC (64-bit unwrapping, RFC 3550 reception
// statistics, the duplicate window), RTX unwrapping, the NACKs the bridge
// sends upstream (NackGenerator), simulcast layer tracking per source
// (Layers), the RFC 6464 audio level, and the receiver reports the bridge
// generates every 500 ms (AppendRR).
//
// Everything here is owned by the endpoint's ingress goroutine (the socket
// reader, ARCHITECTURE.md "who owns what") and updated once per packet, so
// it follows the data-plane rules: no locks, no allocation per packet, no
// logging, and no clock — callers pass now in nanoseconds. Layers is the one
// exception to single ownership: egress goroutines read what it publishes
// through atomics.
//
// Per packet, ingress runs (media.md §2.5–§2.8):
//
//	rtx:    UnwrapRTX(&p, primarySSRC, &types)   // DropPadding: Chrome's RTX probes
//	stream: seq64, ts64, r := st.Receive(p.Seq(), p.Timestamp(), p.Len(), now, isRTX)
//	        if r != DropNone { count r; drop }   // duplicates, RTX probe copies
//	video:  nack.Observe(seq64, now); lost = nack.Due(now, lost[:0])
//	        layers.ObserveVP8(enc, now, ts64, &desc)
//	audio:  level, voice := AudioLevel(&p, audioLevelID)
//	        then drop padding-only packets (PayloadLen 0) after the stats,
//	        because they use sequence numbers and would otherwise look lost.
//
// and every 500 ms: AppendRR(dst, bridgeSSRC, now, streams...).
package receiver
