package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 255, 256, 257, 511, 512, 1000, 123456789, 1 << 40, 1<<62 + 12345} {
		i := bucketOf(v)
		high := bucketHigh(i)
		if high < v {
			t.Errorf("value %d: bucket %d ends at %d, below the value", v, i, high)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d: previous bucket %d ends at %d, not below the value", v, i-1, bucketHigh(i-1))
		}
		if rel := float64(high-v) / float64(max(v, 1)); rel > 1.0/histSubBuckets {
			t.Errorf("value %d: bucket end %d is %.4f above it, more than 1/%d", v, high, rel, histSubBuckets)
		}
	}
	for i := range histBuckets {
		if got := bucketOf(bucketHigh(i)); got != i {
			t.Fatalf("bucketOf(bucketHigh(%d)) = %d", i, got)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	// 1..100000 µs, shuffled: quantile q is q*100 ms.
	vals := make([]time.Duration, 100000)
	for i := range vals {
		vals[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	for _, v := range vals {
		h.Record(v)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 50 * time.Millisecond},
		{0.99, 99 * time.Millisecond},
		{0.999, 99900 * time.Microsecond},
		{1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		got := h.Quantile(tt.q)
		if got < tt.want || float64(got-tt.want) > float64(tt.want)/histSubBuckets {
			t.Errorf("Quantile(%v) = %v, want %v within 1/%d above", tt.q, got, tt.want, histSubBuckets)
		}
	}
	if h.Count() != 100000 || h.Max() != 100*time.Millisecond {
		t.Errorf("Count %d Max %v, want 100000 and 100ms", h.Count(), h.Max())
	}
	if m := h.Mean(); m < 50*time.Millisecond || m > 50*time.Millisecond+time.Microsecond {
		t.Errorf("Mean = %v, want 50ms", m)
	}
}

func TestHistogramSmallAndEmpty(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.5) != 0 || h.Summary() != (Latency{}) {
		t.Fatalf("empty histogram: %+v", h.Summary())
	}
	h.Record(-5) // counts as zero
	h.Record(3 * time.Millisecond)
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("p50 of {0, 3ms} = %v, want 0", got)
	}
	if got := h.Quantile(0.99); got != 3*time.Millisecond {
		t.Errorf("p99 of {0, 3ms} = %v, want 3ms (clamped to the max)", got)
	}
}

func TestHistogramMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := range 1000 {
		a.Record(time.Duration(i) * time.Microsecond)
		b.Record(time.Duration(i+1000) * time.Microsecond)
	}
	a.Merge(b)
	if a.Count() != 2000 {
		t.Fatalf("merged count %d, want 2000", a.Count())
	}
	if p := a.Quantile(0.5); p < 999*time.Microsecond || p > 1010*time.Microsecond {
		t.Errorf("merged p50 = %v, want about 1ms", p)
	}
	if a.Max() != 1999*time.Microsecond {
		t.Errorf("merged max = %v", a.Max())
	}
}
