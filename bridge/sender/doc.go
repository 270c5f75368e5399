// Package sender is the egress side of one source as sent to one receiving endpoint: the
// selector decision, the rewrite of the stored packet into what this receiver gets, the RTX
// history that answers its NACKs, the translation of the source's sender reports, and the
// per-receiver keyframe request limit (media.md §2.2–§2.7).
//
// A Sender is owned by the receiving endpoint's egress goroutine; so is the Receiver it
// writes through, which holds that endpoint's negotiated header extension ids, its
// transport-wide sequence counter and the scratch buffers every rewrite goes into. Nothing
// here locks, logs or allocates per packet: a packet is stored once (a packet.Buf shared by
// reference) and each receiver copies it exactly once, into its scratch buffer, where the
// header, extensions and VP8 descriptor are rewritten (ARCHITECTURE.md packet-path rule 1).
//
// Per packet, the egress goroutine runs:
//
//	out, reason, kf := s.Forward(buf, &in, &rx, now) // takes over buf's reference
//	if kf { ask the source for a keyframe, if KeyframeLimiter and SourceLimiter allow }
//	if reason == DropNone { transport.WriteRTP(out) } else { count reason }
//
// and per NACKed sequence number: out, reason := s.Retransmit(seq, &in, &rx, now).
package sender
