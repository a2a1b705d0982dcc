// Package txn is the transaction coordinator (KIP-98): the state of every
// transactional id whose __transaction_state partition this broker leads,
// and the rules that move it.
package txn
