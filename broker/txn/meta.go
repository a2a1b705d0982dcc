package txn

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/internaltopic"
)

// noEpoch is RecordBatch.NO_PRODUCER_EPOCH; noProducer NO_PRODUCER_ID.
const (
	noEpoch    int16 = -1
	noProducer int64 = -1
)

// meta is one transactional id's stored state: what its last record in
// __transaction_state says (Kafka's TransactionMetadata).
type meta struct {
	producerID     int64
	lastProducerID int64 // the producer id before a rotation (PreviousProducerId)
	nextProducerID int64 // TV2: the producer id the completion moves to (epoch exhausted)
	epoch          int16
	lastEpoch      int16 // the epoch before the last bump, for retries; not stored
	timeoutMs      int32
	state          State
	partitions     []TopicPartition // sorted
	startMs        int64            // -1: no transaction started
	lastUpdateMs   int64
	clientVersion  int16 // the client's transaction version: 2 bumps the epoch per transaction
}

// epochExhausted is Kafka's isEpochExhausted: the last epoch a producer id
// may be given, leaving one for fencing.
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// txn is one transactional id. mu guards meta and the marker state and is
// held across the id's appends to Storage, so its records reach the log
// in the order its state changed and meta changes only after the append
// succeeds.
type txn struct {
	c          *Coordinator
	id         string
	partition  int32
	coordEpoch int32

	mu      sync.Mutex
	meta    meta
	markers *markerState // set while a Prepare state's markers are being written
	gone    bool         // unloaded or expired: look it up again
}

func newTxn(c *Coordinator, id string, p, coordEpoch int32) *txn {
	t := &txn{c: c, id: id, partition: p, coordEpoch: coordEpoch}
	t.meta = meta{producerID: noProducer, lastProducerID: noProducer, nextProducerID: noProducer,
		epoch: noEpoch, lastEpoch: noEpoch, startMs: -1}
	return t
}

// persist appends next as the id's new state and, once it is stored,
// makes it the state. A move Kafka does not allow is a broken invariant.
func (t *txn) persist(next meta) *kerr.Error {
	if next.state != t.meta.state && !CanTransition(t.meta.state, next.state) {
		panic(fmt.Sprintf("transactional id %q: %s to %s is not a legal transition", t.id, t.meta.state, next.state))
	}
	if next.epoch < t.meta.epoch && next.producerID == t.meta.producerID {
		panic(fmt.Sprintf("transactional id %q: epoch %d would go back to %d", t.id, t.meta.epoch, next.epoch))
	}
	v := next.logValue(t.c.transactionVersion())
	b := internaltopic.EncodeBatch([]internaltopic.Record{{Key: EncodeKey(t.id), Value: v.Encode()}}, t.c.now())
	if err := t.c.store.Append(t.partition, b); err != nil {
		t.c.logger.Warn("appending to __transaction_state failed", "transactional_id", t.id,
			"partition", t.partition, "state", next.state, "err", err)
		return appendErrorCode(err)
	}
	t.meta = next
	return nil
}

// appendErrorCode is what Kafka answers when an append to its log fails
// (TransactionStateManager.appendTransactionToLog).
func appendErrorCode(err error) *kerr.Error {
	switch ke := errorCode(err); ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return kerr.UnknownServerError
	default:
		return ke
	}
}

// logValue is m as Kafka stores it: no partitions in Empty (a null list).
func (m meta) logValue(transactionVersion int16) LogValue {
	v := NewLogValue()
	if transactionVersion >= 2 {
		v.Version = 1
	}
	v.ProducerID, v.ProducerEpoch, v.TimeoutMs, v.State = m.producerID, m.epoch, m.timeoutMs, m.state
	v.LastUpdateMs, v.StartMs = m.lastUpdateMs, m.startMs
	v.PreviousProducerID, v.NextProducerID, v.ClientTransactionVersion = m.lastProducerID, m.nextProducerID, m.clientVersion
	if m.state != Empty {
		v.Partitions = []TopicPartitions{}
		for _, tp := range m.partitions {
			if n := len(v.Partitions); n > 0 && v.Partitions[n-1].Topic == tp.Topic {
				v.Partitions[n-1].Partitions = append(v.Partitions[n-1].Partitions, tp.Partition)
			} else {
				v.Partitions = append(v.Partitions, TopicPartitions{Topic: tp.Topic, Partitions: []int32{tp.Partition}})
			}
		}
	}
	return v
}

// metaFromValue is the state a stored value gives: the last epoch is not
// stored, so a retry after a failover is fenced as Kafka fences it.
func metaFromValue(v LogValue) meta {
	m := meta{producerID: v.ProducerID, lastProducerID: v.PreviousProducerID, nextProducerID: v.NextProducerID,
		epoch: v.ProducerEpoch, lastEpoch: noEpoch, timeoutMs: v.TimeoutMs, state: v.State,
		startMs: v.StartMs, lastUpdateMs: v.LastUpdateMs, clientVersion: v.ClientTransactionVersion}
	if v.State != Empty {
		for _, tp := range v.Partitions {
			for _, p := range tp.Partitions {
				m.partitions = append(m.partitions, TopicPartition{tp.Topic, p})
			}
		}
		sortPartitions(m.partitions)
	}
	return m
}

func sortPartitions(ps []TopicPartition) {
	slices.SortFunc(ps, func(a, b TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
}

// hasAll reports whether every partition of add is in the transaction.
func (m meta) hasAll(add []TopicPartition) bool {
	for _, tp := range add {
		if !m.has(tp) {
			return false
		}
	}
	return true
}

func (m meta) has(tp TopicPartition) bool {
	_, ok := slices.BinarySearchFunc(m.partitions, tp, func(a, b TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return ok
}

// The transitions, each returning the next state without changing m
// (Kafka's prepare* methods on TransactionMetadata).

// withPartitions is AddPartitionsToTxn: Ongoing with the partitions added;
// a transaction starting from Empty or a Complete state starts now.
func (m meta) withPartitions(add []TopicPartition, now time.Time) meta {
	next := m
	next.state, next.lastUpdateMs = Ongoing, now.UnixMilli()
	if m.state != Ongoing {
		next.partitions, next.startMs = nil, now.UnixMilli()
	}
	next.partitions = slices.Clone(next.partitions)
	for _, tp := range add {
		if !next.has(tp) {
			next.partitions = append(next.partitions, tp)
			sortPartitions(next.partitions)
		}
	}
	return next
}

// reset is the Empty state InitProducerId leaves: no partitions, the new
// timeout, the given producer id and epochs.
func (m meta) reset(pid int64, epoch, lastEpoch int16, timeoutMs int32, now time.Time) meta {
	next := m
	if pid != m.producerID {
		next.lastProducerID = m.producerID
	}
	next.producerID, next.epoch, next.lastEpoch, next.timeoutMs = pid, epoch, lastEpoch, timeoutMs
	next.state, next.partitions, next.startMs, next.lastUpdateMs = Empty, nil, -1, now.UnixMilli()
	next.nextProducerID = noProducer
	return next
}

// prepare is EndTxn's (or a fence's) Prepare state. Under transaction
// version 2 the epoch is bumped with every transaction (KIP-890), and a
// new producer id is readied when the epoch runs out.
func (m meta) prepare(s State, nextPID int64, now time.Time, noPartitions bool) meta {
	next := m
	next.state, next.lastUpdateMs, next.nextProducerID = s, now.UnixMilli(), nextPID
	if m.clientVersion >= 2 && m.epoch < math.MaxInt16 {
		next.epoch, next.lastEpoch = m.epoch+1, m.epoch
	}
	if noPartitions {
		next.startMs = now.UnixMilli()
	}
	return next
}

// complete is the Complete state once every marker is written; a
// readied producer id takes over with epoch 0.
func (m meta) complete(now time.Time) meta {
	next := m
	next.state, next.lastUpdateMs, next.partitions = m.state.complete(), now.UnixMilli(), nil
	if m.clientVersion >= 2 && m.nextProducerID != noProducer {
		next.lastProducerID, next.producerID, next.epoch, next.lastEpoch = m.producerID, m.nextProducerID, 0, noEpoch
	}
	next.nextProducerID = noProducer
	return next
}
