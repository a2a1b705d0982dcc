package log

import "sync/atomic"

// Usage counts the segment bytes of every log that shares it: the broker
// keeps one per log dir and reads it on every produce, so it is one atomic
// add per change and one load per read, never a walk over partitions.
//
// A log joins its Usage with its recovered size when Open succeeds, and
// from then on moves it with every append (leader or follower), retention
// and DeleteRecords deletion, compaction swap and truncation; Close (and so
// Delete) takes the log's bytes off. A roll adds nothing: a new segment is
// empty. Only segment bytes are counted, the
// figure Size and Kafka's Log Size report: indexes, producer snapshots and
// checkpoints are not, nor the files of a deleted segment a reader still
// holds open.
type Usage struct{ n atomic.Int64 }

// Bytes is the sum of the sizes of the logs counted.
func (u *Usage) Bytes() int64 {
	if u == nil {
		return 0
	}
	return u.n.Load()
}

func (u *Usage) add(d int64) {
	if u != nil {
		u.n.Add(d)
	}
}

// addSize moves the log's size, and its Usage with it. Caller holds l.mu,
// or the log is not yet shared (Open).
func (l *Log) addSize(d int64) {
	l.size.Add(d)
	l.usage.add(d)
}

// joinUsage starts counting the log in u, at the end of a successful Open.
func (l *Log) joinUsage(u *Usage) {
	l.usage = u
	u.add(l.size.Load())
}

// leaveUsageLocked takes the log's bytes off its Usage (Close). Caller
// holds l.mu.
func (l *Log) leaveUsageLocked() {
	l.usage.add(-l.size.Load())
	l.usage = nil
}
