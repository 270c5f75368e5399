// Package channel is the bridge channel (media.md §1): the JSON control link between the bridge
// and each endpoint, carried by the SCTP data channel over the endpoint's DTLS association or by
// a colibri-ws WebSocket, and the per-conference logic behind it: EndpointMessage routing,
// receiver video constraints with last-N, sender-side constraints, dominant speaker events,
// connectivity events and connection stats.
//
// Structure:
//   - order.go, settings.go: pure functions (JVB's last-N order, effective constraints, the
//     sender-side aggregation) and a receiver's ReceiverVideoConstraints state.
//   - Hub (one per conference) owns the conference-wide state. It runs on one goroutine (an
//     actor): every mutation is an operation queued to it, so there is no lock around the state
//     and the Conference interface is only ever called from that goroutine, one call at a time.
//     Queueing never blocks, so Conference methods may call back into the Hub.
//   - Channel (one per endpoint) joins the endpoint's transports (at most one data channel and
//     one WebSocket), an incoming queue of 50 messages processed in order by one goroutine, and a
//     bounded outgoing queue drained by one writer goroutine onto the transport that last
//     received data (media.md §1.2).
//   - ServeSCTP and WebSocketHandler attach transports to a Channel.
//
// The package sits in the control plane: it imports no data-plane package except bridge/speaker
// (the dominant speaker algorithm) and, for pion's logger adapter, bridge/transport/ice. The
// forwarding plane is reached only through the Conference interface it declares.
package channel
