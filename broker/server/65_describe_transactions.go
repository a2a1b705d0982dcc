package server

import "github.com/twmb/franz-go/pkg/kmsg"

// DescribeTransactions, version 0 (KIP-664): the state of transactional
// ids this broker coordinates (broker/txn).
func (b *Broker) handleDescribeTransactions(r *kmsg.DescribeTransactionsRequest) kmsg.Response {
	return b.txns.DescribeTransactions(r)
}
