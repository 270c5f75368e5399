package channel

import (
	"net/url"
	"testing"
)

// FuzzProcess feeds arbitrary bytes to the incoming message handler of a connected endpoint
// in a conference with sources and peers: nothing may panic, and the channel stays open.
func FuzzProcess(f *testing.F) {
	for _, s := range []string{
		`{"colibriClass":"ClientHello"}`,
		`{"colibriClass":"EndpointMessage","to":"","msgPayload":{"a":1}}`,
		`{"colibriClass":"EndpointMessage","to":"b","from":"x","msgPayload":[]}`,
		`{"colibriClass":"EndpointStats","from":"z","bitrate":{}}`,
		`{"colibriClass":"ReceiverVideoConstraints","lastN":1,"selectedSources":["b-v0"],"onStageSources":["b-v0","zz"],"defaultConstraints":{"maxHeight":-1},"constraints":{"b-v0":{"maxHeight":720,"maxFrameRate":0}}}`,
		`{"colibriClass":"LastNChangedEvent","lastN":"3"}`,
		`{"colibriClass":"SourceVideoTypeMessage","sourceName":"a-v0","videoType":"DISABLED"}`,
		`{"colibriClass":"VideoTypeMessage","videoType":"desktop"}`,
		`{"colibriClass":"ReceiverAudioSubscription","mode":"Include","list":["b-a0"]}`,
		`{"colibriClass":"AddReceiver","bridgeId":"x","sourceName":"a-v0","videoConstraints":{}}`,
		`{"colibriClass":"Unknown","x":[1,{"y":null}]}`,
		`{"colibriClass":"EndpointMessage","to":"","fr\u006fm":"x","from":"y","from":1}`,
		``, `{`, `null`, `[1,2]`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	th := newTestHub(f, newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"), desk("b", "b-v1")), Options{})
	a, err := th.AddEndpoint("a", false)
	if err != nil {
		f.Fatal(err)
	}
	b, err := th.AddEndpoint("b", false)
	if err != nil {
		f.Fatal(err)
	}
	la, lb := newFakeLink(), newFakeLink()
	a.attach(la, true, nil)
	b.attach(lb, false, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		a.process(data) // returns once the hub has handled it
		if a.ctx.Err() != nil || !a.Connected() || !b.Connected() {
			t.Fatal("a message closed a channel")
		}
		for len(la.msgs) > 0 { // keep the recorders from filling up
			<-la.msgs
		}
		for len(lb.msgs) > 0 {
			<-lb.msgs
		}
	})
}

// FuzzParseWebSocketPath: any request path parses or fails cleanly, and ids escaped into a
// path come back unchanged.
func FuzzParseWebSocketPath(f *testing.F) {
	for _, s := range []string{"/colibri-ws/jvb/c/e", "/colibri-ws/a%2Fb/c/e/f", "/colibri-ws//", "/x", "/colibri-ws/%"} {
		f.Add(s, "jvb", "conf", "ep")
	}
	f.Fuzz(func(t *testing.T, path, server, conf, ep string) {
		_, _, _, _ = ParseWebSocketPath(path)
		p := WebSocketPathPrefix + url.PathEscape(server) + "/" + url.PathEscape(conf) + "/" + url.PathEscape(ep)
		s, c, e, err := ParseWebSocketPath(p)
		if err != nil || s != server || c != conf || e != ep {
			t.Fatalf("%q: got %q %q %q %v", p, s, c, e, err)
		}
	})
}
