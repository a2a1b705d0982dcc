package policy

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/weirhq/weir/internal/bytesize"
)

// resource is one load a broker target applies to.
type resource struct {
	name   string
	target float64 // per broker
	value  func(Sample) float64
	unit   func(float64) string
}

// resources lists the targets the policy sets. Storage counts only once a
// volume is at the storage maximum (before that, storage grows instead).
func resources(in Input, b *BrokerPolicy) []resource {
	t := b.Targets
	var rs []resource
	add := func(name string, target float64, value func(Sample) float64, unit func(float64) string) {
		if target > 0 {
			rs = append(rs, resource{name, target, value, unit})
		}
	}
	pct := func(v float64) string { return trim(v) + "%" }
	rate := func(v float64) string { return bytesize.Human(int64(v)) + "/s" }
	count := func(v float64) string { return trim(v) }
	add("cpu", t.CPUPercent, func(s Sample) float64 { return s.CPUPercent }, pct)
	add("network in", t.NetworkIn, func(s Sample) float64 { return s.NetworkIn }, rate)
	add("network out", t.NetworkOut, func(s Sample) float64 { return s.NetworkOut }, rate)
	add("partitions", t.Partitions, func(s Sample) float64 { return float64(s.Partitions) }, count)
	add("leaders", t.Leaders, func(s Sample) float64 { return float64(s.Leaders) }, count)
	if st := in.Policy.Storage; t.StorageAtMaximum && st != nil && storageAtMaximum(in, st) {
		add("storage", st.TargetUtilization/100*float64(st.MaxSize),
			func(s Sample) float64 { return float64(s.StorageUsed) }, func(v float64) string { return bytesize.Human(int64(v)) })
	}
	return rs
}

func storageAtMaximum(in Input, s *StoragePolicy) bool {
	for _, b := range allBrokers(in) {
		if in.sizeOf(b) >= s.MaxSize {
			return true
		}
	}
	return false
}

func trim(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// point is the cluster's load at one time: each broker's last sample at or
// before it.
type point struct {
	at      time.Time
	samples []Sample
}

// points returns the evaluation points up to now, oldest first: every time a
// sample was taken at which every broker has reported.
func points(in Input) []point {
	var times []time.Time
	for _, ss := range in.Metrics {
		for _, s := range ss {
			if !s.At.After(in.Now) {
				times = append(times, s.At)
			}
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	times = slices.Compact(times)
	var out []point
	for _, t := range times {
		if p, ok := pointAt(in, t); ok {
			out = append(out, p)
		}
	}
	return out
}

func pointAt(in Input, t time.Time) (point, bool) {
	p := point{at: t}
	for _, b := range sortedBrokers(in.Metrics) {
		s, ok := latest(in.Metrics[b], t)
		if !ok {
			return point{}, false
		}
		p.samples = append(p.samples, s)
	}
	return p, true
}

// window returns the points that cover [now-d, now]: those inside it and the
// last one before it. ok is false when no point reaches back to now-d.
func window(ps []point, now time.Time, d time.Duration) ([]point, bool) {
	start := now.Add(-d)
	i := slices.IndexFunc(ps, func(p point) bool { return p.at.After(start) })
	switch {
	case i == 0 || len(ps) == 0:
		return nil, false
	case i < 0:
		return ps[len(ps)-1:], true
	}
	return ps[i-1:], true
}

// need is HPA's replica calculation for one resource at one point:
// ceil(total / target per broker), or the current count when the ratio of the
// average to the target is within the tolerance.
type need struct {
	count int
	ratio float64 // average per broker / target
	peak  float64 // highest broker / target
}

func (r resource) need(p point, n int, tolerance float64) need {
	var total, peak float64
	for _, s := range p.samples {
		v := r.value(s)
		total += v
		peak = max(peak, v/r.target)
	}
	ratio := total / float64(n) / r.target
	if math.Abs(ratio-1) <= tolerance/100 {
		return need{count: n, ratio: ratio, peak: peak}
	}
	return need{count: max(1, int(math.Ceil(total/r.target-1e-9))), ratio: ratio, peak: peak}
}
