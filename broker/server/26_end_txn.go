package server

import "github.com/twmb/franz-go/pkg/kmsg"

// EndTxn, versions 0–5 (v5, advertised with transaction.version 2: the
// epoch bumps per transaction and the answer carries the producer id and
// epoch to use next): answered once PrepareCommit or PrepareAbort is
// stored; the markers follow (broker/txn).
func (b *Broker) handleEndTxn(r *kmsg.EndTxnRequest) kmsg.Response {
	return b.txns.EndTxn(r)
}
