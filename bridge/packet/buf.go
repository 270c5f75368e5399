package packet

import (
	"sync"
	"sync/atomic"
)

// Size is the capacity of a Buf: one Ethernet MTU. SRTP-decrypted RTP from a
// browser is always smaller (Chrome and Firefox packetize to about 1200
// bytes), so a packet that does not fit is dropped by the caller.
const Size = 1500

// VP8 is what ingress learnt from a VP8 payload descriptor (RFC 7741 §4.2).
// The Has flags say which optional fields the packet carries.
type VP8 struct {
	PictureID     uint16 // 7 or 15 bits, see LongPictureID
	TL0PICIDX     uint8
	TID           uint8
	HasPictureID  bool
	LongPictureID bool // M=1: PictureID has 15 bits
	HasTL0PICIDX  bool
	HasTID        bool
	LayerSync     bool // Y bit
}

// Meta is the per-packet metadata ingress fills next to the bytes, so that
// egress never parses the packet again. It is reset to NoMeta when a Buf
// goes back to the pool.
type Meta struct {
	// Seq64 and TS64 are the sequence number and timestamp unwrapped to 64
	// bits (packet-path rule 2); truncating them gives the wire values.
	Seq64, TS64 uint64
	// Arrival is the receive time in nanoseconds from the injected clock.
	Arrival int64
	// PayloadOffset and PayloadLen locate the RTP payload (padding
	// excluded) in Data.
	PayloadOffset, PayloadLen int
	SSRC                      uint32
	PayloadType               uint8
	Marker                    bool
	// Encoding is the simulcast index of the SSRC in its SIM group, 0
	// without simulcast, -1 when unknown.
	Encoding     int8
	Keyframe     bool
	StartOfFrame bool
	// AudioLevel is the RFC 6464 level (0..127, -dBov), or -1 when the
	// packet carries none.
	AudioLevel int8
	VP8        VP8
}

// NoMeta is the metadata of a fresh Buf: everything zero except the fields
// whose "none" value is -1.
var NoMeta = Meta{Encoding: -1, AudioLevel: -1}

// Buf is one packet stored once and shared by reference. Get returns it with
// one reference, owned by the caller; every further holder (each subscriber's
// egress queue, the RTX history) takes its own with Ref and gives it back
// with Release. The last Release returns the Buf to the pool, after which it
// must not be touched: the pool hands it to the next Get.
//
// Data and Meta are written only by the goroutine that called Get, before the
// first Ref; the atomic in Ref orders those writes before every other
// holder's reads, so the shared contents need no lock.
type Buf struct {
	// refs counts the holders; atomic because holders live on different
	// goroutines (ingress, several egress).
	refs atomic.Int32
	// N is the length of the packet in Data.
	N int
	Meta
	Data [Size]byte
}

// Bytes returns the packet, Data[:N].
func (b *Buf) Bytes() []byte { return b.Data[:b.N] }

// Payload returns the RTP payload located by PayloadOffset and PayloadLen,
// or nil when they do not fit in the packet.
func (b *Buf) Payload() []byte {
	end := b.PayloadOffset + b.PayloadLen
	if b.PayloadOffset < 0 || b.PayloadLen < 0 || end > b.N {
		return nil
	}
	return b.Data[b.PayloadOffset:end]
}

// SetBytes copies p into Data and sets N. It returns false, leaving N at
// 0, when p does not fit.
func (b *Buf) SetBytes(p []byte) bool {
	if len(p) > Size {
		b.N = 0
		return false
	}
	b.N = copy(b.Data[:], p)
	return true
}

// Refs is the current number of references, for tests and assertions.
func (b *Buf) Refs() int32 { return b.refs.Load() }

// pool is the free list. sync.Pool keeps per-P caches, so a Get on the
// reader goroutine and a Release on an egress goroutine touch no shared lock
// in steady state, and storing a *Buf in its interface does not allocate.
var pool = sync.Pool{New: func() any {
	b := new(Buf)
	b.Meta = NoMeta
	return b
}}

// doubleReleases counts Release calls on a Buf with no references left.
var doubleReleases atomic.Uint64

// Get returns a Buf with one reference, N = 0 and NoMeta. Data holds
// whatever the previous user left: only Data[:N] is meaningful.
func Get() *Buf {
	b := pool.Get().(*Buf)
	b.refs.Store(1)
	return b
}

// Ref adds a reference for a new holder. Call it before handing b over (for
// example before Queue.TryPush), never after the caller's own Release.
func (b *Buf) Ref() { b.refs.Add(1) }

// Release gives up one reference; the last one returns b to the pool.
//
// Releasing more often than referencing is a bug that would hand one buffer
// to two users. Production builds count it (DoubleReleases) and leave the
// buffer out of the pool; builds with the packetdebug tag panic, and poison
// Data on every return to the pool so that a use after release shows.
func (b *Buf) Release() {
	switch n := b.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		doubleReleases.Add(1)
		if debug {
			panic("packet: Buf released more often than referenced")
		}
		return
	}
	b.N = 0
	b.Meta = NoMeta
	if debug {
		poison(b)
	}
	pool.Put(b)
}

// DoubleReleases is the number of Release calls that found no reference
// left, since the process started. Anything but 0 is a bug.
func DoubleReleases() uint64 { return doubleReleases.Load() }

func poison(b *Buf) {
	for i := range b.Data {
		b.Data[i] = 0xdb
	}
}
