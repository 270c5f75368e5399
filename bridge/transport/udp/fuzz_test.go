package udp

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// FuzzDemux: classification, the STUN USERNAME walk and the route decision never panic on
// arbitrary datagrams, and a returned username lies inside the datagram.
func FuzzDemux(f *testing.F) {
	f.Add(stunMsg(stunMagicCookie, stunAttrUser, "jvb:abc:remote"))
	f.Add(stunMsg(stunMagicCookie, 0x8022, "soft", stunAttrUser, "u2:x"))
	f.Add(stunMsg(stunMagicCookie))
	f.Add(rtpDatagram(7, 64))
	f.Add([]byte{0x81, 200, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	h := &nopHandler{}
	from := netip.MustParseAddrPort("192.0.2.1:1")
	tbl := &routeTable{
		ufrags: map[string]Handler{"jvb:abc": h, "u2": h},
		addrs:  map[netip.AddrPort]Handler{from: h},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if user, ok := stunUsername(b); ok && !bytes.Contains(b, user) {
			t.Fatalf("username %q not inside the datagram", user)
		}
		kind := rtp.Classify(b)
		got, reason := tbl.route(kind, b, from)
		if (got == nil) == (reason == DropNone) {
			t.Fatalf("route returned %v with reason %s", got, reason)
		}
	})
}
