package server

import "github.com/twmb/franz-go/pkg/kmsg"

// AddOffsetsToTxn, versions 0–4: adds the group's __consumer_offsets
// partition to the transaction (broker/txn).
func (b *Broker) handleAddOffsetsToTxn(r *kmsg.AddOffsetsToTxnRequest) kmsg.Response {
	return b.txns.AddOffsetsToTxn(r)
}
