package replication

import (
	"slices"
	"sync"
	"time"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/replica"
)

// Replica is one hosted partition's replication state on this broker: its
// log, the pure state machine (broker/replica) under its lock, and the
// requests parked on it (long-polling fetches, acks=all produces, offset
// commits) waiting for the log or the high watermark to move.
//
// Lock order: mu is never held while taking a log lock (callers read the
// log's atomics first); waitMu is taken after mu, never while holding it.
type Replica struct {
	topic string
	index int32
	log   *wlog.Log
	now   func() time.Time

	mu struct {
		sync.Mutex
		rep *replica.Partition
	}

	waitMu struct {
		sync.Mutex
		waiters map[chan struct{}]bool // true: a follower's fetch (WatchAppends)
	}
}

// NewReplica wraps an opened log (nil in tests that need no log); it
// serves nothing until an assignment gives it a role (Manager.Apply). now
// is the broker's clock.
func NewReplica(topic string, index int32, l *wlog.Log, self int32, now func() time.Time) *Replica {
	r := &Replica{topic: topic, index: index, log: l, now: now}
	r.mu.rep = replica.New(self)
	r.waitMu.waiters = map[chan struct{}]bool{}
	return r
}

// Topic is the partition's topic name.
func (r *Replica) Topic() string { return r.topic }

// Index is the partition's index.
func (r *Replica) Index() int32 { return r.index }

// Log is the partition's log.
func (r *Replica) Log() *wlog.Log { return r.log }

// SetHighWatermark starts the replica at a checkpointed high watermark
// (never past the log end).
func (r *Replica) SetHighWatermark(hw int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.rep.SetHighWatermark(hw)
}

// HighWatermark is the offset below which records are committed.
func (r *Replica) HighWatermark() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.rep.HighWatermark()
}

// LeaderState reports whether this broker leads the partition, its leader
// epoch, its high watermark and whether that has reached the start of the
// leader epoch (replica.HighWatermarkKnown), read together.
func (r *Replica) LeaderState() (leader bool, epoch int32, hw int64, hwKnown bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.mu.rep
	return rep.Role() == replica.Leader, rep.LeaderEpoch(), rep.HighWatermark(), rep.HighWatermarkKnown()
}

// LeaderEpoch is the partition's current leader epoch.
func (r *Replica) LeaderEpoch() int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.rep.LeaderEpoch()
}

// IsLeader reports whether this broker leads the partition.
func (r *Replica) IsLeader() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.rep.Role() == replica.Leader
}

// InISR reports whether id is in the maximal ISR.
func (r *Replica) InISR(id int32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.mu.rep.MaximalISR(), id)
}

// ISRState returns the ISR size counted for acks=all (the maximal ISR)
// and the replica count.
func (r *Replica) ISRState() (isr, replicas int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.mu.rep.MaximalISR()), len(r.mu.rep.Assignment().Replicas)
}

// Appended tells the replication state the leader's log grew, and wakes
// parked requests: followers and consumers may have something new.
func (r *Replica) Appended() {
	r.RecordAppend()
	r.WakeAll()
}

// RecordAppend is Appended without the wake-up, for a request that appends
// to several partitions: it records every append first and then wakes
// each partition's parked requests (WakeAll), so a woken fetch sees the
// whole request, high watermarks included.
func (r *Replica) RecordAppend() {
	leo := r.log.LogEndOffset()
	r.mu.Lock()
	r.mu.rep.LocalAppend(leo)
	r.mu.Unlock()
	Trace("append", r.topic, r.index, leo, 0, -1)
}

// NextISRChange is the ISR change this leader wants to ask the controller
// for, if any (replica.Partition.NextISRChange), as of now on the broker's
// clock. Without shrinks it skips a partition whose ISR is whole and
// settled, which only the lag check could change: the broker scans for
// lagging followers less often than for ones that caught up.
func (r *Replica) NextISRChange(now time.Time, lagMax time.Duration, eligible func(int32) bool, shrinks bool) (replica.ISRChange, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !shrinks && r.mu.rep.ISRWhole() {
		return replica.ISRChange{}, false
	}
	return r.mu.rep.NextISRChange(now, lagMax, eligible)
}

// ISRChangeDone applies the controller's answer to an ISR change (nil isr:
// the controller rejected it unapplied, and a new one is proposed after a
// backoff); the answer carries the partition's leader epoch and partition
// epoch after the change. It returns replica.Partition.TakeSettled's
// answer: -1 when the change shrank the ISR, +1 when it expanded it.
func (r *Replica) ISRChangeDone(isr []int32, leaderEpoch, partitionEpoch int32) int {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if isr == nil {
		r.mu.rep.ISRChangeFailed(now)
		return 0
	}
	r.mu.rep.ISRCommitted(isr, leaderEpoch, partitionEpoch, now)
	return r.mu.rep.TakeSettled()
}

// ISRChangeUnsettled keeps an ISR change whose outcome is unknown pending
// (replica.Partition.ISRChangeUnsettled), sending it again if resend.
func (r *Replica) ISRChangeUnsettled(resend bool) {
	now := r.now()
	r.mu.Lock()
	r.mu.rep.ISRChangeUnsettled(now, resend)
	r.mu.Unlock()
}

// Truncated tells the replication state the log was cut back.
func (r *Replica) Truncated() {
	leo := r.log.LogEndOffset()
	r.mu.Lock()
	r.mu.rep.Truncated(leo)
	r.mu.Unlock()
}

// FollowerHighWatermark takes the leader's high watermark from a fetch
// response (never past the local log end).
func (r *Replica) FollowerHighWatermark(hw int64) {
	leo := r.log.LogEndOffset()
	r.mu.Lock()
	r.mu.rep.FollowerHighWatermark(hw, leo)
	r.mu.Unlock()
}

// FollowerFetched records a follower's fetch offset on the leader; if the
// high watermark moved, parked consumers and acks=all produces wake.
func (r *Replica) FollowerFetched(replicaID int32, fetchOffset int64, now time.Time) {
	leo := r.log.LogEndOffset()
	r.mu.Lock()
	moved := r.mu.rep.FollowerFetch(replicaID, fetchOffset, leo, now)
	hw := r.mu.rep.HighWatermark()
	r.mu.Unlock()
	Trace("fetch_in", r.topic, r.index, fetchOffset, 0, replicaID)
	if moved {
		Trace("hw", r.topic, r.index, hw, 0, replicaID)
		r.wake(false)
	}
}

// Watch registers w to be signalled on the next append, high watermark
// move or role change.
func (r *Replica) Watch(w chan struct{}) {
	r.waitMu.Lock()
	r.waitMu.waiters[w] = false
	r.waitMu.Unlock()
}

// WatchAppends is Watch for a follower's fetch, which reads to the log
// end, not the high watermark: a high watermark move does not signal it.
// The follower learns the new high watermark from its next answer, after
// the next append or its MaxWait, as Kafka's followers do (a follower's
// DelayedFetch completes on new bytes, not on a high watermark move).
// Waking it there cost the leader two spurious wake-ups and fetch passes
// per acks=all produce, one per parked follower.
func (r *Replica) WatchAppends(w chan struct{}) {
	r.waitMu.Lock()
	r.waitMu.waiters[w] = true
	r.waitMu.Unlock()
}

// Unwatch forgets w.
func (r *Replica) Unwatch(w chan struct{}) {
	r.waitMu.Lock()
	delete(r.waitMu.waiters, w)
	r.waitMu.Unlock()
}

// Watched is the number of parked requests (for tests).
func (r *Replica) Watched() int {
	r.waitMu.Lock()
	defer r.waitMu.Unlock()
	return len(r.waitMu.waiters)
}

// WakeAll signals every parked request (after an append, a role change or
// a delete).
func (r *Replica) WakeAll() { r.wake(true) }

// wake signals the parked requests: every one with appends, else those
// not parked by WatchAppends.
func (r *Replica) wake(appends bool) {
	r.waitMu.Lock()
	for w, appendsOnly := range r.waitMu.waiters {
		if appendsOnly && !appends {
			continue
		}
		select {
		case w <- struct{}{}:
		default:
		}
	}
	r.waitMu.Unlock()
}

// State runs fn on the state machine under the replica's lock, for tests
// that set a partition up by hand.
func (r *Replica) State(fn func(*replica.Partition)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.mu.rep)
}
