package group

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/internaltopic"
)

// LoadPartition makes this coordinator serve the groups of
// __consumer_offsets partition p: it replays the partition from its log
// start to its end. Until it is done, requests for those groups get
// COORDINATOR_LOAD_IN_PROGRESS. A record that cannot be read is logged and
// skipped. A failed read leaves the partition unserved (NOT_COORDINATOR).
func (c *Coordinator) LoadPartition(p int32) error {
	c.mu.Lock()
	if !c.mu.partitions.StartLoad(p, 0) {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()

	l := &loader{c: c, p: p, groups: map[string]*Group{}, txnPID: -1}
	err := l.run()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.mu.partitions.Loading(p) { // unloaded meanwhile
		return nil
	}
	if err != nil {
		delete(c.mu.partitions, p)
		delete(c.mu.loadingTxns, p)
		return fmt.Errorf("loading __consumer_offsets-%d: %w", p, err)
	}
	c.applyLoadingTxnsLocked(p, l.groups)
	for id, g := range l.groups {
		g.settleLoaded()
		c.mu.groups[id] = g
	}
	c.mu.partitions.Loaded(p, 0)
	if len(l.groups) > 0 || l.records > 0 {
		c.logger.Info("loaded group partition", "partition", p, "groups", len(l.groups), "records", l.records, "skipped", l.skipped)
	}
	return nil
}

// MarkLoading says partition p is about to be loaded: until LoadPartition
// finishes, its groups get COORDINATOR_LOAD_IN_PROGRESS, not
// NOT_COORDINATOR.
func (c *Coordinator) MarkLoading(p int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.partitions.MarkLoading(p)
}

// UnloadPartition stops serving partition p's groups (leadership moved):
// their waiting requests get NOT_COORDINATOR and later ones the same.
func (c *Coordinator) UnloadPartition(p int32) {
	c.mu.Lock()
	delete(c.mu.partitions, p)
	delete(c.mu.loadingTxns, p)
	var gone []*Group
	for id, g := range c.mu.groups {
		if g.partition == p {
			gone = append(gone, g)
			delete(c.mu.groups, id)
		}
	}
	c.mu.Unlock()
	for _, g := range gone {
		g.mu.Lock()
		g.failWaiters(kerr.NotCoordinator)
		g.dead.Store(true)
		g.mu.Unlock()
	}
}

// Loaded reports whether partition p is loaded and served.
func (c *Coordinator) Loaded(p int32) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.partitions.Owned(p)
}

type loader struct {
	c       *Coordinator
	p       int32
	groups  map[string]*Group
	records int
	skipped int
	txnPID  int64 // producer of the transactional batch being replayed; -1: none
}

func (l *loader) run() error {
	return internaltopic.Replay(l.c.store, l.p, l.batch, l.apply, l.bad)
}

// batch notes whether a batch is transactional (its offsets stay pending)
// and applies transaction markers to the pending offsets of their producer.
func (l *loader) batch(b *kmsg.RecordBatch) bool {
	l.txnPID = -1
	if b.Attributes&0x20 != 0 {
		commit := false
		internaltopic.DecodeRecords(b, func(_ int64, key, _ []byte) {
			commit = len(key) >= 4 && binary.BigEndian.Uint16(key[2:]) == 1
		}, l.bad)
		for _, g := range l.groups {
			g.completeTxn(b.ProducerID, commit)
		}
		return false
	}
	if b.Attributes&0x10 != 0 {
		l.txnPID = b.ProducerID
	}
	return true
}

func (l *loader) bad(offset int64, err error) {
	l.skipped++
	l.c.logger.Warn("skipping unreadable __consumer_offsets record", "partition", l.p, "offset", offset, "err", err)
}

func (l *loader) group(id string) *Group {
	g := l.groups[id]
	if g == nil {
		g = newGroup(l.c, id, l.p)
		g.stateSince = time.Time{}
		l.groups[id] = g
	}
	return g
}

// apply replays one record.
func (l *loader) apply(offset int64, key, value []byte) {
	l.records++
	if len(key) < 2 {
		l.bad(offset, fmt.Errorf("key of %d bytes", len(key)))
		return
	}
	switch v := int16(binary.BigEndian.Uint16(key)); v {
	case 0, 1:
		l.applyOffset(offset, key, value)
	case 2:
		l.applyGroup(offset, key, value)
	default:
		l.records-- // another coordinator's record type: not ours to read
	}
}

func (l *loader) applyOffset(offset int64, key, value []byte) {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		l.bad(offset, fmt.Errorf("offset commit key: %w", err))
		return
	}
	g := l.group(k.Group)
	if value == nil {
		g.deleteOffset(k.Topic, k.Partition)
		return
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		l.bad(offset, fmt.Errorf("offset commit value: %w", err))
		return
	}
	if l.txnPID >= 0 {
		g.setPending(l.txnPID, k.Topic, k.Partition, offsetFromValue(v))
		return
	}
	g.setOffset(k.Topic, k.Partition, offsetFromValue(v))
}

func offsetFromValue(v kmsg.OffsetCommitValue) offset {
	epoch := int32(-1)
	if v.Version >= 3 {
		epoch = v.LeaderEpoch
	}
	return offset{offset: v.Offset, leaderEpoch: epoch, metadata: v.Metadata, committed: time.UnixMilli(v.CommitTimestamp)}
}

func (l *loader) applyGroup(offset int64, key, value []byte) {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err != nil {
		l.bad(offset, fmt.Errorf("group metadata key: %w", err))
		return
	}
	if value == nil {
		delete(l.groups, k.Group)
		return
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(value); err != nil {
		l.bad(offset, fmt.Errorf("group metadata value: %w", err))
		return
	}
	l.group(k.Group).restore(&v)
}

// restore sets the group from its stored metadata: its members come back
// as they were, their sessions starting now.
func (g *Group) restore(v *kmsg.GroupMetadataValue) {
	g.protocolType, g.generation = v.ProtocolType, v.Generation
	g.protocol, g.leader = deref(v.Protocol), deref(v.Leader)
	g.stateSince = time.Time{}
	if v.CurrentStateTimestamp >= 0 && v.Version >= 2 {
		g.stateSince = time.UnixMilli(v.CurrentStateTimestamp)
	}
	clear(g.members)
	clear(g.static)
	for _, vm := range v.Members {
		m := &member{
			id: vm.MemberID, instanceID: vm.InstanceID, clientID: vm.ClientID, clientHost: vm.ClientHost,
			rebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
			sessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
			protocols:        []protocol{{name: g.protocol, metadata: vm.Subscription}},
			assignment:       vm.Assignment,
		}
		if v.Version < 1 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		g.members[m.id] = m
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
	}
}

// settleLoaded puts a replayed group in its state: Stable with its
// members' sessions starting now, or Empty.
func (g *Group) settleLoaded() {
	now := g.now()
	if len(g.members) == 0 {
		g.state = Empty
		return
	}
	g.state = Stable
	for _, m := range g.members {
		m.deadline = now.Add(m.sessionTimeout)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
