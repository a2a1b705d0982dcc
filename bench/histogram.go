package bench

import (
	"math"
	"math/bits"
	"time"
)

// histSubBits sets the precision of a Histogram: each power-of-two range of
// values is split into 2^histSubBits equal buckets, so a recorded value lands
// in a bucket at most 1/128 (0.8%) wider than itself.
const (
	histSubBits    = 7
	histSubBuckets = 1 << histSubBits
	histBuckets    = (63-histSubBits)*histSubBuckets + histSubBuckets // int64 values use 63 bits
)

// Histogram is a log-linear histogram of non-negative durations in the
// manner of HdrHistogram: constant memory, constant-time Record, bounded
// relative error. It is not safe for concurrent use; merge per-goroutine
// histograms with Merge.
type Histogram struct {
	counts [histBuckets]int64
	total  int64
	sum    int64
	min    int64
	max    int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{min: math.MaxInt64}
}

// bucketOf returns the bucket index holding v (v >= 0).
func bucketOf(v int64) int {
	if v < 2*histSubBuckets {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (histSubBits + 1)
	return (shift+1)*histSubBuckets + int(v>>shift) - histSubBuckets
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < 2*histSubBuckets {
		return int64(i)
	}
	shift := i/histSubBuckets - 1
	low := int64(i-shift*histSubBuckets) << shift
	return low + (int64(1) << shift) - 1
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += v
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of observations.
func (h *Histogram) Count() int64 { return h.total }

// Max returns the largest observation, 0 if there are none.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the average observation, 0 if there are none.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}

// Quantile returns the value at quantile q (0 < q <= 1): the smallest
// bucket bound with at least q of the observations at or below it, never
// more than the largest observation. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Latency is a summary of a Histogram, for reports.
type Latency struct {
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// Summary returns the percentiles reports print.
func (h *Histogram) Summary() Latency {
	return Latency{
		P50:  h.Quantile(0.50),
		P99:  h.Quantile(0.99),
		P999: h.Quantile(0.999),
		Max:  h.Max(),
		Mean: h.Mean(),
	}
}
