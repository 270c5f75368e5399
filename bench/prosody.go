package bench

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/cityjitsi/videobridge/xmpp/xmpptest"
)

// ErrNoProsody means the self-contained mode cannot run: it needs the prosody binaries.
var ErrNoProsody = xmpptest.ErrNoProsody

// prosodyStartTimeout bounds each registration and the start-up.
const prosodyStartTimeout = 15 * time.Second

// StartProsody starts the private, loopback-only Prosody the self-contained mode uses as the
// XMPP server between the embedded focus (integration/focus, Jicofo's emulator) and the
// bridge: the bridge binary serves colibri2 only over XMPP, as JVB does, so "needs nothing
// else" means the harness brings its own server. It is xmpp/xmpptest's server (files in dir,
// created if needed; the caller calls Stop) with throwaway random passwords for the jvb and
// focus accounts and a c2s rate limit a load test's signalling does not hit.
func StartProsody(ctx context.Context, dir string) (*xmpptest.Prosody, error) {
	p, err := xmpptest.Start(ctx, xmpptest.Options{
		JVB:          xmpptest.Account{User: "jvb", Password: randomToken(16)},
		Focus:        xmpptest.Account{User: "focus", Password: randomToken(16)},
		C2SRate:      "100mb/s",
		StartTimeout: prosodyStartTimeout,
	}, dir)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return p, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
