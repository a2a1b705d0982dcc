package server

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/replica"
	"github.com/weirhq/weir/broker/replication"
)

// reconcile makes the hosted partitions match a metadata image, as a
// KRaft broker applies metadata deltas: it opens the logs of partitions
// newly assigned here, makes each replica leader or follower as the image
// says (starting or moving fetchers), and deletes the logs of partitions no
// longer assigned here and of deleted topics. It runs on the metadata
// goroutine only, one image at a time.
func (b *Broker) reconcile(img *quorum.Image) {
	now := b.now()
	seen := map[string]bool{}
	var roles []roleChange
	for _, name := range img.TopicNames() {
		if b.ctx.Err() != nil {
			// Stopping: the roles no longer matter (the logs are closed
			// next), and the stop waits for this goroutine.
			return
		}
		it, _ := img.Topic(name)
		seen[name] = true
		t := b.syncTopic(img, it)
		if t == nil {
			continue
		}
		for i := range it.Partitions {
			if rc, ok := b.syncPartition(t, int32(i), it.Partitions[i]); ok {
				roles = append(roles, rc)
			}
		}
	}
	roles = b.openPartitions(roles)
	b.applyRoles(roles, now)
	for _, t := range b.sortedTopics() {
		if !seen[t.name] {
			b.dropTopic(t)
		}
	}
	dyn := b.brokerDynamicConfigs(img)
	b.repl.ApplyConfigs(dyn)
	b.applyProvisioned(dyn)
}

// brokerDynamicConfigs are the dynamic configs in force on this broker:
// the cluster defaults overlaid with this broker's own.
func (b *Broker) brokerDynamicConfigs(img *quorum.Image) map[string]string {
	out := maps.Clone(img.BrokerConfigs)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, img.PerBrokerConfigs[b.cfg.NodeID])
	return out
}

// syncTopic returns the local topic for it, creating it or applying
// changed configs; a topic recreated under the same name (a new id) first
// has its old logs deleted.
func (b *Broker) syncTopic(img *quorum.Image, it *quorum.Topic) *topic {
	t := b.topic(it.Name)
	if t != nil && t.id != it.ID {
		b.dropTopic(t)
		t = nil
	}
	dyn := b.brokerDynamicConfigs(img)
	ts, err := b.cfg.TopicSettings(it.Configs, dyn)
	if err != nil {
		b.logger.Error("topic configs in metadata are invalid; keeping the previous settings", "topic", it.Name, "err", err)
		if t != nil {
			return t
		}
		ts, _ = b.cfg.TopicSettings(nil, dyn)
	}
	if t == nil {
		t = &topic{name: it.Name, id: it.ID, internal: isInternal(it.Name), configs: it.Configs}
		t.settings.Store(&ts)
		t.setThrottled(it.Configs)
		b.mu.Lock()
		b.mu.topics[t.name] = t
		b.mu.byID[t.id] = t
		b.hostedChangedLocked()
		b.mu.Unlock()
	} else if !maps.Equal(b.topicConfigs(t), it.Configs) || *t.settings.Load() != ts {
		b.mu.Lock()
		t.configs = it.Configs
		b.mu.Unlock()
		t.settings.Store(&ts)
		t.setThrottled(it.Configs)
		lc := logConfig(ts)
		for _, p := range b.hostedPartitions(t) {
			p.log.SetConfig(lc)
		}
	}
	b.mu.Lock()
	for len(t.partitions) < len(it.Partitions) {
		t.partitions = append(t.partitions, nil)
	}
	b.mu.Unlock()
	return t
}

// roleChange is a hosted partition (p, or t's partition i when p is nil:
// one to open) and the assignment the image gives it.
type roleChange struct {
	t *topic
	i int32
	p *partition
	a replica.Assignment
}

// syncPartition drops one partition no longer assigned here, and returns
// the assignment to apply to one that is (to open first when p is nil).
func (b *Broker) syncPartition(t *topic, i int32, ip quorum.Partition) (roleChange, bool) {
	p := b.lookup(t.name, i)
	if !slices.Contains(ip.Replicas, b.cfg.NodeID) {
		if p != nil {
			b.dropPartition(t, p)
		}
		return roleChange{}, false
	}
	return roleChange{t, i, p, replica.Assignment{
		Leader: ip.Leader, LeaderEpoch: ip.LeaderEpoch, PartitionEpoch: ip.PartitionEpoch,
		Replicas: ip.Replicas, ISR: ip.ISR,
	}}, true
}

// openPartitions opens the logs of the partitions newly hosted here,
// roleWorkers at a time (a broker starting with 5,000 replicas opens them
// all in its first reconcile, as Kafka's LogManager loads logs on a
// pool), and returns the changes whose partition is open.
func (b *Broker) openPartitions(roles []roleChange) []roleChange {
	forEachConcurrently(len(roles), roleWorkers, func(i int) {
		rc := &roles[i]
		if rc.p != nil || b.ctx.Err() != nil {
			return
		}
		p, err := b.openPartition(rc.t, rc.i)
		if err != nil {
			b.logger.Error("opening an assigned partition failed", "topic", rc.t.name, "partition", rc.i, "err", err)
			return
		}
		b.mu.Lock()
		rc.t.partitions[rc.i] = p
		b.hostedChangedLocked()
		b.mu.Unlock()
		rc.p = p
	})
	return slices.DeleteFunc(roles, func(rc roleChange) bool { return rc.p == nil })
}

// roleWorkers is how many partitions change role at once. A partition
// that becomes leader records its leader epoch (an fsync'd checkpoint)
// before it takes produces; when a broker stops and its 1,700 leaderships
// move in one metadata record, the new leaders' checkpoints are written
// concurrently, which the filesystem commits together, instead of one
// fsync after another. Each partition's change is still whole and in
// order: a partition is in one image once, and the next image waits for
// this one.
const roleWorkers = 16

// applyRoles applies each partition's assignment (applyAssignment) on
// roleWorkers goroutines, and returns when all are applied.
func (b *Broker) applyRoles(roles []roleChange, now time.Time) {
	forEachConcurrently(len(roles), roleWorkers, func(i int) {
		if b.ctx.Err() == nil { // stopping: see reconcile
			roles[i].p.applyAssignment(b, roles[i].a, now)
		}
	})
}

// forEachConcurrently calls f(0) … f(n-1) on up to workers goroutines and
// returns when every call has returned.
func forEachConcurrently(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() { // owned here: forEachConcurrently waits for every worker
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// applyAssignment moves the partition to the role the assignment gives
// this broker (broker/replication), loads or unloads its groups when
// leadership moved, and wakes its parked requests to re-check the role.
func (p *partition) applyAssignment(b *Broker, a replica.Assignment, now time.Time) {
	lead, applied := b.repl.Apply(p, a, now)
	if !applied {
		return
	}
	if lead != replication.Kept {
		b.partitionLeadershipChanged(p, lead == replication.Gained)
	}
	p.wakeAll() // parked produces and fetches re-check the role
}

// partitionLeadershipChanged loads or unloads the groups of an offsets
// partition whose leadership moved to or from this broker: the group
// coordinator for a group is the leader of its offsets partition. The
// same for the transactional ids of a __transaction_state partition.
func (b *Broker) partitionLeadershipChanged(p *partition, leader bool) {
	if p.name() == txnTopic {
		b.txnLeadershipChanged(p, leader)
		return
	}
	if p.name() != offsetsTopic || b.groups == nil {
		return
	}
	if !leader {
		b.groups.UnloadPartition(p.index)
		return
	}
	b.groups.MarkLoading(p.index)
	idx := p.index
	b.goroutine(func() {
		if err := b.groups.LoadPartition(idx); err != nil {
			b.logger.Error("loading group metadata failed; its groups get NOT_COORDINATOR", "partition", idx, "err", err)
		}
	})
}

// dropPartition stops hosting p and deletes its log (a reassignment moved
// it away).
func (b *Broker) dropPartition(t *topic, p *partition) {
	b.mu.Lock()
	if int(p.index) < len(t.partitions) && t.partitions[p.index] == p {
		t.partitions[p.index] = nil
	}
	b.hostedChangedLocked()
	b.mu.Unlock()
	b.stopPartition(p)
	if err := p.log.Delete(); err != nil {
		b.logger.Error("deleting a partition moved away failed", "topic", t.name, "partition", p.index, "err", err)
		return
	}
	b.logger.Info("deleted replica no longer assigned here", "topic", t.name, "partition", p.index)
}

func (b *Broker) stopPartition(p *partition) {
	if b.repl.Stop(p) {
		b.partitionLeadershipChanged(p, false)
	}
	p.wakeAll()
}

// dropTopic forgets a deleted topic and deletes its logs.
func (b *Broker) dropTopic(t *topic) {
	b.mu.Lock()
	if b.mu.topics[t.name] == t {
		delete(b.mu.topics, t.name)
	}
	if b.mu.byID[t.id] == t {
		delete(b.mu.byID, t.id)
	}
	b.hostedChangedLocked()
	parts := slices.Clone(t.partitions)
	b.mu.Unlock()
	for _, p := range parts {
		if p == nil {
			continue
		}
		b.stopPartition(p)
		if err := p.log.Delete(); err != nil {
			b.logger.Error("deleting a topic's log failed", "topic", t.name, "partition", p.index, "err", err)
		}
	}
	b.logger.Info("deleted topic", "topic", t.name)
}

// hostedPartitions returns the partitions of t hosted here.
func (b *Broker) hostedPartitions(t *topic) []*partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*partition
	for _, p := range t.partitions {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

func isInternal(name string) bool { return name == offsetsTopic || name == txnTopic }
