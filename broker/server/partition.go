package server

import (
	"sync/atomic"
	"time"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metrics"
	"github.com/weirhq/weir/broker/replication"
)

// partition is one hosted partition: its log, its topic, and its
// replication state (broker/replication: role, leader epoch, ISR, high
// watermark and the requests parked on it). Handlers go through the
// methods below.
type partition struct {
	topic atomic.Pointer[topic]
	index int32
	log   *wlog.Log

	lastFlush atomic.Int64 // unix ms of the last time-based flush

	rep *replication.Replica

	// parks times the acks=all produces parked here (their RemoteTimeMs);
	// nil in tests that build partitions by hand.
	parks *metrics.Parks
}

// newPartition wraps an opened log; it serves nothing until metadata
// gives it a role (reconcile.go). now is the broker's clock.
func newPartition(t *topic, i int32, l *wlog.Log, self int32, now func() time.Time) *partition {
	p := &partition{index: i, log: l, rep: replication.NewReplica(t.name, i, l, self, now)}
	p.topic.Store(t)
	return p
}

// Replica implements replication.Partition.
func (p *partition) Replica() *replication.Replica { return p.rep }

// Throttled implements replication.Partition: the topic's throttled
// replicas, which change with its configs.
func (p *partition) Throttled() *replication.ThrottledReplicas {
	return p.topic.Load().throttled.Load()
}

// highWatermark is the offset below which records are committed.
func (p *partition) highWatermark() int64 { return p.rep.HighWatermark() }

// leaderState reports whether this broker leads the partition, its leader
// epoch, its high watermark and whether that has reached the start of the
// leader epoch, read together.
func (p *partition) leaderState() (leader bool, epoch int32, hw int64, hwKnown bool) {
	return p.rep.LeaderState()
}

// leaderEpoch is the partition's current leader epoch.
func (p *partition) leaderEpoch() int32 { return p.rep.LeaderEpoch() }

// isLeader reports whether this broker leads the partition.
func (p *partition) isLeader() bool { return p.rep.IsLeader() }

// isrState returns the ISR size counted for acks=all (the maximal ISR)
// and the replica count.
func (p *partition) isrState() (isr, replicas int) { return p.rep.ISRState() }

// appended tells the replication state the leader's log grew, and wakes
// parked requests.
func (p *partition) appended() { p.rep.Appended() }

// followerFetched records a follower's fetch offset on the leader.
func (p *partition) followerFetched(replicaID int32, fetchOffset int64, now time.Time) {
	p.rep.FollowerFetched(replicaID, fetchOffset, now)
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
func (p *partition) watch(w chan struct{}) { p.rep.Watch(w) }

// watchAppends is watch for a follower's fetch: not woken by high
// watermark moves (replication.Replica.WatchAppends).
func (p *partition) watchAppends(w chan struct{}) { p.rep.WatchAppends(w) }

func (p *partition) unwatch(w chan struct{}) { p.rep.Unwatch(w) }

// wakeAll signals every parked request (after an append, or a delete).
func (p *partition) wakeAll() { p.rep.WakeAll() }

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
