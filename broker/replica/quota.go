package replica

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Replication throttles, as Kafka's ReplicationQuotaManager: the leader
// counts the bytes it sends to followers for throttled replicas
// (leader.replication.throttled.rate), the follower the bytes it fetches
// for them (follower.replication.throttled.rate). While the measured rate
// is over the limit, throttled partitions are left out: the leader returns
// no data for them, the follower does not ask for them. Unthrottled
// partitions are never held back, so reassignment traffic cannot starve
// normal replication.
//
// The rate is measured over quotaWindows windows of quotaWindow each (Kafka's
// replication.quota.window.num=11 and .size.seconds=1).

const (
	quotaWindows = 11
	quotaWindow  = time.Second
)

// Quota is a byte-rate limit measured over a sliding window. Safe for
// concurrent use. A zero or negative rate means unlimited.
type Quota struct {
	mu      sync.Mutex
	rate    int64 // bytes per second; <= 0: unlimited
	buckets [quotaWindows]int64
	starts  [quotaWindows]time.Time
}

// NewQuota returns a quota of rate bytes per second.
func NewQuota(rate int64) *Quota { return &Quota{rate: rate} }

// SetRate changes the limit (a dynamic broker config change).
func (q *Quota) SetRate(rate int64) {
	q.mu.Lock()
	q.rate = rate
	q.mu.Unlock()
}

// Rate is the configured limit.
func (q *Quota) Rate() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rate
}

// Record counts n bytes moved at now.
func (q *Quota) Record(n int64, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.bucket(now)
	q.buckets[i] += n
}

func (q *Quota) bucket(now time.Time) int {
	start := now.Truncate(quotaWindow)
	i := int(start.Unix() % quotaWindows)
	if !q.starts[i].Equal(start) {
		q.starts[i], q.buckets[i] = start, 0
	}
	return i
}

// Exceeded reports whether the measured rate is over the limit at now.
func (q *Quota) Exceeded(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.rate <= 0 {
		return false
	}
	return q.measuredLocked(now) > float64(q.rate)
}

// Measured is the rate over the window, in bytes per second.
func (q *Quota) Measured(now time.Time) float64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.measuredLocked(now)
}

// measuredLocked divides the bytes in the live windows by the time they
// span: the full windows before the current one plus the elapsed part of
// the current one (at least one window, so a burst at a window's start is
// not read as an enormous rate).
func (q *Quota) measuredLocked(now time.Time) float64 {
	cur := now.Truncate(quotaWindow)
	oldest := cur.Add(-(quotaWindows - 1) * quotaWindow)
	var total int64
	first := cur
	for i := range q.buckets {
		s := q.starts[i]
		if s.IsZero() || s.Before(oldest) || s.After(cur) {
			continue
		}
		total += q.buckets[i]
		if s.Before(first) {
			first = s
		}
	}
	span := now.Sub(first)
	if span < quotaWindow {
		span = quotaWindow
	}
	return float64(total) / span.Seconds()
}

// ThrottledReplicas is a parsed leader/follower.replication.throttled.replicas
// topic config: "*" (all) or "partition:broker" pairs.
type ThrottledReplicas struct {
	all   bool
	pairs map[[2]int32]bool
}

// ParseThrottledReplicas parses the config value; "" throttles nothing.
func ParseThrottledReplicas(v string) (ThrottledReplicas, error) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return ThrottledReplicas{all: true}, nil
	}
	t := ThrottledReplicas{pairs: map[[2]int32]bool{}}
	if v == "" {
		return t, nil
	}
	for _, item := range strings.Split(v, ",") {
		ps, bs, ok := strings.Cut(strings.TrimSpace(item), ":")
		p, err1 := strconv.ParseInt(ps, 10, 32)
		b, err2 := strconv.ParseInt(bs, 10, 32)
		if !ok || err1 != nil || err2 != nil || p < 0 || b < 0 {
			return ThrottledReplicas{}, fmt.Errorf("%q is not partition:broker", item)
		}
		t.pairs[[2]int32{int32(p), int32(b)}] = true
	}
	return t, nil
}

// Has reports whether the replica of partition on broker is throttled.
func (t ThrottledReplicas) Has(partition, broker int32) bool {
	return t.all || t.pairs[[2]int32{partition, broker}]
}
