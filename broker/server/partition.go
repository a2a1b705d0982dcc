package server

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metrics"
	"github.com/weirhq/weir/broker/replica"
)

// partition is one hosted partition: its log, its replication state and
// the requests parked on it (long-polling fetches, acks=all produces).
//
// The replication state (broker/replica) decides the role, leader epoch,
// ISR and high watermark; handlers go through the methods below.
type partition struct {
	topic atomic.Pointer[topic]
	index int32
	log   *wlog.Log

	lastFlush atomic.Int64 // unix ms of the last time-based flush

	repMu sync.Mutex
	rep   *replica.Partition

	waitMu  sync.Mutex
	waiters map[chan struct{}]struct{}

	// parks times the acks=all produces parked here (their RemoteTimeMs);
	// nil in tests that build partitions by hand.
	parks *metrics.Parks
}

// newPartition wraps an opened log; it serves nothing until metadata
// gives it a role (reconcile.go).
func newPartition(t *topic, i int32, l *wlog.Log, self int32) *partition {
	p := &partition{index: i, log: l, rep: replica.New(self), waiters: map[chan struct{}]struct{}{}}
	p.topic.Store(t)
	return p
}

// highWatermark is the offset below which records are committed.
func (p *partition) highWatermark() int64 {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	return p.rep.HighWatermark()
}

// leaderState reports whether this broker leads the partition, its leader
// epoch, its high watermark and whether that has reached the start of the
// leader epoch (replica.HighWatermarkKnown), read together.
func (p *partition) leaderState() (leader bool, epoch int32, hw int64, hwKnown bool) {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	return p.rep.Role() == replica.Leader, p.rep.LeaderEpoch(), p.rep.HighWatermark(), p.rep.HighWatermarkKnown()
}

// leaderEpoch is the partition's current leader epoch.
func (p *partition) leaderEpoch() int32 {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	return p.rep.LeaderEpoch()
}

// isLeader reports whether this broker leads the partition.
func (p *partition) isLeader() bool {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	return p.rep.Role() == replica.Leader
}

// inISR reports whether replica is in the maximal ISR.
func (p *partition) inISR(replica int32) bool {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	return slices.Contains(p.rep.MaximalISR(), replica)
}

// isrState returns the ISR size counted for acks=all (the maximal ISR)
// and the replica count.
func (p *partition) isrState() (isr, replicas int) {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	return len(p.rep.MaximalISR()), len(p.rep.Assignment().Replicas)
}

// appended tells the replication state the leader's log grew, and wakes
// parked requests: followers and consumers may have something new.
func (p *partition) appended() {
	leo := p.log.LogEndOffset()
	p.repMu.Lock()
	p.rep.LocalAppend(leo)
	p.repMu.Unlock()
	p.wakeAll()
}

// isrChangeDone applies the controller's answer to an ISR change (nil isr:
// it failed and will be retried); the answer carries the partition's leader
// epoch and partition epoch after the change.
func (p *partition) isrChangeDone(isr []int32, leaderEpoch, partitionEpoch int32) {
	p.repMu.Lock()
	defer p.repMu.Unlock()
	if isr == nil {
		p.rep.ISRChangeFailed(time.Now())
		return
	}
	p.rep.ISRCommitted(isr, leaderEpoch, partitionEpoch, time.Now())
}

// truncated tells the replication state the log was cut back.
func (p *partition) truncated() {
	leo := p.log.LogEndOffset()
	p.repMu.Lock()
	p.rep.Truncated(leo)
	p.repMu.Unlock()
}

// followerHighWatermark takes the leader's high watermark from a fetch
// response (never past the local log end).
func (p *partition) followerHighWatermark(hw int64) {
	leo := p.log.LogEndOffset()
	p.repMu.Lock()
	p.rep.FollowerHighWatermark(hw, leo)
	p.repMu.Unlock()
}

// followerFetched records a follower's fetch offset on the leader; if the
// high watermark moved, parked consumers and acks=all produces wake.
func (p *partition) followerFetched(replicaID int32, fetchOffset int64, now time.Time) {
	leo := p.log.LogEndOffset()
	p.repMu.Lock()
	moved := p.rep.FollowerFetch(replicaID, fetchOffset, leo, now)
	p.repMu.Unlock()
	if moved {
		p.wakeAll()
	}
}

func (p *partition) name() string { return p.topic.Load().name }

func (p *partition) settings() *config.TopicSettings { return p.topic.Load().settings.Load() }

// addWaiter registers w to be signalled on the next append, for a request
// that parks until the high watermark moves: an acks=all produce, whose
// wait is timed as its remote time, or an offset commit (not timed: it is
// not a produce's, and the group's request is not known here).
func (p *partition) addWaiter(w chan struct{}) {
	p.watch(w)
	if p.name() != offsetsTopic {
		p.parks.Start(w)
	}
}

func (p *partition) removeWaiter(w chan struct{}) {
	p.unwatch(w)
	p.parks.Stop(w)
}

// watch registers w to be signalled on the next append, untimed: a fetch
// times its own long poll.
func (p *partition) watch(w chan struct{}) {
	p.waitMu.Lock()
	p.waiters[w] = struct{}{}
	p.waitMu.Unlock()
}

func (p *partition) unwatch(w chan struct{}) {
	p.waitMu.Lock()
	delete(p.waiters, w)
	p.waitMu.Unlock()
}

// wakeAll signals every parked fetch (after an append, or a delete).
func (p *partition) wakeAll() {
	p.waitMu.Lock()
	for w := range p.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	p.waitMu.Unlock()
}

// clean compacts the log of a cleanup.policy=compact partition when it is
// due (the log decides: dirty ratio, compaction lags, tombstone horizons).
// It runs on the cleaner goroutine, never the maintenance one, so a long
// cleaning delays no roll, flush or retention.
func (p *partition) clean(b *Broker, now time.Time) {
	ts := p.settings()
	if !ts.Compact {
		return
	}
	res, err := p.log.Clean(now, wlog.CleanOptions{MaxOffset: p.highWatermark(), DeleteRetention: ts.DeleteRetentionMs,
		MinCompactionLag: ts.MinCompactionLagMs, MaxCompactionLag: ts.MaxCompactionLagMs, MinCleanableRatio: ts.MinCleanableDirtyRatio})
	if err != nil {
		b.logger.Error("compaction failed", "partition", p.name(), "index", p.index, "err", err)
	} else if res.Cleaned {
		b.logger.Info("compacted", "partition", p.name(), "index", p.index, "reason", res.Reason, "bytes_in", res.BytesIn, "bytes_out", res.BytesOut, "took", res.Took)
	}
}

// maintain rolls by segment.ms, flushes by flush.ms, compacts compacted
// topics when due and, when retention is set, enforces
// retention.ms/retention.bytes.
func (p *partition) maintain(b *Broker, now time.Time, retention bool) {
	if err := p.log.MaybeRoll(now); err != nil {
		b.logger.Error("rolling segment failed", "partition", p.name(), "index", p.index, "err", err)
	}
	if fm := p.settings().FlushMs; fm > 0 && fm < never {
		if now.UnixMilli()-p.lastFlush.Load() >= fm.Milliseconds() {
			p.lastFlush.Store(now.UnixMilli())
			if err := p.log.Flush(); err != nil {
				b.logger.Error("flush failed", "partition", p.name(), "index", p.index, "err", err)
			}
		}
	}
	if !retention || !p.settings().Delete {
		return
	}
	n, err := p.log.EnforceRetention(now)
	if err != nil {
		b.logger.Error("retention failed", "partition", p.name(), "index", p.index, "err", err)
	} else if n > 0 {
		b.logger.Info("deleted segments past retention", "partition", p.name(), "index", p.index, "segments", n, "log_start_offset", p.log.LogStartOffset())
	}
}

// PartitionStats implements metrics.PartitionSource.
func (b *Broker) PartitionStats() []metrics.PartitionStat {
	ps := b.allPartitions()
	out := make([]metrics.PartitionStat, 0, len(ps))
	for _, p := range ps {
		isr, reps := p.isrState()
		out = append(out, metrics.PartitionStat{
			Topic: p.name(), Partition: p.index, Size: p.log.Size(),
			LogStartOffset: p.log.LogStartOffset(), LogEndOffset: p.log.LogEndOffset(),
			HighWatermark: p.highWatermark(), Segments: p.log.NumSegments(),
			Leader: p.isLeader(), Replicas: reps, ISR: isr, MinISR: int(p.settings().MinInsyncReplicas),
		})
	}
	return out
}

// ClusterStats implements metrics.PartitionSource. As in Kafka, only the
// active controller reports the cluster-wide counts; other brokers report
// zeros, so sums over brokers are right.
func (b *Broker) ClusterStats() metrics.ClusterStat {
	if b.node == nil || !b.node.IsLeader() {
		return metrics.ClusterStat{}
	}
	img := b.node.Image()
	cs := metrics.ClusterStat{ActiveController: true, Topics: len(img.Topics)}
	for _, t := range img.Topics {
		cs.Partitions += len(t.Partitions)
		for _, p := range t.Partitions {
			if p.Leader < 0 || !img.IsLive(p.Leader) {
				cs.OfflinePartitions++
			}
		}
	}
	return cs
}
