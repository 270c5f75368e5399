// Package packet holds the two hand-over primitives of the media core's
// packet path: Buf, a refcounted pooled packet buffer that ingress fills once
// and every subscriber shares (ARCHITECTURE.md packet-path rule 1: store an
// incoming packet once), and Queue, the bounded lock-free multi-producer,
// single-consumer ring that carries descriptors to an endpoint's egress
// goroutine (rule 5: bounded queues, non-blocking sends).
//
// Both are on the per-packet path: no allocation in steady state, no mutex,
// no logging, no clock.
package packet
