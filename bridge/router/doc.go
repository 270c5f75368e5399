// Package router holds a conference's routing table: which source an incoming SSRC belongs
// to (its owner, kind, simulcast encoding, RTX pairing), which endpoints subscribe to each
// source, and each endpoint's negotiated payload types and header extension ids.
//
// Build is a pure function from the control plane's description of a conference (converted
// to this package's Config by an adapter, because data-plane packages import no control-plane
// package) to an immutable Snapshot. The media plane publishes the newest Snapshot with
// atomic.Pointer and reads it per packet without locks; every change of sources, media or
// force-mute builds a new one (copy-on-write, ARCHITECTURE.md).
//
// Classic SSRC mode only (media.md §2.3): audio goes to every other endpoint, video to every
// other endpoint that accepts video; which layer a receiver gets, if any, is the egress
// side's decision (its constraints), not the router's.
package router
