package client

import (
	"sync"
	"sync/atomic"
)

// Kind is what an SSRC carries.
type Kind uint8

// Kinds.
const (
	KindUnknown Kind = iota
	KindAudio
	KindVideo
	KindRTX
)

func (k Kind) String() string {
	switch k {
	case KindAudio:
		return "audio"
	case KindVideo:
		return "video"
	case KindRTX:
		return "rtx"
	}
	return "unknown"
}

// Origin says which endpoint sends an SSRC.
type Origin struct {
	Sender   uint32 // endpoint index
	Kind     Kind
	Encoding int    // simulcast encoding of a video or RTX SSRC
	Primary  uint32 // for RTX: the media SSRC it repairs
}

// Registry maps every SSRC the harness's endpoints send to its origin, so a receiver knows
// what a packet is from its clear header alone (in the bridge's classic mode forwarded
// packets keep the sender's SSRCs: audio as is, video projected onto the first SIM SSRC, RTX
// onto its FID partner; media.md §2.3). Reads are lock-free on an immutable snapshot.
type Registry struct {
	mu   sync.Mutex
	snap atomic.Pointer[map[uint32]Origin]
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	m := map[uint32]Origin{}
	r.snap.Store(&m)
	return r
}

// Add registers SSRCs (copy-on-write: joins are rare, lookups per packet).
func (r *Registry) Add(entries map[uint32]Origin) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.snap.Load()
	m := make(map[uint32]Origin, len(old)+len(entries))
	for k, v := range old {
		m[k] = v
	}
	for k, v := range entries {
		m[k] = v
	}
	r.snap.Store(&m)
}

// Lookup returns the origin of ssrc.
func (r *Registry) Lookup(ssrc uint32) (Origin, bool) {
	o, ok := (*r.snap.Load())[ssrc]
	return o, ok
}

// SSRCs are one sending endpoint's SSRCs, laid out like focus.SimulcastSources: audio base,
// video base+1..3, RTX base+11..13.
type SSRCs struct {
	Audio uint32
	Video [3]uint32
	RTX   [3]uint32
}

// SSRCsFor returns the SSRC layout for base.
func SSRCsFor(base uint32) SSRCs {
	return SSRCs{Audio: base, Video: [3]uint32{base + 1, base + 2, base + 3},
		RTX: [3]uint32{base + 11, base + 12, base + 13}}
}

// Origins returns the registry entries of an endpoint's SSRCs.
func (s SSRCs) Origins(sender uint32, video bool) map[uint32]Origin {
	m := map[uint32]Origin{s.Audio: {Sender: sender, Kind: KindAudio}}
	if video {
		for e := range s.Video {
			m[s.Video[e]] = Origin{Sender: sender, Kind: KindVideo, Encoding: e}
			m[s.RTX[e]] = Origin{Sender: sender, Kind: KindRTX, Encoding: e, Primary: s.Video[e]}
		}
	}
	return m
}
