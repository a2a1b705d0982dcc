package monitor

import (
	"time"

	"github.com/weirhq/weir/agent/samples"
)

// Windows follow Cruise Control's MetricSampleAggregator: time is cut into
// windows of a fixed length, numbered from the Unix epoch; the window
// holding now is open and never counts; the last N completed windows are
// kept and older ones dropped. Each entity (a partition, a broker) keeps a
// ring of N+1 slots, one per window, reused as time moves on, so memory is
// bounded by entities × (N+1) whatever the sample rate.

// windowIndex is the number of the window t falls in.
func windowIndex(t time.Time, length time.Duration) int64 {
	return t.UnixMilli() / length.Milliseconds()
}

// windowStart is when window i begins.
func windowStart(i int64, length time.Duration) time.Time {
	return time.UnixMilli(i * length.Milliseconds()).UTC()
}

// slot is one window's accumulator A in a ring.
type slot[A any] struct {
	index int64 // the window it holds; -1 when empty
	acc   A
}

// ring is an entity's windows.
type ring[A any] []slot[A]

func newRing[A any](n int) ring[A] {
	r := make(ring[A], n)
	for i := range r {
		r[i].index = -1
	}
	return r
}

// at returns window i's accumulator for writing, emptying the slot if it
// held an older window.
func (r ring[A]) at(i int64) *A {
	s := &r[i%int64(len(r))]
	if s.index != i {
		*s = slot[A]{index: i}
	}
	return &s.acc
}

// get returns window i's accumulator, if the ring holds it.
func (r ring[A]) get(i int64) (A, bool) {
	s := r[i%int64(len(r))]
	return s.acc, s.index == i
}

// newest is the newest window the ring holds, -1 if none.
func (r ring[A]) newest() int64 {
	n := int64(-1)
	for _, s := range r {
		n = max(n, s.index)
	}
	return n
}

// partitionAcc sums one partition's samples in one window.
type partitionAcc struct {
	samples           int
	bytesSamples      int // samples that had byte rates
	bytesIn, bytesOut float64
	messagesIn        float64
}

// partitionSeries is one partition's windows and its latest size.
type partitionSeries struct {
	windows  ring[partitionAcc]
	size     int64
	sizeTime time.Time // zero: no sample had a size
}

// brokerAcc sums one broker's samples in one window.
type brokerAcc struct {
	samples    int
	cpuSamples int
	cpuCores   float64 // cores in use, summed over cpuSamples
}

// brokerSeries is one broker's windows and its latest sample (capacity).
type brokerSeries struct {
	windows ring[brokerAcc]
	latest  *samples.BrokerLoad
}

// tp names a partition.
type tp struct {
	topic     string
	partition int32
}

// windows holds every entity's windows. Not safe for concurrent use: the
// Monitor's mu guards it.
type windows struct {
	cfg        Config
	partitions map[tp]*partitionSeries
	brokers    map[int32]*brokerSeries
	counts     ring[int] // samples of any kind per partition window
}

func newWindows(cfg Config) *windows {
	return &windows{cfg: cfg, partitions: map[tp]*partitionSeries{}, brokers: map[int32]*brokerSeries{},
		counts: newRing[int](cfg.NumPartitionWindows + 1)}
}

// Rejection reasons of a sample's time.
const (
	reasonTooOld = "too_old"
	reasonFuture = "future"
)

// checkTime says why a sample at t cannot enter windows of this length and
// count as of now, or "".
func (w *windows) checkTime(t, now time.Time, length time.Duration, num int) string {
	if t.Sub(now) > w.cfg.MaxFutureSkew {
		return reasonFuture
	}
	if windowIndex(t, length) < windowIndex(now, length)-int64(num) {
		return reasonTooOld
	}
	return ""
}

// addPartition adds a partition sample; it returns a rejection reason or "".
func (w *windows) addPartition(p *samples.PartitionLoad, now time.Time) string {
	if why := w.checkTime(p.Time, now, w.cfg.PartitionWindow, w.cfg.NumPartitionWindows); why != "" {
		return why
	}
	k := tp{p.Topic, p.Partition}
	s := w.partitions[k]
	if s == nil {
		s = &partitionSeries{windows: newRing[partitionAcc](w.cfg.NumPartitionWindows + 1)}
		w.partitions[k] = s
	}
	i := windowIndex(p.Time, w.cfg.PartitionWindow)
	a := s.windows.at(i)
	a.samples++
	a.messagesIn += p.MessagesInPerSec
	if p.BytesInPerSec != nil && p.BytesOutPerSec != nil {
		a.bytesSamples++
		a.bytesIn += *p.BytesInPerSec
		a.bytesOut += *p.BytesOutPerSec
	}
	if p.SizeBytes != nil && !p.Time.Before(s.sizeTime) {
		s.size, s.sizeTime = *p.SizeBytes, p.Time
	}
	*w.counts.at(i)++
	return ""
}

// addBroker adds a broker sample; it returns a rejection reason or "".
func (w *windows) addBroker(b *samples.BrokerLoad, now time.Time) string {
	if why := w.checkTime(b.Time, now, w.cfg.BrokerWindow, w.cfg.NumBrokerWindows); why != "" {
		return why
	}
	s := w.brokers[b.BrokerID]
	if s == nil {
		s = &brokerSeries{windows: newRing[brokerAcc](w.cfg.NumBrokerWindows + 1)}
		w.brokers[b.BrokerID] = s
	}
	a := s.windows.at(windowIndex(b.Time, w.cfg.BrokerWindow))
	a.samples++
	if b.CPUPercent != nil {
		a.cpuSamples++
		a.cpuCores += *b.CPUPercent / 100 * w.sampleCores(b)
	}
	if s.latest == nil || !b.Time.Before(s.latest.Time) {
		s.latest = b
	}
	if i := windowIndex(b.Time, w.cfg.PartitionWindow); i >= windowIndex(now, w.cfg.PartitionWindow)-int64(w.cfg.NumPartitionWindows) {
		*w.counts.at(i)++
	}
	return ""
}

// sampleCores are the cores a broker sample's cpu_percent is a share of: a
// v1 sample does not say, so DefaultCPUCores.
func (w *windows) sampleCores(b *samples.BrokerLoad) float64 {
	if b.CPUCores > 0 {
		return b.CPUCores
	}
	return w.cfg.DefaultCPUCores
}

// completed lists the kept completed partition windows, oldest first.
func (w *windows) completed(now time.Time) []int64 {
	cur := windowIndex(now, w.cfg.PartitionWindow)
	out := make([]int64, 0, w.cfg.NumPartitionWindows)
	for i := cur - int64(w.cfg.NumPartitionWindows); i < cur; i++ {
		if i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// validIn reports whether partition k has enough samples in window i, or
// in both windows beside it: Cruise Control's AVG_ADJACENT extrapolation,
// so one window's gap (an agent restarting, a leader moving) does not
// invalidate a window; the load then averages the windows that have
// samples.
func (w *windows) validIn(k tp, i int64) bool {
	s := w.partitions[k]
	if s == nil {
		return false
	}
	enough := func(i int64) bool {
		a, ok := s.windows.get(i)
		return ok && a.samples >= w.cfg.MinSamplesPerPartitionWindow
	}
	return enough(i) || enough(i-1) && enough(i+1)
}

// brokerCPU is a broker's cores in use, averaged over its completed broker
// windows with enough samples; false when none has.
func (w *windows) brokerCPU(id int32, now time.Time) (float64, bool) {
	s := w.brokers[id]
	if s == nil {
		return 0, false
	}
	cur := windowIndex(now, w.cfg.BrokerWindow)
	var sum float64
	var n int
	for i := cur - int64(w.cfg.NumBrokerWindows); i < cur; i++ {
		a, ok := s.windows.get(i)
		if ok && a.samples >= w.cfg.MinSamplesPerBrokerWindow && a.cpuSamples > 0 {
			sum += a.cpuCores / float64(a.cpuSamples)
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// prune drops entities with no sample in the kept windows.
func (w *windows) prune(now time.Time) {
	oldestP := windowIndex(now, w.cfg.PartitionWindow) - int64(w.cfg.NumPartitionWindows)
	for k, s := range w.partitions {
		if s.windows.newest() < oldestP {
			delete(w.partitions, k)
		}
	}
	oldestB := windowIndex(now, w.cfg.BrokerWindow) - int64(w.cfg.NumBrokerWindows)
	for id, s := range w.brokers {
		if s.windows.newest() < oldestB {
			delete(w.brokers, id)
		}
	}
}
