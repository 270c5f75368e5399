// Package demo is the bridge's standalone mode: a small meeting page (plain HTML/JS embedded in
// the binary) and an embedded focus that stands in for Jicofo when no XMPP client is configured,
// so `make run` and two browser tabs show the bridge forwarding media. It is a demo: production
// meetings use Jitsi Meet through Jicofo.
//
// The focus drives bridge/control through the same ConferenceModify path that colibri2 requests
// from Jicofo take (no second path), with the requests Jicofo sends (signaling.md §4.2–4.6):
// an endpoint allocation (conference create for the first participant of a room), an update with
// the client's answered transport and sources after it accepted, and endpoint or conference
// expiry when a participant leaves.
//
// Page ↔ focus signalling is JSON over a WebSocket (/demo/ws). Like Jicofo, the focus hands the
// page the bridge's transport and the other participants' sources; like lib-jitsi-meet, the page
// turns them into a remote description (the bridge offers), answers with setup active, munges
// its answer for 3-layer SSRC simulcast (SIM + FID groups, media.md §5) and sends its answered
// transport and sources back. Remote sources are signalled in classic mode (media.md §2.3): the
// first SIM SSRC and its FID RTX, as Jicofo's strip-simulcast does.
//
// Structure:
//   - messages.go: the signalling messages and their decoder (a trust boundary, fuzzed);
//   - validate.go: checks of what the page sends and its conversion to colibri2 values;
//   - convert.go: colibri2 values to what the page needs (offer pieces, stripped sources);
//   - focus.go: rooms and participants, serialised per room, and the bridge requests;
//   - session.go: one WebSocket: reader, handler, bounded writer queue and keepalive pings;
//   - demo.go: the HTTP handler (page, static files, WebSocket) and Options;
//   - static/: the page.
package demo
