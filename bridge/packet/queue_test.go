package packet

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestQueueCapacity(t *testing.T) {
	tests := []struct{ in, want int }{{0, 2}, {1, 2}, {2, 2}, {3, 4}, {1000, 1024}, {1024, 1024}}
	for _, tt := range tests {
		if got := NewQueue[int](tt.in).Cap(); got != tt.want {
			t.Errorf("NewQueue(%d).Cap() = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestQueueSequence runs scripted push/pop operations on a queue of 4 and
// compares the whole trace: FIFO order, full at 4, empty after draining,
// and correct reuse of slots over several laps.
func TestQueueSequence(t *testing.T) {
	type op struct {
		push bool
		v    int
	}
	type result struct {
		v  int
		ok bool
	}
	ops := []op{
		{true, 1}, {true, 2}, {true, 3}, {true, 4}, {true, 5}, // 5 does not fit
		{false, 0}, {true, 6}, {false, 0}, {false, 0}, {false, 0}, {false, 0}, {false, 0},
		{true, 7}, {true, 8}, {false, 0}, {true, 9}, {false, 0}, {false, 0}, {false, 0},
	}
	want := []result{
		{1, true}, {2, true}, {3, true}, {4, true}, {5, false},
		{1, true}, {6, true}, {2, true}, {3, true}, {4, true}, {6, true}, {0, false},
		{7, true}, {8, true}, {7, true}, {9, true}, {8, true}, {9, true}, {0, false},
	}
	q := NewQueue[int](4)
	got := make([]result, 0, len(ops))
	for _, o := range ops {
		if o.push {
			got = append(got, result{o.v, q.TryPush(o.v)})
		} else {
			v, ok := q.Pop()
			got = append(got, result{v, ok})
		}
	}
	if len(got) != len(want) {
		t.Fatalf("trace length %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("op %d (%+v): got %+v, want %+v", i, ops[i], got[i], want[i])
		}
	}
	if q.Len() != 0 {
		t.Errorf("Len() = %d after draining", q.Len())
	}
}

func TestQueuePopClearsSlot(t *testing.T) {
	q := NewQueue[*Buf](2)
	b := Get()
	q.TryPush(b)
	q.Pop()
	if q.slots[0].val != nil {
		t.Error("popped slot still references the item")
	}
	b.Release()
}

// TestQueueConcurrent pushes from several producers while one consumer pops
// and waits; under -race it checks the memory ordering, and it checks that
// every item arrives exactly once and in order per producer.
func TestQueueConcurrent(t *testing.T) {
	const producers, perProducer = 4, 20000
	q := NewQueue[uint64](64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	drops := make([]int, producers)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				v := uint64(p)<<32 | uint64(i)
				// Retry a bounded number of times, then count a drop, as
				// ingress does on a full egress queue.
				pushed := false
				for try := 0; try < 1000 && !pushed; try++ {
					if pushed = q.TryPush(v); !pushed {
						time.Sleep(time.Microsecond)
					}
				}
				if !pushed {
					drops[p]++
				}
			}
		}(p)
	}
	go func() { wg.Wait(); close(stop) }()

	next := make([]int, producers)
	received := 0
	deadline := time.NewTimer(30 * time.Second) // a hang guard, not a timing assertion
	defer deadline.Stop()
	for done := false; !done; {
		for v, ok := q.Pop(); ok; v, ok = q.Pop() {
			p, i := int(v>>32), int(uint32(v))
			if i < next[p] {
				t.Fatalf("producer %d: item %d after %d", p, i, next[p]-1)
			}
			next[p] = i + 1
			received++
		}
		select {
		case <-deadline.C:
			t.Fatal("consumer did not finish")
		default:
		}
		if !q.Wait(stop, nil) {
			// Producers are done; drain what they published last.
			for _, ok := q.Pop(); ok; _, ok = q.Pop() {
				received++
			}
			done = true
		}
	}
	dropped := 0
	for _, d := range drops {
		dropped += d
	}
	if received+dropped != producers*perProducer {
		t.Fatalf("received %d + dropped %d, want %d", received, dropped, producers*perProducer)
	}
}

func TestQueueWait(t *testing.T) {
	t.Run("ready returns at once", func(t *testing.T) {
		q := NewQueue[int](4)
		q.TryPush(1)
		if !q.Wait(nil, nil) {
			t.Fatal("Wait = false with an item ready")
		}
	})
	t.Run("stop", func(t *testing.T) {
		q := NewQueue[int](4)
		stop := make(chan struct{})
		close(stop)
		if q.Wait(stop, nil) {
			t.Fatal("Wait = true after stop")
		}
		if q.parked.Load() != 0 {
			t.Fatal("consumer still marked parked")
		}
	})
	t.Run("wake", func(t *testing.T) {
		q := NewQueue[int](4)
		wake := make(chan time.Time, 1)
		wake <- time.Time{}
		if !q.Wait(nil, wake) {
			t.Fatal("Wait = false on wake")
		}
		if _, ok := q.Pop(); ok {
			t.Fatal("Pop found an item nobody pushed")
		}
	})
	t.Run("push rings", func(t *testing.T) {
		q := NewQueue[int](4)
		woke := make(chan bool)
		go func() { woke <- q.Wait(nil, nil) }()
		// Push only once the consumer has announced it is parking, so the
		// doorbell path (not the early ready check) is what wakes it.
		for i := 0; q.parked.Load() == 0; i++ {
			if i == 10000 {
				t.Fatal("consumer never parked")
			}
			time.Sleep(time.Millisecond)
		}
		q.TryPush(1)
		select {
		case ok := <-woke:
			if !ok {
				t.Fatal("Wait = false after a push")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("push did not wake the consumer")
		}
		if v, ok := q.Pop(); !ok || v != 1 {
			t.Fatalf("Pop = %d, %v", v, ok)
		}
	})
}

func TestQueueNoAllocs(t *testing.T) {
	q := NewQueue[*Buf](8)
	b := Get()
	defer b.Release()
	if n := testing.AllocsPerRun(1000, func() {
		q.TryPush(b)
		q.Pop()
	}); n != 0 {
		t.Fatalf("TryPush/Pop: %v allocs per run, want 0", n)
	}
}

func BenchmarkQueuePushPop(b *testing.B) {
	q := NewQueue[*Buf](1024)
	buf := Get()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q.TryPush(buf)
		q.Pop()
	}
}

// BenchmarkQueueContended measures TryPush with GOMAXPROCS producers while
// one consumer drains in a loop (ns/op is per pushed item). On a machine
// with few cores the producers and the consumer share them, so this mostly
// measures scheduling when the queue runs full.
func BenchmarkQueueContended(b *testing.B) {
	q := NewQueue[uint64](1024)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, ok := q.Pop(); ok; _, ok = q.Pop() {
			}
			if !q.Wait(stop, nil) {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for !q.TryPush(1) {
				runtime.Gosched() // full: let the consumer run
			}
		}
	})
	close(stop)
	<-done
}

// BenchmarkQueueWake is the worst case for the doorbell: the consumer parks
// after every item, so every push rings.
func BenchmarkQueueWake(b *testing.B) {
	q := NewQueue[int](16)
	ack := make(chan struct{})
	go func() {
		for i := 0; i < b.N; i++ {
			for {
				if _, ok := q.Pop(); ok {
					break
				}
				q.Wait(nil, nil)
			}
			ack <- struct{}{}
		}
	}()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q.TryPush(i)
		<-ack
	}
}
