// Package stats holds the bench harness's measurement primitives: a fixed-size latency
// histogram, per-stream loss and freeze tracking from clear RTP headers, and RFC 3550
// interarrival jitter. Everything is a plain value owned by one goroutine (or guarded by its
// owner's lock): recording never allocates.
package stats

import (
	"math"
	"math/bits"
	"time"
)

// Histogram layout: values in microseconds, exact below 64 µs, then 64 sub-buckets per power
// of two (relative error under 1.6 %), up to 2^31 µs (about 36 minutes); larger values land in
// the last bucket.
const (
	subBits    = 6
	subBuckets = 1 << subBits
	maxExp     = 31 - subBits
	numBuckets = (maxExp + 1) * subBuckets
)

// Histogram counts durations. The zero value is empty and ready.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64 // µs
	max    uint64 // µs, exact
	min    uint64 // µs, exact; valid when n > 0
}

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	e := bits.Len64(us) - subBits - 1 // us>>e is in [64, 127]
	if e > maxExp-1 {
		return numBuckets - 1
	}
	return (e+1)*subBuckets + int(us>>e) - subBuckets
}

// bucketValue is the midpoint of a bucket's range, in µs.
func bucketValue(i int) float64 {
	if i < subBuckets {
		return float64(i)
	}
	e := i/subBuckets - 1
	lo := uint64(i%subBuckets+subBuckets) << e
	return float64(lo) + float64(uint64(1)<<e-1)/2
}

// Record adds one duration; negative durations (clock steps) count as zero.
func (h *Histogram) Record(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.counts[bucketOf(us)]++
	if h.n == 0 || us < h.min {
		h.min = us
	}
	h.n++
	h.sum += us
	h.max = max(h.max, us)
}

// Merge adds every value of o.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Reset empties the histogram.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest recorded value (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) * time.Microsecond }

// Mean is the average of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum/h.n) * time.Microsecond
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by nearest rank, to the bucket's precision and
// clamped to the exact minimum and maximum; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := min(max(bucketValue(i), float64(h.min)), float64(h.max))
			return time.Duration(v * float64(time.Microsecond))
		}
	}
	return h.Max()
}

// Quantiles is a histogram summary in milliseconds, the unit the reports use.
type Quantiles struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summary returns the usual quantiles.
func (h *Histogram) Summary() Quantiles {
	return Quantiles{Count: h.n, Mean: ms(h.Mean()), P50: ms(h.Quantile(0.5)), P95: ms(h.Quantile(0.95)),
		P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}
