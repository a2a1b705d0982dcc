package server

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddOffsetsToTxn, versions 0–4: adds the group's __consumer_offsets
// partition to the transaction (broker/txn); CONCURRENT_TRANSACTIONS is
// held for the markers as AddPartitionsToTxn holds it.
func (b *Broker) handleAddOffsetsToTxn(r *kmsg.AddOffsetsToTxnRequest) kmsg.Response {
	resp := b.txns.AddOffsetsToTxn(r)
	deadline := time.Now().Add(concurrentTxnHold) // wall clock: a request's hold, fed to a timer
	for resp.ErrorCode == kerr.ConcurrentTransactions.Code && b.awaitMarkers(r.TransactionalID, deadline) {
		resp = b.txns.AddOffsetsToTxn(r)
	}
	return resp
}
