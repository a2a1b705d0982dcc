package txn

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/group"
)

// ConsumerOffsetsTopic is the topic AddOffsetsToTxn adds a partition of.
const ConsumerOffsetsTopic = "__consumer_offsets"

// AddPartitionsToTxn (API key 24). v0–v3 are a client adding partitions
// to its transaction; v4+ batch transactions, sent by brokers, each either
// adding or (VerifyOnly, KIP-890) checking that the partitions are in it.
//
//   - A partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION and the
//     others of the transaction OPERATION_NOT_ATTEMPTED; nothing is added.
//   - No transaction for the id, or another producer id:
//     INVALID_PRODUCER_ID_MAPPING; another epoch: PRODUCER_FENCED
//     (INVALID_PRODUCER_EPOCH before v2).
//   - A transaction being committed or aborted: CONCURRENT_TRANSACTIONS.
//   - Partitions already in an Ongoing transaction are answered at once;
//     otherwise the transaction is Ongoing with them once that is stored.
//   - VerifyOnly: each partition NONE if it is in the transaction, else
//     INVALID_TXN_STATE; nothing is stored.
func (c *Coordinator) AddPartitionsToTxn(r *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	resp.Version = r.Version
	if r.Version < 4 {
		errs := c.addPartitions(r.TransactionalID, r.ProducerID, r.ProducerEpoch, false, clientTopics(r.Topics), r.Version)
		resp.Topics = clientResponse(r.Topics, errs)
		return resp
	}
	for _, rt := range r.Transactions {
		tps := batchTopics(rt.Topics)
		errs := c.addPartitions(rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, rt.VerifyOnly, tps, r.Version)
		resp.Transactions = append(resp.Transactions, batchResponse(rt, errs))
	}
	return resp
}

// AddOffsetsToTxn (API key 25): the group's __consumer_offsets partition
// joins the transaction, so its offsets commit or abort with it; the rules
// are AddPartitionsToTxn's. The partition is the one the group coordinator
// uses (group.PartitionFor), as Kafka asks its group coordinator.
func (c *Coordinator) AddOffsetsToTxn(r *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	resp := kmsg.NewPtrAddOffsetsToTxnResponse()
	resp.Version = r.Version
	tp := TopicPartition{ConsumerOffsetsTopic, group.PartitionFor(r.Group, c.cfg.OffsetsPartitions)}
	err := c.add(r.TransactionalID, r.ProducerID, r.ProducerEpoch, []TopicPartition{tp})
	if err == kerr.ProducerFenced && r.Version < 2 {
		err = kerr.InvalidProducerEpoch
	}
	if err != nil {
		resp.ErrorCode = err.Code
	}
	return resp
}

// addPartitions answers each partition of one transaction.
func (c *Coordinator) addPartitions(id string, pid int64, epoch int16, verify bool, tps []TopicPartition, version int16) map[TopicPartition]*kerr.Error {
	errs := map[TopicPartition]*kerr.Error{}
	var missing bool
	for _, tp := range tps {
		if !c.partitionExists(tp) {
			errs[tp], missing = kerr.UnknownTopicOrPartition, true
		}
	}
	if missing {
		for _, tp := range tps {
			if errs[tp] == nil {
				errs[tp] = kerr.OperationNotAttempted
			}
		}
		return errs
	}
	if verify {
		return c.verify(id, pid, epoch, tps)
	}
	err := c.add(id, pid, epoch, tps)
	if err == kerr.ProducerFenced && version < 2 {
		err = kerr.InvalidProducerEpoch
	}
	for _, tp := range tps {
		errs[tp] = err
	}
	return errs
}

// add puts tps in id's transaction.
func (c *Coordinator) add(id string, pid int64, epoch int16, tps []TopicPartition) *kerr.Error {
	if id == "" {
		return kerr.InvalidRequest
	}
	t, err := c.lock(id)
	if err != nil {
		return err
	}
	if t == nil {
		return kerr.InvalidProducerIDMapping
	}
	defer t.mu.Unlock()
	if err := t.checkProducer(pid, epoch); err != nil {
		return err
	}
	m := t.meta
	if m.state == Ongoing && m.hasAll(tps) {
		return nil
	}
	return t.persist(m.withPartitions(tps, t.c.now()))
}

// checkProducer is the check every request of a transaction passes: its
// producer id and epoch, and no commit or abort in progress.
func (t *txn) checkProducer(pid int64, epoch int16) *kerr.Error {
	switch m := t.meta; {
	case m.producerID != pid || m.epoch == noEpoch: // no epoch: InitProducerId was never stored
		return kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return kerr.ProducerFenced
	case m.state == PrepareCommit || m.state == PrepareAbort:
		return kerr.ConcurrentTransactions
	}
	return nil
}

// verify is AddPartitionsToTxn's VerifyOnly: which partitions are in the
// transaction (a partition leader checks before appending a
// transactional batch, KIP-890).
func (c *Coordinator) verify(id string, pid int64, epoch int16, tps []TopicPartition) map[TopicPartition]*kerr.Error {
	errs := map[TopicPartition]*kerr.Error{}
	all := func(err *kerr.Error) map[TopicPartition]*kerr.Error {
		for _, tp := range tps {
			errs[tp] = err
		}
		return errs
	}
	t, err := c.lock(id)
	switch {
	case err != nil:
		return all(err)
	case t == nil:
		return all(kerr.InvalidProducerIDMapping)
	}
	defer t.mu.Unlock()
	if err := t.checkProducer(pid, epoch); err != nil {
		return all(err)
	}
	for _, tp := range tps {
		errs[tp] = nil
		if !t.meta.has(tp) {
			errs[tp] = kerr.InvalidTxnState
		}
	}
	return errs
}

func clientTopics(ts []kmsg.AddPartitionsToTxnRequestTopic) []TopicPartition {
	var out []TopicPartition
	for _, rt := range ts {
		for _, p := range rt.Partitions {
			out = append(out, TopicPartition{rt.Topic, p})
		}
	}
	return out
}

func batchTopics(ts []kmsg.AddPartitionsToTxnRequestTransactionTopic) []TopicPartition {
	var out []TopicPartition
	for _, rt := range ts {
		for _, p := range rt.Partitions {
			out = append(out, TopicPartition{rt.Topic, p})
		}
	}
	return out
}

func code(err *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	return err.Code
}

func clientResponse(ts []kmsg.AddPartitionsToTxnRequestTopic, errs map[TopicPartition]*kerr.Error) []kmsg.AddPartitionsToTxnResponseTopic {
	var out []kmsg.AddPartitionsToTxnResponseTopic
	for _, rt := range ts {
		st := kmsg.NewAddPartitionsToTxnResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			sp.Partition, sp.ErrorCode = p, code(errs[TopicPartition{rt.Topic, p}])
			st.Partitions = append(st.Partitions, sp)
		}
		out = append(out, st)
	}
	return out
}

func batchResponse(rt kmsg.AddPartitionsToTxnRequestTransaction, errs map[TopicPartition]*kerr.Error) kmsg.AddPartitionsToTxnResponseTransaction {
	st := kmsg.NewAddPartitionsToTxnResponseTransaction()
	st.TransactionalID = rt.TransactionalID
	for _, t := range rt.Topics {
		stt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		stt.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			sp.Partition, sp.ErrorCode = p, code(errs[TopicPartition{t.Topic, p}])
			stt.Partitions = append(stt.Partitions, sp)
		}
		st.Topics = append(st.Topics, stt)
	}
	return st
}
