package media

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/packet"
	"github.com/cityjitsi/videobridge/bridge/router"
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

// TestFanOutWithHints forwards audio and VP8 from one endpoint to enough receivers that every
// worker hints, in a conference of more than 8 sources (the by-source tables are separate
// arrays), closing receivers between packets and between a packet's arrival and its fan-out:
// the hint pipeline must not change what anyone gets (every open receiver gets every packet in
// order, a closed one nothing more), and every stage must have run.
func TestFanOutWithHints(t *testing.T) {
	f := newFixture(t, true)
	hts := map[string]*hintTransport{}
	f.wrap = func(tr *fakeTransport) Transport {
		ht := &hintTransport{fakeTransport: tr}
		hts[f.pending] = ht
		return ht
	}
	src := f.add(jicofoEndpoint("src", 1000, true))
	n := hintMinFanout*len(f.p.workers) + 2*hintLines
	var ids []string
	for i := range n {
		id := fmt.Sprintf("r%02d", i)
		ids = append(ids, id)
		f.add(jicofoEndpoint(id, uint32(2000+100*i), true)).SetConstraints(720, nil)
	}
	// r00 closes before frame 2 arrives, r07 after frame 4 arrived but before its fan-out,
	// the last one before frame 6 arrives. got[id][frame] is what id received of a frame.
	last := ids[n-1]
	closeBefore := map[int]string{2: "r00", 6: last}
	closeQueued := map[int]string{4: "r07"}
	closedAt := map[string]int{"r00": 2, "r07": 4, last: 6}
	const frames = 8
	got := map[string][][]parsed{}
	s := simulcastSender{base: 1000}
	for fr := range frames {
		if id, ok := closeBefore[fr]; ok {
			f.eps[id].Close()
		}
		src.OnRTP(rtpPkt{ssrc: 1000, pt: 111, seq: uint16(100 + fr), ts: uint32(960 * fr),
			exts: []rtp.Ext{{ID: 1, Data: []byte{0x80 | 10}}}, payload: []byte("opus")}.bytes())
		for _, p := range s.next(fr == 0) {
			src.OnRTP(p)
		}
		if id, ok := closeQueued[fr]; ok {
			f.eps[id].Close()
		}
		f.advance(33 * time.Millisecond)
		f.drain()
		for _, id := range ids {
			out, _ := f.trs[id].take()
			var ps []parsed
			for _, b := range out {
				ps = append(ps, parseOut(t, b))
			}
			got[id] = append(got[id], ps)
		}
	}
	// Every receiver gets what r01 (open throughout) gets, up to its close; r01 gets every
	// audio packet and a continuous VP8 stream ending on encoding 2.
	ref := got["r01"]
	var audio, video []parsed
	for _, ps := range ref {
		for _, p := range ps {
			if p.ssrc == 1000 {
				audio = append(audio, p)
			} else {
				video = append(video, p)
			}
		}
	}
	if len(audio) != frames || len(video) < frames || video[len(video)-1].tag != 2 {
		t.Fatalf("r01 got %d audio and %d video packets: %+v", len(audio), len(video), video)
	}
	for i := range video[1:] {
		if video[i+1].seq != video[i].seq+1 {
			t.Errorf("r01 video discontinuity: %+v after %+v", video[i+1], video[i])
		}
	}
	for _, id := range ids {
		for fr := range frames {
			want := ref[fr]
			if at, ok := closedAt[id]; ok && fr >= at {
				want = nil
			}
			if !reflect.DeepEqual(got[id][fr], want) {
				t.Errorf("%s frame %d: got %+v, want %+v", id, fr, got[id][fr], want)
			}
		}
	}
	all := 0
	for _, ht := range hts {
		if ht.stages[0].Load() > 0 && ht.stages[1].Load() > 0 && ht.stages[2].Load() > 0 {
			all++
		}
	}
	if all == 0 {
		t.Error("no receiver was hinted by every transport stage")
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

// TestRoundGroups checks the round's regrouping: sources sharing a subscriber list together,
// video before audio, each source's packets in arrival order; a source with another list
// stays apart.
func TestRoundGroups(t *testing.T) {
	w := &worker{idx: 0}
	e1, e2 := &Endpoint{}, &Endpoint{}
	shared := [][]*Endpoint{{e1, e2}}
	other := [][]*Endpoint{{e2}}
	audio := &srcView{rs: &router.Source{Kind: router.KindAudio, Name: "a"}, subs: shared}
	video := &srcView{rs: &router.Source{Kind: router.KindVideo, Name: "v"}, subs: shared}
	video2 := &srcView{rs: &router.Source{Kind: router.KindVideo, Name: "v2"}, subs: other}
	bufs := make([]packet.Buf, 7)
	in := []*srcView{audio, video2, video, audio, video, video2, video}
	for i, sv := range in {
		w.popped[i] = fanItem{buf: &bufs[i], src: sv}
	}
	w.group(len(in))
	// The shared list arrived first: video (packets 2, 4, 6), then audio (0, 3); then the
	// other list's video (1, 5).
	want := []int{2, 4, 6, 0, 3, 1, 5}
	for i, k := range want {
		if w.popped[i].buf != &bufs[k] {
			got := make([]int, len(in))
			for j := range in {
				for b := range bufs {
					if w.popped[j].buf == &bufs[b] {
						got[j] = b
					}
				}
			}
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	if !sameList(audio.subsOf(w), video.subsOf(w)) || sameList(video.subsOf(w), video2.subsOf(w)) {
		t.Error("sameList disagrees with the lists' identity")
	}
}

// TestInternSubs checks that one owner's sources with equal subscriber lists share one, and
// that other owners' sources do not.
func TestInternSubs(t *testing.T) {
	e1, e2 := &Endpoint{}, &Endpoint{}
	srcs := []srcView{
		{rs: &router.Source{Owner: 0}, subs: [][]*Endpoint{{e1, e2}}},
		{rs: &router.Source{Owner: 0}, subs: [][]*Endpoint{{e1, e2}}},
		{rs: &router.Source{Owner: 1}, subs: [][]*Endpoint{{e1, e2}}},
		{rs: &router.Source{Owner: 1}, subs: [][]*Endpoint{{e1}}},
	}
	internSubs(srcs)
	w := &worker{}
	if !sameList(srcs[0].subsOf(w), srcs[1].subsOf(w)) {
		t.Error("owner 0's equal lists are not shared")
	}
	if sameList(srcs[1].subsOf(w), srcs[2].subsOf(w)) || sameList(srcs[2].subsOf(w), srcs[3].subsOf(w)) {
		t.Error("lists shared across owners or despite a difference")
	}
}
