package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/acl"
)

// The authorization of the transaction APIs, as Kafka 3.9's KafkaApis
// performs it (transactional Produce is in authz.go's produce):
//
//   - InitProducerId (22): WRITE on the transactional id; without one,
//     IDEMPOTENT_WRITE on the cluster or WRITE on any topic (KIP-679).
//   - AddPartitionsToTxn (24) v0–v3: WRITE on the transactional id
//     (refused: every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
//     then WRITE on each topic, internal topics never; one topic refused
//     fails the whole transaction: the refused partitions
//     TOPIC_AUTHORIZATION_FAILED, the missing ones
//     UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED.
//     v4+ (broker to broker): CLUSTER_ACTION, the top-level error.
//   - AddOffsetsToTxn (25): WRITE on the transactional id, then READ on
//     the group.
//   - EndTxn (26): WRITE on the transactional id.
//   - WriteTxnMarkers (27): ALTER or CLUSTER_ACTION on the cluster
//     (refused: every partition CLUSTER_AUTHORIZATION_FAILED).
//   - TxnOffsetCommit (28): WRITE on the transactional id, READ on the
//     group (both: every partition gets the error), READ on each topic.
//   - DescribeTransactions (65): DESCRIBE on each id; the partitions of
//     topics the principal may not DESCRIBE are left out.
//   - ListTransactions (66): only the ids the principal may DESCRIBE.

func (z authz) addOffsetsToTxn(r *kmsg.AddOffsetsToTxnRequest) (kmsg.Response, error, bool) {
	if !z.txnID(acl.OpWrite, r.TransactionalID) {
		return z.refuse(r, txnDenied)
	}
	return z.whole(r, z.group(acl.OpRead, r.Group), groupDenied)
}

func (z authz) listTransactions(r *kmsg.ListTransactionsRequest) (kmsg.Response, error, bool) {
	resp := z.b.handleListTransactions(r).(*kmsg.ListTransactionsResponse)
	resp.TransactionStates, _ = split(resp.TransactionStates, func(s kmsg.ListTransactionsResponseTransactionState) bool {
		return z.txnID(acl.OpDescribe, s.TransactionalID)
	})
	return resp, nil, true
}

func (z authz) initProducerID(r *kmsg.InitProducerIDRequest) (kmsg.Response, error, bool) {
	if r.TransactionalID != nil {
		return z.whole(r, z.txnID(acl.OpWrite, *r.TransactionalID), txnDenied)
	}
	return z.whole(r, z.cluster(acl.OpIdempotentWrite) ||
		z.a.AuthorizeByResourceType(z.s.principal, z.s.host, acl.OpWrite, acl.ResourceTopic), clusterDenied)
}

func (z authz) addPartitionsToTxn(r *kmsg.AddPartitionsToTxnRequest) (kmsg.Response, error, bool) {
	if r.Version >= 4 {
		return z.whole(r, z.cluster(acl.OpClusterAction), clusterDenied)
	}
	if !z.txnID(acl.OpWrite, r.TransactionalID) {
		return z.refuse(r, txnDenied)
	}
	writable := func(t kmsg.AddPartitionsToTxnRequestTopic) bool {
		return !isInternal(t.Topic) && z.topic(acl.OpWrite, t.Topic)
	}
	if _, refused := split(r.Topics, writable); len(refused) == 0 {
		return pass()
	}
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	resp.Topics = each(r.Topics, func(t kmsg.AddPartitionsToTxnRequestTopic) kmsg.AddPartitionsToTxnResponseTopic {
		return addPartitionsRefused(t, func(p int32) int16 {
			if !writable(t) {
				return topicDenied
			}
			if _, exists := z.img.Partition(t.Topic, p); !exists {
				return kerr.UnknownTopicOrPartition.Code
			}
			return kerr.OperationNotAttempted.Code
		})
	})
	return resp, nil, true
}

func (z authz) txnOffsetCommit(r *kmsg.TxnOffsetCommitRequest) (kmsg.Response, error, bool) {
	if !z.txnID(acl.OpWrite, r.TransactionalID) {
		return z.refuse(r, txnDenied)
	}
	if !z.group(acl.OpRead, r.Group) {
		return z.refuse(r, groupDenied)
	}
	return serveRest(&r.Topics, func(t kmsg.TxnOffsetCommitRequestTopic) bool { return z.topic(acl.OpRead, t.Topic) },
		func() kmsg.Response { return z.b.handleTxnOffsetCommit(r) },
		func(p *kmsg.TxnOffsetCommitResponse) *[]kmsg.TxnOffsetCommitResponseTopic { return &p.Topics },
		txnOffsetCommitRefused(topicDenied))
}

func (z authz) describeTransactions(r *kmsg.DescribeTransactionsRequest) (kmsg.Response, error, bool) {
	kept, refused := split(r.TransactionalIDs, func(id string) bool { return z.txnID(acl.OpDescribe, id) })
	r.TransactionalIDs = kept
	resp := z.b.handleDescribeTransactions(r).(*kmsg.DescribeTransactionsResponse)
	for i := range resp.TransactionStates {
		st := &resp.TransactionStates[i]
		st.Topics, _ = split(st.Topics, func(t kmsg.DescribeTransactionsResponseTransactionStateTopic) bool {
			return z.topic(acl.OpDescribe, t.Topic)
		})
	}
	resp.TransactionStates = append(resp.TransactionStates, each(refused, describeTransactionRefused(txnDenied))...)
	return resp, nil, true
}
