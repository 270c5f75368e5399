package media

import (
	"fmt"
	"github.com/cityjitsi/videobridge/bridge/packet"
	"runtime"
	"slices"
	"testing"
)

func TestWorkerCount(t *testing.T) {
	got := []int{workerCount(-1), workerCount(0), workerCount(1), workerCount(3), workerCount(1000)}
	want := []int{runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0), 1, 3, maxWorkers}
	want[0], want[1] = min(want[0], maxWorkers), min(want[1], maxWorkers)
	if !slices.Equal(got, want) {
		t.Errorf("workerCount = %v, want %v", got, want)
	}
}

// TestWorkersShareEndpoints: receivers spread round robin over the plane's egress workers,
// each owned by one worker for its life, all get every packet in order.
func TestWorkersShareEndpoints(t *testing.T) {
	f := newFixture(t, false)
	a := f.add(jicofoEndpoint("a", 1000, false))
	var rx []*Endpoint
	for i := range 9 {
		rx = append(rx, f.add(jicofoEndpoint(fmt.Sprintf("r%d", i), uint32(2000+100*i), false)))
	}
	owners := map[*worker]int{}
	for _, e := range append([]*Endpoint{a}, rx...) {
		if !slices.Contains(f.p.workers, e.w) {
			t.Fatalf("endpoint %s has no worker of the plane", e.id)
		}
		owners[e.w]++
	}
	if want := min(10, len(f.p.workers)); len(owners) != want {
		t.Errorf("endpoints on %d workers, want %d", len(owners), want)
	}
	const n = 200
	for i := range n {
		a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: uint16(i), ts: uint32(960 * i), payload: []byte("opus")}.bytes())
	}
	for _, e := range rx {
		tr := f.trs[e.id]
		waitUntil(t, e.id+"'s audio", func() bool {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			return len(tr.rtp) >= n
		})
		out, _ := tr.take()
		gaps := 0
		for i := 1; i < len(out); i++ {
			if parseOut(t, out[i]).seq-parseOut(t, out[i-1]).seq != 1 {
				gaps++
			}
		}
		if len(out) != n || gaps != 0 {
			t.Errorf("%s got %d packets with %d sequence gaps, want %d and 0", e.id, len(out), gaps, n)
		}
	}
}

// TestWorkerQueueFull: packets beyond a worker's media queue are dropped for that worker's
// subscribers and counted per subscriber; what was queued is forwarded in order, and every
// buffer reference is given back.
func TestWorkerQueueFull(t *testing.T) {
	f := newFixture(t, true)
	a := f.add(jicofoEndpoint("a", 1000, false))
	b := f.add(jicofoEndpoint("b", 2000, false))
	c := f.add(jicofoEndpoint("c", 3000, false))
	const extra = 5
	for i := range workerQueue + extra {
		a.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: uint16(i), ts: uint32(960 * i), payload: []byte("opus")}.bytes())
	}
	f.drain()
	for _, e := range []*Endpoint{b, c} {
		out, _ := f.trs[e.id].take()
		// Each receiver sits on one worker; the packets that found that worker's queue full
		// are counted for it.
		dropped := e.Stats().IngressDrops[DropQueueFull]
		if len(out)+int(dropped) != workerQueue+extra || dropped == 0 {
			t.Errorf("%s: %d forwarded + %d dropped as queue full, want %d in all with drops",
				e.id, len(out), dropped, workerQueue+extra)
		}
		for i := 1; i < len(out); i++ {
			if d := parseOut(t, out[i]).seq - parseOut(t, out[i-1]).seq; d != 1 {
				t.Fatalf("%s: sequence gap of %d after packet %d", e.id, d, i)
			}
		}
	}
	if n := packet.DoubleReleases(); n != 0 {
		t.Errorf("%d double releases", n)
	}
}
