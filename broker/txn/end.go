package txn

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn (API key 26) commits or aborts the transaction. The answer comes
// once PrepareCommit or PrepareAbort is stored; the markers are written
// afterwards and CompleteCommit or CompleteAbort stored when every
// partition has its marker.
//
// Transaction version 1 (v0–v4):
//   - another producer id: INVALID_PRODUCER_ID_MAPPING; another epoch:
//     PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2);
//   - Ongoing: Prepare stored, answered NONE;
//   - a retry of a finished EndTxn (CompleteCommit for commit,
//     CompleteAbort for abort): NONE; one still writing markers:
//     CONCURRENT_TRANSACTIONS;
//   - anything else (Empty, the opposite outcome): INVALID_TXN_STATE.
//
// Transaction version 2 (v5+, KIP-890): every EndTxn bumps the epoch and
// the answer carries the producer id and epoch to use next (a new
// producer id once the epoch runs out). A retry comes with the epoch
// before the bump: a finished one answers NONE with the current id and
// epoch. An abort with no partitions added (Empty, or after a finished
// transaction) is allowed and bumps the epoch.
func (c *Coordinator) EndTxn(r *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := kmsg.NewPtrEndTxnResponse()
	resp.Version, resp.ProducerID, resp.ProducerEpoch = r.Version, noProducer, noEpoch
	pid, epoch, err := c.endTxn(r)
	if err == kerr.ProducerFenced && r.Version < 2 {
		err = kerr.InvalidProducerEpoch
	}
	if err != nil {
		resp.ErrorCode = err.Code
		return resp
	}
	if r.Version >= 5 {
		resp.ProducerID, resp.ProducerEpoch = pid, epoch
	}
	return resp
}

func (c *Coordinator) endTxn(r *kmsg.EndTxnRequest) (int64, int16, *kerr.Error) {
	if r.TransactionalID == "" {
		return 0, 0, kerr.InvalidRequest
	}
	t, err := c.lock(r.TransactionalID)
	if err != nil {
		return 0, 0, err
	}
	if t == nil || t.meta.epoch == noEpoch { // no epoch: InitProducerId was never stored
		if t != nil {
			t.mu.Unlock()
		}
		return 0, 0, kerr.InvalidProducerIDMapping
	}
	end := t.endV1
	if r.Version >= 5 {
		end = t.endV2
	}
	pid, epoch, e := end(r.ProducerID, r.ProducerEpoch, r.Commit)
	t.mu.Unlock()
	t.sendMarkers()
	return pid, epoch, e
}

func outcome(commit bool) (prepare, complete State) {
	if commit {
		return PrepareCommit, CompleteCommit
	}
	return PrepareAbort, CompleteAbort
}

func (t *txn) endV1(pid int64, epoch int16, commit bool) (int64, int16, *kerr.Error) {
	m := t.meta
	switch {
	case m.producerID != pid:
		return 0, 0, kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return 0, 0, kerr.ProducerFenced
	}
	prepare, complete := outcome(commit)
	switch m.state {
	case Ongoing:
		return t.prepareEnd(prepare, noProducer, false, 0)
	case complete:
		return m.producerID, m.epoch, nil
	case prepare:
		return 0, 0, kerr.ConcurrentTransactions
	}
	return 0, 0, kerr.InvalidTxnState
}

// endV2 follows Kafka's table for transaction version 2 (Retry: the
// epoch before the bump; Current: the stored epoch):
//
//	                 Abort           Commit
//	                 Retry  Current  Retry  Current
//	Empty            FENCED bump     FENCED INVALID_TXN_STATE
//	CompleteAbort    NONE   bump     INVALID_TXN_STATE
//	CompleteCommit   INVALID bump    NONE   INVALID_TXN_STATE
func (t *txn) endV2(pid int64, epoch int16, commit bool) (int64, int16, *kerr.Error) {
	m := t.meta
	retryOverflow := m.lastProducerID == pid && epoch == math.MaxInt16-1 && m.epoch == 0
	retryBump := m.epoch == epoch+1
	valid := epoch == m.epoch
	switch m.state {
	case PrepareCommit, PrepareAbort:
		valid = retryBump
	case CompleteCommit, CompleteAbort:
		valid = valid || retryBump || retryOverflow
	}
	retry := (retryBump || retryOverflow) && m.state != Ongoing && m.state != Empty
	switch {
	case m.producerID != pid && !retryOverflow:
		return 0, 0, kerr.InvalidProducerIDMapping
	case !valid:
		return 0, 0, kerr.ProducerFenced
	}
	prepare, complete := outcome(commit)
	switch {
	case m.state == Ongoing:
		return t.prepareEndV2(prepare, false)
	case m.state == prepare:
		return 0, 0, kerr.ConcurrentTransactions
	case m.state == complete && retry:
		return m.producerID, m.epoch, nil
	case !commit && !retry && (m.state == Empty || m.state == CompleteCommit || m.state == CompleteAbort):
		return t.prepareEndV2(PrepareAbort, true)
	}
	return 0, 0, kerr.InvalidTxnState
}

// prepareEndV2 readies a new producer id when the bump would exhaust the
// epoch, then stores the Prepare state.
func (t *txn) prepareEndV2(s State, noPartitions bool) (int64, int16, *kerr.Error) {
	next := noProducer
	if epochExhausted(t.meta.epoch) {
		pid, err := t.c.cfg.NewProducerID()
		if err != nil {
			return 0, 0, errorCode(err)
		}
		next = pid
	}
	pid, epoch, err := t.prepareEnd(s, next, noPartitions, 2)
	if err != nil {
		return 0, 0, err
	}
	if next != noProducer {
		return next, 0, nil
	}
	return pid, epoch, nil
}

// prepareEnd stores the Prepare state, with the transaction version of
// the EndTxn that asked for it, and starts the markers.
func (t *txn) prepareEnd(s State, nextPID int64, noPartitions bool, clientVersion int16) (int64, int16, *kerr.Error) {
	m := t.meta
	m.clientVersion = clientVersion
	next := m.prepare(s, nextPID, t.c.now(), noPartitions)
	if err := t.persist(next); err != nil {
		return 0, 0, err
	}
	t.startMarkers()
	return next.producerID, next.epoch, nil
}
