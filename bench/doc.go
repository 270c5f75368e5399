// Package bench is the load-test harness: it loads a Colibri2 bridge with synthetic Jitsi Meet
// endpoints and reports what it costs and how well media flows. cmd/bench is its thin command
// line; `make bench` builds both binaries and runs a scenario.
//
// Two ways to reach a bridge:
//
//   - Self-contained (StartLocal, --mode local, the default): the harness starts the bridge
//     binary on loopback with a generated jvb.conf, plus a private Prosody (StartProsody:
//     xmpp/xmpptest's server, started without testing.TB) and joins its brewery with the
//     embedded focus (integration/focus, a Jicofo emulator). The bridge serves colibri2 only over XMPP, as
//     JVB does, so this is the shortest faithful path; it needs the prosody package installed
//     and nothing else. With --net veth (NetVeth) the command builds two network namespaces
//     joined by a veth pair, steers each side's receive softirq to its own pinned CPUs with
//     RPS, and re-executes itself inside the harness namespace, where it starts the bridge in
//     the bridge namespace: on loopback the kernel charges the endpoints' receive work to the
//     bridge's CPU, across the veth each side pays for its own, as across a NIC.
//   - Against a deployment (StartDeployment, --mode deployment): the focus emulator logs in to
//     the deployment's Prosody with the credentials given (flags or --credentials file), joins
//     the brewery under its own nickname and drives the bridge named by --bridge-nick — ours or
//     Jitsi Videobridge. Resources come from the bridge's /metrics (and /proc when it runs on
//     the same machine).
//
// Each endpoint (bench/client) is a real ICE (controlled) + DTLS (client, setup=active) +
// SRTP client on its own UDP socket, built on the bridge's transport packages, sending the
// traffic model of bench/traffic (VP8 simulcast 3 × L1T3, Opus with a talker model) and
// answering with RR, transport-cc feedback, NACK and PLI. Receivers decrypt a sample and count
// the rest by clear header. ReceiverVideoConstraints go over the SCTP bridge channel when the
// bridge serves it, else colibri-ws, else the bridge's POST /debug/constraints hook
// (ConstraintSetter).
//
// A run (Run) measures the bridge's idle CPU, joins the scenario's endpoints at the join rate,
// warms up, and measures a window: bridge CPU (per forwarded packet too), packet and bit rates,
// latency from a send time stamped in each payload, loss, freezes, layers asked vs received,
// RSS, heap, goroutines, kernel socket drops, and the harness's own CPU. The capacity finder
// grows the load step by step until loss or p99 latency breaks the objective. Every wait has a
// deadline; a bridge that refuses, crashes, leaves the brewery or stops forwarding ends the run
// with the reason and the partial results. bench/report writes the results folder (JSON,
// Markdown, SVG/HTML plots) and compares two results.
package bench
