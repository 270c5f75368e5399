package demo

import (
	"encoding/json"
	"testing"
)

// FuzzClientMessage feeds the signalling decoder and every check behind it arbitrary input:
// nothing may panic, and what is accepted must keep the invariants the bridge relies on.
func FuzzClientMessage(f *testing.F) {
	seeds := []any{
		clientMessage{Type: msgJoin, Room: "room1", Name: "Alice"},
		clientMessage{Type: msgLeave},
		acceptMessage(1000),
		clientMessage{Type: msgAccept, Transport: chromeTransport(), Sources: []wireSource{{Type: "video", SSRCs: []uint32{5, 5}}}},
	}
	for _, s := range seeds {
		b, _ := json.Marshal(s)
		f.Add(b)
	}
	f.Add([]byte(`{"type":"accept","transport":{"ufrag":"aaaa","pwd":"bbbbbbbbbbbbbbbbbbbbbb","fingerprints":[{"hash":"sha-1","setup":"passive","value":"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"}]}}`))
	f.Add([]byte(`{"type":"join","room":"\u0000","name":"\ud800"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeClientMessage(b)
		if err != nil {
			return
		}
		if room, perr := validRoom(m.Room); perr == nil && (room == "" || len(room) > maxRoomLen) {
			t.Fatalf("accepted room %q", room)
		}
		if name, perr := validDisplayName(m.Name); perr == nil && name == "" {
			t.Fatal("accepted an empty name")
		}
		if ice, perr := answeredTransport(m.Transport); perr == nil {
			for _, fp := range ice.Fingerprints {
				if fp.Setup != "active" && fp.Setup != "passive" {
					t.Fatalf("accepted setup %q", fp.Setup)
				}
			}
		}
		srcs, perr := answeredSources("ab12cd34", m.Sources)
		if perr != nil {
			return
		}
		seen := map[uint32]bool{}
		for _, ms := range srcs.MediaSources {
			for _, s := range ms.Sources {
				if s.SSRC == 0 || seen[s.SSRC] {
					t.Fatalf("accepted SSRC %d twice or zero", s.SSRC)
				}
				seen[s.SSRC] = true
			}
		}
		// What the other participants get is derived from accepted sources without panicking and
		// names only SSRCs the sender signalled.
		for _, ws := range receiverSources(srcs) {
			for _, ssrc := range ws.SSRCs {
				if !seen[ssrc] {
					t.Fatalf("receiver source names unknown SSRC %d", ssrc)
				}
			}
		}
	})
}
