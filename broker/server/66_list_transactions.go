package server

import "github.com/twmb/franz-go/pkg/kmsg"

// ListTransactions, versions 0–1 (KIP-664; v2's pattern needs
// transaction.version 2): the transactional ids this broker coordinates,
// filtered (broker/txn).
func (b *Broker) handleListTransactions(r *kmsg.ListTransactionsRequest) kmsg.Response {
	return b.txns.ListTransactions(r)
}
