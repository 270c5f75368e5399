// Command wakefloor measures what one wake-up of a mostly idle Go UDP forwarder costs on this
// machine: the floor under "CPU per forwarded packet" for a bridge whose traffic is too light
// to keep it busy (one small conference), where every arrival burst wakes the process from
// idle and the caches it left are cold again.
//
// Run the two halves on their own CPUs, the forwarder first:
//
//	taskset -c 1 go run ./bench/internal/wakefloor -mode fwd -n 10 &
//	taskset -c 0 go run ./bench/internal/wakefloor -mode gen -n 10 -rate 130 -d 20s
//
// gen sends one small datagram at random intervals (exponential, mean 1/rate) and drains n
// receiver sockets; fwd answers each arrival with n 1200-byte datagrams, one per receiver
// (plain WriteToUDP: nothing but a read and the sends), and prints its CPU per wake-up and per
// datagram sent (getrusage), once gen has been quiet for 3 s.
//
// fwd -raw reads and sends with raw system calls, as the bridge does (its batches and
// Socket.WriteTo): an ordinary one wakes the runtime's sysmon thread whenever the process was
// idle. cfwd/cfwd.c is the same forwarder in C, the floor without any runtime:
//
//	gcc -O2 -o cfwd bench/internal/wakefloor/cfwd/cfwd.c && taskset -c 1 ./cfwd 10
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"
)

const (
	fwdPort = 40000 // receiver i listens on fwdPort+1+i
	quiet   = 3 * time.Second
)

func main() {
	mode := flag.String("mode", "fwd", "fwd (the forwarder) or gen (the load)")
	n := flag.Int("n", 10, "receivers: datagrams sent per wake-up")
	rate := flag.Float64("rate", 130, "gen: arrivals per second")
	dur := flag.Duration("d", 20*time.Second, "gen: how long to send")
	raw := flag.Bool("raw", false, "fwd: raw system calls (no sysmon wake-up)")
	flag.Parse()
	var err error
	switch *mode {
	case "fwd":
		err = forward(*n, *raw)
	case "gen":
		err = generate(*n, *rate, *dur)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wakefloor:", err)
		os.Exit(1)
	}
}

func addr(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }

func forward(n int, raw bool) error {
	c, err := net.ListenUDP("udp4", addr(fwdPort))
	if err != nil {
		return err
	}
	defer c.Close()
	pio := plainIO{c}
	var rio *rawIO
	if raw {
		if rio, err = newRawIO(c, n); err != nil {
			return err
		}
	}
	in, out := make([]byte, 1500), make([]byte, 1200)
	var wakes, sent int
	var start time.Time
	var cpu0 time.Duration
	for {
		if err := c.SetReadDeadline(time.Now().Add(quiet)); err != nil {
			return err
		}
		if raw {
			err = rio.read(in)
		} else {
			err = pio.read(in)
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && wakes > 0 {
				break
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return err
		}
		if wakes == 0 {
			start, cpu0 = time.Now(), processCPU()
		}
		wakes++
		if raw {
			sent += rio.send(out)
		} else {
			sent += pio.send(out, n)
		}
	}
	el := time.Since(start) - quiet
	used := processCPU() - cpu0
	fmt.Printf("%d wake-ups (%.0f/s), %d datagrams sent: %.3f cores, %.0f µs per wake-up, %.1f µs per datagram\n",
		wakes, float64(wakes)/el.Seconds(), sent, used.Seconds()/el.Seconds(),
		float64(used.Microseconds())/float64(wakes), float64(used.Microseconds())/float64(max(sent, 1)))
	return nil
}

func generate(n int, rate float64, dur time.Duration) error {
	for i := range n {
		r, err := net.ListenUDP("udp4", addr(fwdPort+1+i))
		if err != nil {
			return err
		}
		defer r.Close()
		go func() {
			b := make([]byte, 1500)
			for {
				if _, _, err := r.ReadFromUDP(b); err != nil {
					return
				}
			}
		}()
	}
	s, err := net.DialUDP("udp4", nil, addr(fwdPort))
	if err != nil {
		return err
	}
	defer s.Close()
	for end := time.Now().Add(dur); time.Now().Before(end); {
		time.Sleep(time.Duration(rand.ExpFloat64() / rate * float64(time.Second)))
		if _, err := s.Write([]byte{0}); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			return err // refused: the forwarder is not listening yet, or has finished
		}
	}
	time.Sleep(quiet + time.Second) // let the forwarder finish before the receivers close
	return nil
}

// processCPU is this process's user + system CPU time (getrusage).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// plainIO reads and sends through the net package.
type plainIO struct{ c *net.UDPConn }

func (p plainIO) read(b []byte) error {
	_, _, err := p.c.ReadFromUDP(b)
	return err
}

func (p plainIO) send(b []byte, n int) (sent int) {
	for i := range n {
		if _, err := p.c.WriteToUDP(b, addr(fwdPort+1+i)); err == nil {
			sent++
		}
	}
	return sent
}
