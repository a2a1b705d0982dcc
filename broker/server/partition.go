package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metrics"
)

// partition is one hosted partition: its log and the fetches parked on it.
//
// On a single broker this broker leads every partition, the ISR is itself,
// and the high watermark is the log end offset. The replication issue
// turns these into replicated state; handlers already go through
// highWatermark and leaderEpoch so that change stays local.
type partition struct {
	topic atomic.Pointer[topic]
	index int32
	log   *wlog.Log

	lastFlush atomic.Int64 // unix ms of the last time-based flush

	waitMu  sync.Mutex
	waiters map[chan struct{}]struct{}
}

func newPartition(t *topic, i int32, l *wlog.Log) *partition {
	p := &partition{index: i, log: l, waiters: map[chan struct{}]struct{}{}}
	p.topic.Store(t)
	return p
}

func (p *partition) name() string { return p.topic.Load().name }

func (p *partition) settings() *config.TopicSettings { return p.topic.Load().settings.Load() }

// highWatermark is the offset below which records are committed.
func (p *partition) highWatermark() int64 { return p.log.LogEndOffset() }

// leaderEpoch is the partition's current leader epoch.
func (p *partition) leaderEpoch() int32 { return 0 }

// addWaiter registers w to be signalled on the next append.
func (p *partition) addWaiter(w chan struct{}) {
	p.waitMu.Lock()
	p.waiters[w] = struct{}{}
	p.waitMu.Unlock()
}

func (p *partition) removeWaiter(w chan struct{}) {
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

// maintain rolls by segment.ms, flushes by flush.ms and, when retention is
// set, enforces retention.ms/retention.bytes.
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
		out = append(out, metrics.PartitionStat{
			Topic: p.name(), Partition: p.index, Size: p.log.Size(),
			LogStartOffset: p.log.LogStartOffset(), LogEndOffset: p.log.LogEndOffset(),
			HighWatermark: p.highWatermark(), Segments: p.log.NumSegments(),
			Leader: true, Replicas: 1, ISR: 1, MinISR: int(p.settings().MinInsyncReplicas),
		})
	}
	return out
}

// ClusterStats implements metrics.PartitionSource.
func (b *Broker) ClusterStats() metrics.ClusterStat {
	b.mu.RLock()
	defer b.mu.RUnlock()
	cs := metrics.ClusterStat{ActiveController: true, Topics: len(b.mu.topics)}
	for _, t := range b.mu.topics {
		cs.Partitions += len(t.partitions)
	}
	return cs
}
