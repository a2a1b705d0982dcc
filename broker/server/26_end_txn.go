package server

import "github.com/twmb/franz-go/pkg/kmsg"

// EndTxn, versions 0–4 (v5 needs transaction.version 2 finalized, which
// this broker does not advertise): answered once PrepareCommit or
// PrepareAbort is stored; the markers follow (broker/txn).
func (b *Broker) handleEndTxn(r *kmsg.EndTxnRequest) kmsg.Response {
	return b.txns.EndTxn(r)
}
