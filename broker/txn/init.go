package txn

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerId (API key 22) for a transactional id (the broker's
// idempotent-producer path keeps the null id; here a null id gets a new
// producer id at epoch 0, as Kafka's coordinator gives it).
//
//   - The timeout must be in (0, transaction.max.timeout.ms], else
//     INVALID_TRANSACTION_TIMEOUT.
//   - A new id gets a producer id from the allocator, at epoch 0.
//   - An existing id between transactions gets its epoch bumped, which
//     fences every producer holding the old epoch (a zombie).
//   - An Ongoing transaction is aborted first: its epoch is bumped and
//     PrepareAbort stored (fencing the old producer), markers go out, and
//     the caller gets CONCURRENT_TRANSACTIONS; its retry after the abort
//     completes bumps the epoch again.
//   - Prepare states answer CONCURRENT_TRANSACTIONS until their markers are written.
//   - KIP-360 (v3+): a producer giving its current id and epoch is
//     re-initialised with a bump; a retry of a successful bump (the
//     previous epoch) gets the current one; any other epoch is
//     PRODUCER_FENCED.
//   - When the epoch is exhausted (32766) the id moves to a new producer
//     id at epoch 0.
//
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4 (KIP-588).
func (c *Coordinator) InitProducerID(r *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.Version, resp.ProducerID, resp.ProducerEpoch = r.Version, noProducer, noEpoch
	pid, epoch, err := c.initProducerID(r)
	if err != nil {
		if err == kerr.ProducerFenced && r.Version < 4 {
			err = kerr.InvalidProducerEpoch
		}
		resp.ErrorCode = err.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = pid, epoch
	return resp
}

// expected is the producer id and epoch a KIP-360 caller gives.
type expected struct {
	pid   int64
	epoch int16
}

func (c *Coordinator) initProducerID(r *kmsg.InitProducerIDRequest) (int64, int16, *kerr.Error) {
	var exp *expected
	if r.Version >= 3 {
		switch {
		case r.ProducerID == noProducer && r.ProducerEpoch == noEpoch:
		case r.ProducerID == noProducer || r.ProducerEpoch == noEpoch:
			return 0, 0, kerr.InvalidRequest
		default:
			exp = &expected{r.ProducerID, r.ProducerEpoch}
		}
	}
	switch {
	case r.TransactionalID == nil:
		pid, err := c.cfg.NewProducerID()
		if err != nil {
			return 0, 0, errorCode(err)
		}
		return pid, 0, nil
	case *r.TransactionalID == "":
		return 0, 0, kerr.InvalidRequest
	case r.TransactionTimeoutMillis <= 0 || int64(r.TransactionTimeoutMillis) > c.cfg.MaxTimeout.Milliseconds():
		return 0, 0, kerr.InvalidTransactionTimeout
	}
	t, err := c.lockOrCreate(*r.TransactionalID)
	if err != nil {
		return 0, 0, err
	}
	pid, epoch, err := t.init(r.TransactionTimeoutMillis, exp)
	t.mu.Unlock()
	t.sendMarkers() // a fenced transaction's abort markers
	return pid, epoch, err
}

func (t *txn) init(timeoutMs int32, exp *expected) (int64, int16, *kerr.Error) {
	m := t.meta
	if exp != nil && !m.validProducer(*exp) {
		return 0, 0, kerr.ProducerFenced
	}
	switch m.state {
	case PrepareCommit, PrepareAbort:
		return 0, 0, kerr.ConcurrentTransactions
	case Ongoing:
		if err := t.fence(); err != nil {
			return 0, 0, err
		}
		return 0, 0, kerr.ConcurrentTransactions
	}
	next, err := t.bumped(timeoutMs, exp)
	if err != nil {
		return 0, 0, err
	}
	if err := t.persist(next); err != nil {
		return 0, 0, err
	}
	return next.producerID, next.epoch, nil
}

// validProducer is Kafka's check of a KIP-360 caller's id: the id was
// just created (no epoch yet), or it is the current producer id, or the
// previous one with an exhausted epoch (a retry of the rotation).
func (m meta) validProducer(exp expected) bool {
	return m.epoch == noEpoch || exp.pid == m.producerID ||
		(exp.pid == m.lastProducerID && epochExhausted(exp.epoch))
}

// bumped is the Empty state InitProducerId stores: a new producer id when
// the epoch is exhausted, else the next epoch (or, for a retry of the
// last bump, the current one).
func (t *txn) bumped(timeoutMs int32, exp *expected) (meta, *kerr.Error) {
	m, now := t.meta, t.c.now()
	if epochExhausted(m.epoch) && (exp == nil || exp.epoch == m.epoch) {
		pid, err := t.c.cfg.NewProducerID()
		if err != nil {
			return m, errorCode(err)
		}
		last := noEpoch
		if exp != nil {
			last = m.epoch
		}
		return m.reset(pid, 0, last, timeoutMs, now), nil
	}
	switch {
	case exp == nil:
		return m.reset(m.producerID, m.epoch+1, noEpoch, timeoutMs, now), nil
	case m.epoch == noEpoch || exp.epoch == m.epoch:
		return m.reset(m.producerID, m.epoch+1, m.epoch, timeoutMs, now), nil
	case exp.epoch == m.lastEpoch:
		return m.reset(m.producerID, m.epoch, m.lastEpoch, timeoutMs, now), nil
	}
	return m, kerr.ProducerFenced
}

// fence aborts an Ongoing transaction on the coordinator's own initiative
// (a new InitProducerId, or the transaction timed out): the epoch is
// bumped so the producer holding the old one is fenced, PrepareAbort is
// stored with it, and the abort markers go out. Under transaction
// version 2 the abort bumps once more, as EndTxn does.
func (t *txn) fence() *kerr.Error {
	next := t.meta
	if next.epoch < math.MaxInt16 {
		next.epoch++
	}
	next.lastEpoch = noEpoch
	next = next.prepare(PrepareAbort, noProducer, t.c.now(), false)
	next.lastEpoch = noEpoch
	if err := t.persist(next); err != nil {
		return err
	}
	t.startMarkers()
	return nil
}
