package kafka

import (
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

// DefaultWindow is how much end-offset history the agent keeps per partition.
const DefaultWindow = 15 * time.Minute

// maxSamples bounds the history per partition whatever the interval.
const maxSamples = 64

// TP names a partition.
type TP struct {
	Topic     string
	Partition int32
}

// Sample is a partition's log end offset at a time.
type Sample struct {
	At  time.Time
	End int64
}

// History keeps a short window of end-offset samples per partition, to
// estimate produce rates and consumer time lag. One goroutine uses it.
type History struct {
	window  time.Duration
	samples map[TP][]Sample // oldest first
}

// NewHistory keeps samples for window (DefaultWindow if 0).
func NewHistory(window time.Duration) *History {
	if window <= 0 {
		window = DefaultWindow
	}
	return &History{window: window, samples: map[TP][]Sample{}}
}

// Add records end at now and returns the produce rate over the window, in
// records per second (0 with fewer than two samples). An end offset below
// the previous one (the topic was recreated) starts the history afresh.
func (h *History) Add(tp TP, now time.Time, end int64) float64 {
	s := h.samples[tp]
	if n := len(s); n > 0 && end < s[n-1].End {
		s = s[:0]
	}
	s = append(s, Sample{now, end})
	cut := 0
	for cut < len(s)-2 && (now.Sub(s[cut].At) > h.window || len(s)-cut > maxSamples) {
		cut++
	}
	s = append(s[:0], s[cut:]...)
	h.samples[tp] = s
	return rate(s)
}

// Retain forgets partitions that are no longer in topics.
func (h *History) Retain(_ time.Time, topics []snapshot.Topic) {
	keep := make(map[TP]bool, len(h.samples))
	for _, t := range topics {
		for _, p := range t.Partitions {
			keep[TP{t.Name, p.Partition}] = true
		}
	}
	for tp := range h.samples {
		if !keep[tp] {
			delete(h.samples, tp)
		}
	}
}

// TimeLagMs estimates a consumer's time lag on tp: see EstimateTimeLag.
func (h *History) TimeLagMs(tp TP, committed int64, now time.Time) int64 {
	return EstimateTimeLag(h.samples[tp], committed, now)
}

// EstimateTimeLag estimates, in milliseconds, how long ago the partition's
// end offset was at committed: the age of the oldest record the group has
// not consumed, as kafka-lag-exporter estimates it.
//
//   - committed at or past the newest end offset: 0.
//   - committed within the window: interpolate linearly between the two
//     samples whose end offsets bracket it, and return now minus that time.
//   - committed older than the window: extrapolate back from the oldest
//     sample at the window's produce rate (lag / rate, measured from there);
//     if nothing was produced over the window, the end offset has been past
//     committed for the whole window at least, so return the window's age (a
//     lower bound).
//   - fewer than two samples and a lag: -1, unknown.
func EstimateTimeLag(samples []Sample, committed int64, now time.Time) int64 {
	n := len(samples)
	if n == 0 {
		return -1
	}
	if committed >= samples[n-1].End {
		return 0
	}
	if n < 2 {
		return -1
	}
	for i := n - 2; i >= 0; i-- {
		a, b := samples[i], samples[i+1]
		if a.End <= committed { // the end offset passed committed between a and b
			frac := float64(committed-a.End) / float64(b.End-a.End)
			at := a.At.Add(time.Duration(frac * float64(b.At.Sub(a.At))))
			return max(now.Sub(at).Milliseconds(), 0)
		}
	}
	first := samples[0]
	if r := rate(samples); r > 0 {
		back := time.Duration(float64(first.End-committed) / r * float64(time.Second))
		return now.Sub(first.At.Add(-back)).Milliseconds()
	}
	return now.Sub(first.At).Milliseconds()
}

// rate is the end offset's growth per second over samples.
func rate(s []Sample) float64 {
	if len(s) < 2 {
		return 0
	}
	first, last := s[0], s[len(s)-1]
	dt := last.At.Sub(first.At).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(last.End-first.End) / dt
}
