// Package traffic is the bench harness's media model: what a Jitsi Meet client sends, as pure
// generators driven by an injected clock. It writes RTP packets into caller buffers and does no
// I/O, so its shapes (bitrates, frame sizes, keyframes, temporal layers, packetization) are
// table-tested without a network.
//
// The model follows lib-jitsi-meet and Chrome (media.md §2.1, §5):
//   - video: 3-encoding VP8 simulcast, 180/360/720 at 200k/500k/1.5M bps, 30 fps, each encoding
//     L1T3 (temporal pattern TL0 TL2 TL1 TL2 with libwebrtc's 40/20/40 % rate split), a
//     keyframe every KeyframeInterval or on request, VP8 payload descriptor with 15-bit picture
//     ID, TL0PICIDX and TID (RFC 7741), keyframe header with start code 9d 01 2a and the size;
//   - audio: Opus, 20 ms frames (50 packets/s), ssrc-audio-level (RFC 6464) from a talker model
//     in which one or two participants speak at a time;
//   - header extensions with Jicofo's IDs: ssrc-audio-level 1, abs-send-time 3 (video),
//     transport-wide sequence number 5 (every packet);
//   - every payload ends with a Stamp (sender, stream, frame, send time) from which receivers
//     measure forwarding latency and the layer they were given.
package traffic
