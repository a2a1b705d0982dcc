package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/group"
	"github.com/weirhq/weir/broker/txn"
)

// TxnOffsetCommit, versions 0–5: offsets committed inside a transaction,
// held pending by the group coordinator until the transaction's marker
// reaches the group's partition (broker/group/txn.go). v5 (transaction
// version 2, whose clients send no AddOffsetsToTxn) first adds the group's
// __consumer_offsets partition to the transaction, as AddOffsetsToTxn
// would (AddPartitionsToTxn v5 to the transaction coordinator); its error,
// if any, answers every partition.
func (b *Broker) handleTxnOffsetCommit(r *kmsg.TxnOffsetCommitRequest) kmsg.Response {
	if r.Version >= 5 {
		if code := b.addOffsetsPartition(r); code != 0 {
			return txnOffsetCommitError(r, code)
		}
	}
	return b.groups.TxnOffsetCommit(r)
}

// addOffsetsPartition asks the coordinator to add the group's offsets
// partition to r's transaction and returns the error code.
func (b *Broker) addOffsetsPartition(r *kmsg.TxnOffsetCommitRequest) int16 {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 5
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch = r.TransactionalID, r.ProducerID, r.ProducerEpoch
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = txn.ConsumerOffsetsTopic, []int32{group.PartitionFor(r.Group, b.cfg.OffsetsTopicNumPartitions)}
	tx.Topics = append(tx.Topics, rt)
	req.Transactions = append(req.Transactions, tx)
	return b.askTxnCoordinator(r.TransactionalID, req)
}

func txnOffsetCommitError(r *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
