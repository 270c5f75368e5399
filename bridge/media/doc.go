// Package media is the bridge's data plane: a Plane holds the conferences' media endpoints
// on the shared UDP socket, and each Endpoint ties its transport (ICE/DTLS/SRTP, package
// transport/endpoint) to an ingress handler and its egress, run by one of a fixed pool of
// egress workers (media-design.md, worker.go).
//
// Control → data only: the control plane (through an adapter in bridge/control) creates
// endpoints, hands over remote transport descriptions and receiver constraints, and publishes
// each conference's routing configuration with Conference.Update, which builds an immutable
// router.Snapshot. This package imports no control-plane package.
//
// Ingress runs on the socket reader goroutine, synchronously after SRTP decryption: parse,
// look the SSRC up in the endpoint's snapshot view (one atomic load), drop and count unknown,
// foreign, visitor and force-muted media, unwrap RTX, update the receive state (64-bit
// unwrapping, duplicates, NACK gaps, transport-wide arrivals, layers, audio level), copy the
// packet once into a refcounted packet.Buf and push one reference onto the media queue of each
// egress worker that owns a subscriber (lock-free, non-blocking; a full queue is a drop counted
// for each of that worker's subscribers). RTCP from the endpoint is
// terminated there, except NACK and PLI/FIR, which become items on its own egress queue, and
// SR, which goes to each subscriber for translation. What the bridge owes the endpoint as a
// sender (RR every 500 ms, transport-cc feedback, NACKs for upstream losses) is generated
// after each packet and queued for its egress, because one goroutine (its worker) owns the
// endpoint's outgoing SRTP context.
//
// Egress, run for each endpoint by exactly one worker goroutine of the plane's pool (a packet
// wakes each worker at most once, not each receiver; the worker walks the source's
// subscribers it owns, listed per worker in the snapshot, and gives each a run of the source's queued packets back to back, so
// that they leave in one GSO send), owns a sender.Sender per source it receives: the selector
// decision against the target layer (computed from the receiver's maxHeight constraint and
// the source's arriving layers), the rewrite into the worker's scratch buffer, the RTX
// history, SR translation and the keyframe requests, which it routes to the source owner's
// egress queue. Every drop is counted by a named reason (Stats, Drops). While it forwards to
// one subscriber, the worker hints the cache lines the next few will need, one level of their
// pointer chains per step (hint.go): at a large fan-out their state has left the caches.
//
// Liveness follows JVB: ICE or DTLS failure, no activity for a minute, or no ICE connection
// within two minutes make the plane call Options.OnExpire; the control plane then expires the
// endpoint, which closes it and releases everything it held.
//
// Each endpoint reports to its bridge channel through Hooks (hooks.go), installed by the
// control plane: ingress hands every audio level to the endpoint's dominant-speaker input
// (one atomic load and a lock-free store per packet), egress publishes the set of video
// sources it forwards when a target layer starts or stops, housekeeping reports media
// activity, and the established DTLS connection is handed over for the SCTP data channel.
package media
