package server

import "github.com/twmb/franz-go/pkg/kmsg"

// TxnOffsetCommit, versions 0–4: offsets committed inside a transaction,
// held pending by the group coordinator until the transaction's marker
// reaches the group's partition (broker/group/txn.go).
func (b *Broker) handleTxnOffsetCommit(r *kmsg.TxnOffsetCommitRequest) kmsg.Response {
	return b.groups.TxnOffsetCommit(r)
}
