package server

import "github.com/twmb/franz-go/pkg/kmsg"

// AddPartitionsToTxn, versions 0–5: v0–v3 from producers adding
// partitions to their transaction; v4+ batched from brokers, adding or
// (VerifyOnly, KIP-890) asking (broker/txn; the coordinator treats v5 as
// v4).
func (b *Broker) handleAddPartitionsToTxn(r *kmsg.AddPartitionsToTxnRequest) kmsg.Response {
	return b.txns.AddPartitionsToTxn(r)
}
