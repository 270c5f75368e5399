package bench

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestTCPRelay: bytes go both ways through the relay, a target closing ends the relayed
// connection, and Close ends connections still open.
func TestTCPRelay(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			go func() { // echo lines until "bye", then close
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "bye\n" {
						return
					}
					_, _ = io.WriteString(c, "echo "+line)
				}
			}()
		}
	}()
	r, err := startTCPRelay(netip.MustParseAddrPort("127.0.0.1:0"), target.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		return c, bufio.NewReader(c)
	}
	c1, r1 := dial()
	defer c1.Close()
	for _, msg := range []string{"hello\n", "<iq/>\n"} {
		_, _ = io.WriteString(c1, msg)
		if got, err := r1.ReadString('\n'); err != nil || got != "echo "+msg {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	_, _ = io.WriteString(c1, "bye\n")
	if _, err := r1.ReadString('\n'); err != io.EOF {
		t.Errorf("after the target closed: %v, want EOF", err)
	}
	c2, r2 := dial()
	defer c2.Close()
	_, _ = io.WriteString(c2, "x\n")
	if got, _ := r2.ReadString('\n'); got != "echo x\n" {
		t.Fatalf("second connection got %q", got)
	}
	r.Close() // must not hang on c2
	if _, err := r2.ReadString('\n'); err != io.EOF {
		t.Errorf("after Close: %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", r.Addr().String(), time.Second); err == nil {
		t.Error("the relay still accepts after Close")
	}
}
