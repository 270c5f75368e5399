package packet

import (
	"sync"
	"testing"
)

func TestBufLifecycle(t *testing.T) {
	b := Get()
	if b.Refs() != 1 || b.N != 0 || b.Meta != NoMeta {
		t.Fatalf("fresh Buf: refs %d, N %d, meta %+v", b.Refs(), b.N, b.Meta)
	}
	if !b.SetBytes([]byte{1, 2, 3, 4, 5}) {
		t.Fatal("SetBytes refused 5 bytes")
	}
	b.Seq64, b.AudioLevel, b.Encoding, b.Keyframe = 7, 30, 2, true
	b.Ref()
	b.Ref()
	if b.Refs() != 3 {
		t.Fatalf("refs %d after two Ref, want 3", b.Refs())
	}
	b.Release()
	b.Release()
	if b.Refs() != 1 || string(b.Bytes()) != "\x01\x02\x03\x04\x05" || b.Seq64 != 7 {
		t.Fatalf("after two of three releases: refs %d, bytes %x, seq %d", b.Refs(), b.Bytes(), b.Seq64)
	}
	b.Release()
	// b is back in the pool: the reset happened before Put.
	if b.N != 0 || b.Meta != NoMeta {
		t.Fatalf("released Buf not reset: N %d, meta %+v", b.N, b.Meta)
	}
}

func TestBufSetBytesTooLong(t *testing.T) {
	b := Get()
	defer b.Release()
	if b.SetBytes(make([]byte, Size+1)) || b.N != 0 {
		t.Fatalf("SetBytes(%d bytes) accepted, N %d", Size+1, b.N)
	}
	if !b.SetBytes(make([]byte, Size)) || b.N != Size {
		t.Fatalf("SetBytes(%d bytes) refused, N %d", Size, b.N)
	}
}

func TestBufPayload(t *testing.T) {
	tests := []struct {
		name      string
		n, off, l int
		want      []byte
	}{
		{"whole", 6, 0, 6, []byte{0, 1, 2, 3, 4, 5}},
		{"middle", 6, 2, 3, []byte{2, 3, 4}},
		{"empty", 6, 6, 0, []byte{}},
		{"past end", 6, 4, 3, nil},
		{"negative offset", 6, -1, 2, nil},
		{"negative length", 6, 2, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Get()
			defer b.Release()
			b.SetBytes([]byte{0, 1, 2, 3, 4, 5}[:tt.n])
			b.PayloadOffset, b.PayloadLen = tt.off, tt.l
			got := b.Payload()
			if (got == nil) != (tt.want == nil) || string(got) != string(tt.want) {
				t.Errorf("Payload() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBufDoubleReleaseCounted(t *testing.T) {
	if debug {
		t.Skip("the packetdebug build panics instead; see TestBufDoubleReleasePanics")
	}
	before := DoubleReleases()
	b := Get()
	b.Release()
	b.Release() // the bug under test
	if got := DoubleReleases() - before; got != 1 {
		t.Fatalf("DoubleReleases grew by %d, want 1", got)
	}
}

func TestBufNoAllocs(t *testing.T) {
	pkt := make([]byte, 1200)
	// Warm the pool's per-P cache, then the steady state must not allocate.
	Get().Release()
	if n := testing.AllocsPerRun(1000, func() {
		b := Get()
		b.SetBytes(pkt)
		b.Ref()
		b.Release()
		b.Release()
	}); n != 0 {
		t.Fatalf("Get/Ref/Release: %v allocs per run, want 0", n)
	}
}

// TestBufConcurrentRelease shares buffers among goroutines the way ingress
// and several egress goroutines do; under -race it checks that the contents
// written before Ref are visible to every holder and that the last Release
// resets exactly once.
func TestBufConcurrentRelease(t *testing.T) {
	const holders, rounds = 4, 2000
	chans := make([]chan *Buf, holders)
	var wg sync.WaitGroup
	errs := make(chan string, holders)
	for i := range chans {
		chans[i] = make(chan *Buf, 16)
		wg.Add(1)
		go func(c chan *Buf) {
			defer wg.Done()
			for b := range c {
				if b.N != 4 || b.Data[0] != byte(b.Seq64) {
					select {
					case errs <- "holder saw a buffer it did not expect":
					default:
					}
				}
				b.Release()
			}
		}(chans[i])
	}
	before := DoubleReleases()
	for r := 0; r < rounds; r++ {
		b := Get()
		b.SetBytes([]byte{byte(r), 0, 0, 0})
		b.Seq64 = uint64(byte(r))
		for _, c := range chans {
			b.Ref()
			c <- b
		}
		b.Release()
	}
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if DoubleReleases() != before {
		t.Errorf("double releases during the run")
	}
}

func BenchmarkGetRelease(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Get().Release()
	}
}

// BenchmarkFanOut is one stored packet shared with 10 subscribers: copy in
// once, ten Refs, eleven Releases.
func BenchmarkFanOut(b *testing.B) {
	pkt := make([]byte, 1200)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := Get()
		p.SetBytes(pkt)
		for j := 0; j < 10; j++ {
			p.Ref()
		}
		for j := 0; j < 11; j++ {
			p.Release()
		}
	}
}

func BenchmarkGetReleaseParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			Get().Release()
		}
	})
}
