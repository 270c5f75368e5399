// Package selector makes the per-packet forwarding decision for one source
// as seen by one receiving endpoint: which packets go out, and with which
// sequence number, timestamp, VP8 picture ID and TL0PICIDX. It is Jitsi
// Videobridge's "projection" (AdaptiveSourceProjection and its per-codec
// contexts) written as plain functions over value state.
//
// Every scheme has the same shape:
//
//	state := NewVP8State()               // one per (source × receiver)
//	state.SetTarget(Layer{Encoding: 1, Temporal: 2})
//	d := DecideVP8(&state, &info)        // per packet, no allocation
//	if d.Forward { /* write d.Seq, d.Timestamp, d.PictureID, d.TL0PICIDX */ }
//	drops[d.Reason]++                    // count, never log per packet
//	if d.RequestKeyframe { /* ask the source, throttled by the caller */ }
//
// The state is owned by the goroutine that calls Decide (the endpoint's
// egress): there are no locks, no clocks and no logging inside. Arrival
// times come in PacketInfo (clock injected, ARCHITECTURE.md rule 8), and
// sequence numbers and timestamps arrive unwrapped to 64 bits by ingress
// (rule 2) and are truncated only in the Decision.
//
// Schemes:
//
//   - VP8State / DecideVP8: simulcast (one SSRC per encoding, projected onto
//     the primary SSRC, media.md §2.3 classic mode) with VP8 temporal layers,
//     following JVB's VP8QualityFilter and VP8AdaptiveSourceProjectionContext.
//   - GenericState / DecideGeneric: JVB's GenericAdaptiveSourceProjectionContext,
//     for codecs without layer information here (H264, and VP9/AV1 until their
//     own schemes land): whole-stream forwarding with seq/ts continuity across
//     suspend, resume and encoding changes.
//   - AudioState / DecideAudio: audio is forwarded unchanged except for
//     force-mute and silence discard (media.md §2.8), whose drops are hidden
//     from the receiver's sequence space.
//
// Plan for the SVC schemes: VP9State / DecideVP9 and AV1State / DecideAV1
// slot in beside these with their own state types and the same signature.
// PacketInfo grows a VP9 block (SID, TID, inter-layer dependency, flexible
// mode, end of layer frame) and an AV1 block (parsed dependency descriptor:
// frame number, template ID, decode target indications, fdiffs). They reuse
// the shared pieces of this package: seqMap (bridge-owned output sequence
// space that collapses dropped packets), outState (continuity of seq, ts and
// picture IDs across switches) and the keyframe-group rules of
// VP8State.acceptKeyframe (to be lifted out when a second user needs them);
// what differs is the filter (spatial layers within one encoding) and the
// extra fields of the Decision (VP9 marker on the highest forwarded spatial
// layer; AV1 frame number, template offset and active decode targets).
package selector
