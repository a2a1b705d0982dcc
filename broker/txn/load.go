package txn

import (
	"fmt"
	"time"

	"github.com/weirhq/weir/broker/internaltopic"
)

// LoadPartition makes this coordinator serve the transactional ids of
// __transaction_state partition p, at coordinator epoch epoch (the
// partition's leader epoch, sent with the markers): it replays the
// partition from its log start to its end, the last record of an id
// winning and a tombstone deleting it. Until it is done, requests for
// those ids get COORDINATOR_LOAD_IN_PROGRESS. Then the transactions go on:
// PrepareCommit and PrepareAbort send their markers again; Ongoing ones
// keep their start time, so their timeout runs on. A record that cannot
// be read is logged and skipped; a failed read leaves the partition
// unserved (NOT_COORDINATOR).
func (c *Coordinator) LoadPartition(p, epoch int32) error {
	c.mu.Lock()
	if !c.mu.partitions.StartLoad(p, epoch) {
		c.mu.Unlock()
		return nil
	}
	gone := c.dropLocked(p) // what an earlier load left: its markers' answers are ignored
	c.mu.Unlock()
	forget(gone)

	start := time.Now() // the load's real duration, for Stats; not the coordinator's clock
	l := &loader{c: c, p: p, epoch: epoch, txns: map[string]*txn{}}
	err := l.run()
	c.loadDone(time.Since(start))
	c.mu.Lock()
	if !c.mu.partitions.Loading(p) { // unloaded meanwhile
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		delete(c.mu.partitions, p)
		c.mu.Unlock()
		return fmt.Errorf("loading __transaction_state-%d: %w", p, err)
	}
	for id, t := range l.txns {
		c.mu.txns[id] = t
	}
	c.mu.partitions.Loaded(p, epoch)
	c.mu.Unlock()
	if l.records > 0 {
		c.logger.Info("loaded transaction partition", "partition", p, "transactional_ids", len(l.txns), "records", l.records, "skipped", l.skipped)
	}
	for _, t := range l.txns {
		t.sendMarkers()
	}
	return nil
}

// MarkLoading says partition p is about to be loaded: until LoadPartition
// finishes, its ids get COORDINATOR_LOAD_IN_PROGRESS, not NOT_COORDINATOR.
func (c *Coordinator) MarkLoading(p int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.partitions.MarkLoading(p)
}

// UnloadPartition stops serving partition p (leadership moved): its ids
// get NOT_COORDINATOR, and answers to markers sent before are ignored.
func (c *Coordinator) UnloadPartition(p int32) {
	c.mu.Lock()
	gone := c.dropLocked(p)
	delete(c.mu.partitions, p)
	c.mu.Unlock()
	forget(gone)
}

// dropLocked removes partition p's ids from the map and returns them.
func (c *Coordinator) dropLocked(p int32) []*txn {
	var gone []*txn
	for id, t := range c.mu.txns {
		if t.partition == p {
			gone = append(gone, t)
			delete(c.mu.txns, id)
		}
	}
	return gone
}

// forget marks dropped ids gone: a request holding one looks it up
// again, and answers to its markers are ignored.
func forget(gone []*txn) {
	for _, t := range gone {
		t.mu.Lock()
		t.gone = true
		t.dropMarkers()
		t.mu.Unlock()
	}
}

// Loaded reports whether partition p is loaded and served.
func (c *Coordinator) Loaded(p int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.partitions.Owned(p)
}

type loader struct {
	c       *Coordinator
	p       int32
	epoch   int32
	txns    map[string]*txn
	records int
	skipped int
}

func (l *loader) run() error {
	if err := internaltopic.Replay(l.c.store, l.p, nil, l.apply, l.bad); err != nil {
		return err
	}
	for _, t := range l.txns {
		if t.meta.state == PrepareCommit || t.meta.state == PrepareAbort {
			t.startMarkers()
		}
	}
	return nil
}

func (l *loader) bad(offset int64, err error) {
	l.skipped++
	l.c.logger.Warn("skipping unreadable __transaction_state record", "partition", l.p, "offset", offset, "err", err)
}

// apply replays one record.
func (l *loader) apply(offset int64, key, value []byte) {
	id, ok, err := DecodeKey(key)
	switch {
	case err != nil:
		l.bad(offset, err)
		return
	case !ok:
		return // not a transaction log record
	}
	l.records++
	if value == nil {
		delete(l.txns, id)
		return
	}
	v, err := DecodeValue(value)
	switch {
	case err != nil:
		l.bad(offset, err)
		return
	case v.State == Dead || v.State == PrepareEpochFence:
		// Never stored by a coordinator (Dead is written as a tombstone,
		// a fence as PrepareAbort): nothing could move on from it.
		l.bad(offset, fmt.Errorf("transactional id %q stored in state %s", id, v.State))
		return
	}
	t := newTxn(l.c, id, l.p, l.epoch)
	t.meta = metaFromValue(v)
	l.txns[id] = t
}
