package log

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Idempotent producer state, Kafka's ProducerStateManager semantics: per
// producer id, the latest epoch and the metadata of its last five batches,
// enough to recognise a retried batch and to check sequence numbers.

const producerBatchCache = 5

type batchMeta struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
	timestamp               int64 // the batch's maxTimestamp
}

type producerEntry struct {
	epoch   int16
	batches []batchMeta // oldest first, at most producerBatchCache

	// lastTimestamp is the maxTimestamp of the producer's latest batch,
	// data or marker (Kafka's ProducerStateEntry.lastTimestamp). Not in
	// the snapshot: a reopened log takes its last data batch's.
	lastTimestamp int64

	// Transactions (txn.go): the producer's ongoing transaction, if any,
	// starts at txnFirst; coordEpoch is the highest coordinator epoch of
	// the markers written for it (older ones are fenced).
	inTxn      bool
	txnFirst   int64
	coordEpoch int32
}

// producerState maps producer id to its entry. It is guarded by Log.mu.
type producerState map[int64]*producerEntry

func (e *producerEntry) clone() *producerEntry {
	c := &producerEntry{epoch: e.epoch, batches: make([]batchMeta, len(e.batches), producerBatchCache+1),
		lastTimestamp: e.lastTimestamp, inTxn: e.inTxn, txnFirst: e.txnFirst, coordEpoch: e.coordEpoch}
	copy(c.batches, e.batches)
	return c
}

// duplicate returns the cached batch that h retries, if any.
func (e *producerEntry) duplicate(h BatchHeader) (batchMeta, bool) {
	if e == nil || h.ProducerEpoch != e.epoch {
		return batchMeta{}, false
	}
	last := h.LastSequence()
	for _, b := range e.batches {
		if b.firstSeq == h.BaseSequence && b.lastSeq == last {
			return b, true
		}
	}
	return batchMeta{}, false
}

// check validates a client's batch against the producer's entry (nil when
// the producer is unknown).
func (e *producerEntry) check(h BatchHeader) error {
	switch {
	case e == nil:
		if h.BaseSequence != 0 && !h.Control() {
			return fmt.Errorf("producer %d: first sequence %d from an unknown producer: %w", h.ProducerID, h.BaseSequence, ErrOutOfOrderSequence)
		}
	case h.ProducerEpoch < e.epoch:
		return fmt.Errorf("producer %d: epoch %d is older than %d: %w", h.ProducerID, h.ProducerEpoch, e.epoch, ErrInvalidProducerEpoch)
	case h.Control():
	case h.ProducerEpoch > e.epoch || len(e.batches) == 0:
		if h.BaseSequence != 0 {
			return fmt.Errorf("producer %d: epoch %d starts at sequence %d, want 0: %w", h.ProducerID, h.ProducerEpoch, h.BaseSequence, ErrOutOfOrderSequence)
		}
	default:
		if last := e.batches[len(e.batches)-1].lastSeq; !inSequence(last, h.BaseSequence) {
			return fmt.Errorf("producer %d: sequence %d after %d: %w", h.ProducerID, h.BaseSequence, last, ErrOutOfOrderSequence)
		}
	}
	return nil
}

func inSequence(last, next int32) bool {
	if last == math.MaxInt32 {
		return next == 0
	}
	return next == last+1
}

// add records a batch (h carries its final base offset and maxTimestamp).
func (e *producerEntry) add(h BatchHeader) {
	if h.ProducerEpoch != e.epoch {
		e.epoch = h.ProducerEpoch
		e.batches = e.batches[:0]
	}
	e.lastTimestamp = h.MaxTimestamp
	if h.Control() || h.BaseSequence < 0 {
		return // markers and a coordinator's batches carry no sequence
	}
	e.batches = append(e.batches, batchMeta{
		firstSeq: h.BaseSequence, lastSeq: h.LastSequence(),
		firstOffset: h.BaseOffset, lastOffset: h.LastOffset(), timestamp: h.MaxTimestamp,
	})
	if n := len(e.batches); n > producerBatchCache {
		e.batches = append(e.batches[:0], e.batches[n-producerBatchCache:]...)
	}
}

// producerUpdate stages the changes of one append so that a multi-batch
// append is checked batch by batch and applied all or nothing.
type producerUpdate struct {
	state     producerState
	pending   map[int64]*producerEntry
	completed []completedTxn // transactions ended by the staged markers, in order
}

// entry returns the staged entry of pid, nil when the producer is unknown.
func (u *producerUpdate) entry(pid int64) *producerEntry {
	if e, ok := u.pending[pid]; ok {
		return e
	}
	if e, ok := u.state[pid]; ok {
		return e
	}
	return nil
}

// stage records batch b (whose header is h) in the producer's staged entry.
func (u *producerUpdate) stage(h BatchHeader, b []byte) {
	e, ok := u.pending[h.ProducerID]
	if !ok {
		if cur := u.state[h.ProducerID]; cur != nil {
			e = cur.clone()
		} else {
			e = &producerEntry{epoch: h.ProducerEpoch, coordEpoch: -1}
		}
		if u.pending == nil {
			u.pending = make(map[int64]*producerEntry)
		}
		u.pending[h.ProducerID] = e
	}
	e.add(h)
	switch {
	case h.Control():
		m, ok := parseControlBatch(h, b)
		if !ok {
			return
		}
		e.coordEpoch = max(e.coordEpoch, m.CoordinatorEpoch)
		first := h.BaseOffset
		if e.inTxn {
			first = e.txnFirst
		}
		e.inTxn = false
		u.completed = append(u.completed, completedTxn{pid: h.ProducerID, first: first, last: h.BaseOffset, abort: !m.Commit})
	case h.Transactional() && !e.inTxn:
		e.inTxn, e.txnFirst = true, h.BaseOffset
	}
}

// client checks and stages a client's batch; a retried batch is returned as
// dup, and nothing is staged for it.
func (u *producerUpdate) client(h BatchHeader, b []byte) (dup batchMeta, isDup bool, err error) {
	e := u.entry(h.ProducerID)
	if d, ok := e.duplicate(h); ok {
		return d, true, nil
	}
	if err := e.check(h); err != nil {
		return batchMeta{}, false, err
	}
	if h.Control() && e != nil {
		if m, ok := parseControlBatch(h, b); ok && m.CoordinatorEpoch < e.coordEpoch {
			return batchMeta{}, false, fmt.Errorf("producer %d: marker from coordinator epoch %d, already %d: %w",
				h.ProducerID, m.CoordinatorEpoch, e.coordEpoch, ErrTransactionCoordinatorFenced)
		}
	}
	u.stage(h, b)
	return batchMeta{}, false, nil
}

func (u *producerUpdate) commit() {
	for pid, e := range u.pending {
		u.state[pid] = e
	}
}

// ProducerInfo is one active producer of a partition as DescribeProducers
// (KIP-664) reports it: -1 for a field the producer has no value for.
type ProducerInfo struct {
	ProducerID       int64
	Epoch            int16
	LastSequence     int32 // of its latest data batch at this epoch
	LastTimestamp    int64 // maxTimestamp of its latest batch, data or marker
	CoordinatorEpoch int32 // of the latest marker written for it
	TxnStartOffset   int64 // first offset of its ongoing transaction
}

// info reports the entry of pid as Kafka's UnifiedLog.activeProducers does.
func (e *producerEntry) info(pid int64) ProducerInfo {
	p := ProducerInfo{ProducerID: pid, Epoch: e.epoch, LastSequence: -1, LastTimestamp: e.lastTimestamp,
		CoordinatorEpoch: e.coordEpoch, TxnStartOffset: -1}
	if n := len(e.batches); n > 0 {
		p.LastSequence = e.batches[n-1].lastSeq
		if p.LastTimestamp < 0 {
			p.LastTimestamp = e.batches[n-1].timestamp
		}
	}
	if e.inTxn {
		p.TxnStartOffset = e.txnFirst
	}
	return p
}

// ActiveProducers returns the producers the log keeps state for, by
// producer id (DescribeProducers).
func (l *Log) ActiveProducers() []ProducerInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ProducerInfo, 0, len(l.mu.producers))
	for pid, e := range l.mu.producers {
		out = append(out, e.info(pid))
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}
