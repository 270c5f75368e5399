// Package bwe holds the bridge's bandwidth estimation. For now that is the
// receive side of transport-wide congestion control: FeedbackGenerator
// records the transport-wide sequence number and arrival time of every
// packet an endpoint sends (draft-holmer-rmcat-transport-wide-cc-extensions-01)
// and builds the RTCP feedback its sender's congestion controller (Chrome's
// GoogCC) ramps up on. The send-side estimator comes later.
//
// Like the rest of the data plane it is owned by one goroutine (the
// endpoint's ingress), takes the clock as an argument (now, in nanoseconds),
// and neither locks nor allocates per packet.
package bwe
