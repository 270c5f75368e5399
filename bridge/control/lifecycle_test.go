package control

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// TestCloseLeaksNoGoroutines: Close expires every conference (closing transports), its workers
// exit, and later requests are refused.
func TestCloseLeaksNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	tr := &fakeTransports{}
	v := New(Options{Transports: tr, SCTPEnabled: true}) // real clock and timers
	for i := range 20 {
		m := fmt.Sprintf("m%d", i)
		mustDo(t, v, allocate(m, true, createEP("a")))
		mustDo(t, v, allocate(m, false, createEP("b")))
	}
	mustDo(t, v, &colibri2.ConferenceModify{MeetingID: "empty", Create: true})
	v.StartGracefulShutdown() // arms the max-duration timer
	if got := runtime.NumGoroutine(); got < 21 {
		t.Fatalf("%d goroutines with 21 conference workers", got)
	}
	v.Close()
	v.Close() // idempotent

	tr.mu.Lock()
	for _, x := range tr.created {
		if !x.isClosed() {
			t.Errorf("transport %s/%s not closed", x.confID, x.epID)
		}
	}
	tr.mu.Unlock()
	if stats := v.Stats(); statValue(stats, "conferences") != int64(0) || statValue(stats, "local_endpoints") != int64(0) {
		t.Fatalf("after Close: conferences=%v local_endpoints=%v", statValue(stats, "conferences"), statValue(stats, "local_endpoints"))
	}
	if _, err := do(t, v, allocate("late", true, createEP("a"))); !reflect.DeepEqual(err, errUnavailable("Videobridge is shutting down")) {
		t.Fatalf("request after Close: %v", err)
	}
	// Workers have called Done; give them a moment to return from run.
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before\n%s", got, before, buf[:runtime.Stack(buf, true)])
	}
}

// BenchmarkIdleConferenceMemory reports the heap held per idle conference with two endpoints
// on CredentialTransports (worker goroutine stack included), for sizing.
func BenchmarkIdleConferenceMemory(b *testing.B) {
	cert, err := dtls.NewCertificate()
	if err != nil {
		b.Fatal(err)
	}
	cands := []ice.Candidate{testCandidates[0], testCandidates[0]}
	const n = 1000
	for range b.N {
		b.StopTimer()
		v := New(Options{Transports: &CredentialTransports{Certificate: cert, Candidates: cands, AdvertisePrivate: true},
			SCTPEnabled: true, WebSockets: WebSocketOptions{Enabled: true, ServerID: "jvb1", Domains: []string{"meet.example.com"}}})
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		for i := range n {
			m := fmt.Sprintf("meeting-%d", i)
			a, c := createEP("a"), createEP("b")
			a.Sources, c.Sources = cameraSources("a", 10), cameraSources("b", 20)
			mustDo(b, v, allocate(m, true, a))
			mustDo(b, v, allocate(m, false, c))
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
		stacks := float64(m1.StackInuse) - float64(m0.StackInuse)
		b.ReportMetric(heap/n, "heap-B/conference")
		b.ReportMetric((heap+stacks)/n, "B/conference")
		v.Close()
		b.StartTimer()
	}
}
