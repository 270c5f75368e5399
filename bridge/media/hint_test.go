package media

import (
	"fmt"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// hintTransport is a fake transport that takes part in the fan-out's prefetch stages.
type hintTransport struct {
	*fakeTransport
	stages [3]atomic.Int64
}

func (t *hintTransport) PrefetchSend(stage int, b *prefetch.Batch) {
	t.stages[stage].Add(1)
	b.Add(unsafe.Pointer(t.fakeTransport), unsafe.Sizeof(*t.fakeTransport))
}

// TestFanOutWithHints forwards audio from one endpoint to more receivers than hintMinFanout,
// closing some of them between packets: the hint pipeline must not change what anyone gets
// (every open receiver gets every packet in order, a closed one nothing more), and every
// stage must have run for the receivers it can reach.
func TestFanOutWithHints(t *testing.T) {
	f := newFixture(t, true)
	hts := map[string]*hintTransport{}
	f.wrap = func(tr *fakeTransport) Transport {
		ht := &hintTransport{fakeTransport: tr}
		hts[f.pending] = ht
		return ht
	}
	src := f.add(jicofoEndpoint("src", 1000, false))
	const n = 2 * hintMinFanout
	var ids []string
	for i := range n {
		id := fmt.Sprintf("r%02d", i)
		ids = append(ids, id)
		f.add(jicofoEndpoint(id, uint32(2000+100*i), false))
	}
	closedAt := map[string]int{"r00": 2, "r07": 4, "r15": 6} // first, middle, last subscriber
	const packets = 8
	for p := range packets {
		for id, at := range closedAt {
			if at == p {
				f.eps[id].Close()
			}
		}
		src.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: uint16(100 + p), ts: uint32(960 * p),
			exts: []rtp.Ext{{ID: 1, Data: []byte{0x80 | 10}}}, payload: []byte("opus")}.bytes())
		f.drain()
	}
	for _, id := range ids {
		want := packets
		if at, ok := closedAt[id]; ok {
			want = at
		}
		out, _ := f.trs[id].take()
		if len(out) != want {
			t.Errorf("%s got %d packets, want %d", id, len(out), want)
			continue
		}
		for i, b := range out {
			if got := parseOut(t, b); got.seq != uint16(100+i) {
				t.Errorf("%s packet %d has seq %d, want %d", id, i, got.seq, 100+i)
			}
		}
	}
	// The subscriber in the middle is hinted by every stage (the first ones are not: no
	// subscriber precedes them).
	for stage := range 3 {
		if hts["r08"].stages[stage].Load() == 0 {
			t.Errorf("stage %d never ran for r08", stage)
		}
	}
}

// TestHintCovers checks that the endpoint stage hints the fields forwarding reads, whatever
// the struct layout becomes.
func TestHintCovers(t *testing.T) {
	f := newFixture(t, true)
	e := f.add(jicofoEndpoint("a", 1000, true))
	var b prefetch.Batch
	e.prefetchLines(&b)
	for name, p := range map[string]unsafe.Pointer{
		"w": unsafe.Pointer(&e.w), "btr": unsafe.Pointer(&e.btr), "pf": unsafe.Pointer(&e.pf),
		"closed": unsafe.Pointer(&e.closed), "egMu": unsafe.Pointer(&e.egMu), "detached": unsafe.Pointer(&e.detached),
		"view": unsafe.Pointer(&e.view), "consGen": unsafe.Pointer(&e.consGen), "out.snap": unsafe.Pointer(&e.out.snap),
		"out.bySrc": unsafe.Pointer(&e.out.bySrc), "out.bySrcInline[7]": unsafe.Pointer(&e.out.bySrcInline[7]),
		"out.rx.Scratch": unsafe.Pointer(&e.out.rx.Scratch), "out.rx.Ext": unsafe.Pointer(&e.out.rx.Ext),
		"cout.rtp": unsafe.Pointer(&e.cout.rtp), "cout.bytes": unsafe.Pointer(&e.cout.bytes),
		"cons": unsafe.Pointer(&e.cons), "audioSub": unsafe.Pointer(&e.audioSub),
	} {
		if !b.Covers(p) {
			t.Errorf("prefetchLines misses %s", name)
		}
	}
}
