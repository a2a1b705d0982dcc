package server

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddPartitionsToTxn, versions 0–5: v0–v3 from producers adding
// partitions to their transaction; v4+ batched from brokers, adding or
// (VerifyOnly, KIP-890) asking (broker/txn; the coordinator treats v5 as
// v4). A transaction answered CONCURRENT_TRANSACTIONS (its previous
// transaction's markers still being written) is asked again once they
// are, held at most concurrentTxnHold (awaitMarkers).
func (b *Broker) handleAddPartitionsToTxn(r *kmsg.AddPartitionsToTxnRequest) kmsg.Response {
	return b.addPartitionsToTxn(r)
}

func (b *Broker) addPartitionsToTxn(r *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := b.txns.AddPartitionsToTxn(r)
	deadline := time.Now().Add(concurrentTxnHold) // wall clock: a request's hold, fed to a timer
	if r.Version < 4 {
		for concurrentTopics(resp.Topics) && b.awaitMarkers(r.TransactionalID, deadline) {
			resp = b.txns.AddPartitionsToTxn(r)
		}
		return resp
	}
	for i, rt := range r.Transactions {
		if i >= len(resp.Transactions) {
			break
		}
		for concurrentTransaction(resp.Transactions[i]) && b.awaitMarkers(rt.TransactionalID, deadline) {
			one := *r
			one.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{rt}
			resp.Transactions[i] = b.txns.AddPartitionsToTxn(&one).Transactions[0]
		}
	}
	return resp
}

// concurrentTopics reports whether a v0–v3 answer is
// CONCURRENT_TRANSACTIONS (the coordinator gives every partition the same
// error).
func concurrentTopics(ts []kmsg.AddPartitionsToTxnResponseTopic) bool {
	for _, t := range ts {
		for _, p := range t.Partitions {
			return p.ErrorCode == kerr.ConcurrentTransactions.Code
		}
	}
	return false
}

// concurrentTransaction is concurrentTopics for one transaction of a v4+
// answer.
func concurrentTransaction(t kmsg.AddPartitionsToTxnResponseTransaction) bool {
	for _, tt := range t.Topics {
		for _, p := range tt.Partitions {
			return p.ErrorCode == kerr.ConcurrentTransactions.Code
		}
	}
	return false
}
