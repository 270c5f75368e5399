// Package xmpp is the bridge's XMPP client to Prosody, doing what Jitsi Videobridge does with
// Smack and jicoco's MucClient (signaling.md §1, §2): log in as an ordinary c2s client, join the
// brewery MUC rooms with a unique nickname, publish <stats xmlns='http://jitsi.org/protocol/colibri'>
// presence every presence interval, ping the server, and serve the IQs Jicofo sends to the
// bridge's occupant JID (health check, colibri2, version). One Client per xmpp-client config.
//
// # go-xmpp and who reads the stream
//
// github.com/xmppo/go-xmpp v0.4.1 performs the connection, STARTTLS, SASL and resource binding
// (Options.NewClient). Its stanza API is not used afterwards, because for the bridge it loses
// what matters: Recv drops presence children (the MUC status codes 110/201 a join needs),
// re-serializes IQ payloads (with a duplicated xmlns), answers version IQs itself from any
// sender, fails on unexpected top-level elements and buffers stanzas of any size. go-xmpp does
// not export its connection, so after login the client reads that unexported field once
// (takeOver; the module version is pinned in go.mod and a changed layout is reported as
// ErrGoXMPPLayout, not a panic) and owns the connection from then on: its own stanza reader
// (stanzaReader: encoding/xml tokens, raw IQ payload bytes, 1 MiB limit per stanza) and its own
// writer: one Write per call under a mutex, each with a deadline. go-xmpp's Close is never
// called: it would leave a goroutine sleeping for 10 s. go-xmpp has no context: a login runs on
// its own goroutine, which Run abandons on cancel or after 30 s (it closes the connection when
// NewClient returns). When NewClient fails, go-xmpp does not close its socket; the garbage
// collector's finalizer does, so repeated failed logins hold a few sockets for a while.
//
// go-xmpp v0.4.1's SCRAM does not work against Prosody 0.12 (the client-first message carries
// GS2 flag "y" while the proof binds "n"; -PLUS without XEP-0440 sends empty binding data), so
// the client falls back to PLAIN (only over TLS or to a loopback host) after one SASL failure
// with go-xmpp's preferred mechanism, and remembers that for later reconnects.
//
// XEP-0198 stream resumption (used by JVB to survive short network blips) is not implemented: a
// lost connection is a fresh login and MUC join.
package xmpp
