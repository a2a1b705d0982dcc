package txn

import (
	"time"

	"github.com/weirhq/weir/broker/internaltopic"
)

// Tick does what is due on the coordinator's clock:
//
//   - markers that failed are sent again once MarkerRetryBackoff has
//     passed (and a failed Complete append is retried);
//   - every AbortCheckInterval, Ongoing transactions older than their
//     timeout are aborted as InitProducerId would abort them: the epoch is
//     bumped (fencing the producer), PrepareAbort stored, markers sent;
//   - every ExpireCheckInterval, ids with no transaction in flight and no
//     update for transactional.id.expiration.ms are deleted (a tombstone).
func (c *Coordinator) Tick() {
	now := c.now()
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	abort := now.Sub(c.mu.lastAbort) >= c.cfg.AbortCheckInterval
	if abort {
		c.mu.lastAbort = now
	}
	expire := now.Sub(c.mu.lastExpire) >= c.cfg.ExpireCheckInterval
	if expire {
		c.mu.lastExpire = now
	}
	c.mu.Unlock()
	for _, t := range c.loaded() {
		t.tick(now, abort, expire)
		t.sendMarkers()
	}
}

func (t *txn) tick(now time.Time, abort, expire bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gone {
		return
	}
	m := t.meta
	switch {
	case abort && m.state == Ongoing && now.UnixMilli() > m.startMs+int64(m.timeoutMs):
		t.c.logger.Info("aborting a timed-out transaction", "transactional_id", t.id,
			"producer_id", m.producerID, "epoch", m.epoch)
		t.fence()
	case expire && m.state.expirable() && now.UnixMilli()-m.lastUpdateMs >= t.c.cfg.IDExpiration.Milliseconds():
		t.expire()
	}
}

// expire deletes the id: Dead while its tombstone is written, then gone.
func (t *txn) expire() {
	b := internaltopic.EncodeBatch([]internaltopic.Record{{Key: EncodeKey(t.id)}}, t.c.now())
	if err := t.c.store.Append(t.partition, b); err != nil {
		t.c.logger.Warn("expiring a transactional id failed", "transactional_id", t.id, "err", err)
		return
	}
	t.meta.state = Dead
	t.gone = true
	t.c.remove(t)
}
