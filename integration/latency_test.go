package integration

import (
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/integration/focus"
)

// BenchmarkAllocationRoundTrip measures Jicofo's view of an allocation: the round trip of an
// endpoint-create conference-modify through Prosody to the bridge process and back (and of
// the matching expire), reporting p50/p99 in microseconds.
//
//	go test ./integration -run '^$' -bench AllocationRoundTrip -benchtime 2000x
func BenchmarkAllocationRoundTrip(b *testing.B) {
	p := debianProsody(b, false)
	f := joinFocus(b, p)
	startBridge(b, debianConf(b, p)+"videobridge.health.require-valid-address = false\n")
	ctx := ctxT(b, 10*time.Minute)
	if _, err := f.WaitBridge(ctx, debianNick, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Do(ctx, debianNick, focus.AllocateRequest(meetingID, roomJID, true, "anchor", "anchor", true)); err != nil {
		b.Fatal(err)
	}
	create := make([]time.Duration, 0, b.N)
	expire := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := "ep" + strconv.Itoa(i)
		t0 := time.Now()
		if _, err := f.Do(ctx, debianNick, focus.AllocateRequest(meetingID, "", false, id, id, true)); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := f.Do(ctx, debianNick, focus.ExpireEndpointRequest(meetingID, id)); err != nil {
			b.Fatal(err)
		}
		create = append(create, t1.Sub(t0))
		expire = append(expire, time.Since(t1))
	}
	b.StopTimer()
	b.ReportMetric(quantile(create, 0.5), "create-p50-µs")
	b.ReportMetric(quantile(create, 0.99), "create-p99-µs")
	b.ReportMetric(quantile(expire, 0.5), "expire-p50-µs")
	b.ReportMetric(quantile(expire, 0.99), "expire-p99-µs")
}

func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(q*float64(len(s)-1))].Microseconds())
}
