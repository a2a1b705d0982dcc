// Package txn is the transaction coordinator (KIP-98): the state of every
// transactional id whose __transaction_state partition this broker leads,
// and the rules that move it (InitProducerId with a transactional id,
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions,
// ListTransactions). It is the sibling of broker/group and is built the
// same way; docs/TRANSACTIONS.md has the model and what the broker must
// still wire.
//
// The core is deterministic: time comes from Config.Now, and nothing fires
// on its own. Tick aborts transactions past their timeout, expires idle
// transactional ids and resends markers that failed; Run calls Tick on a
// ticker until its context ends. The requests take kmsg requests and
// return kmsg responses, answering at once: EndTxn is answered when its
// Prepare state is stored, as Kafka answers it. A request answered
// CONCURRENT_TRANSACTIONS may wait, outside the core, on MarkersSettled:
// a channel closed when the markers are written and the Complete state
// stored (the broker holds AddPartitionsToTxn on it).
//
// State is durable in __transaction_state with Kafka's record schemas
// (records.go: TransactionLogKey and TransactionLogValue v0/v1), one
// uncompressed v2 batch per write, a null value deleting an id. Storage is
// the seam to the partition logs, shared with the group coordinator with
// the batches, the load loop and the partition states (broker/internaltopic);
// LoadPartition replays one partition at a coordinator epoch and resends
// the markers of every prepared transaction; UnloadPartition drops it.
// The two other seams are Config.NewProducerID (the broker's producer id
// blocks) and MarkerWriter (WriteTxnMarkers to the partition leaders,
// answered asynchronously).
//
// A transition is computed on a copy of the id's state (meta.go), appended,
// and only then made the state, so a failed append leaves nothing changed
// (Kafka's pending state). PrepareEpochFence is never stored: fencing an
// Ongoing transaction stores PrepareAbort with the bumped epoch.
//
// Locking: each transactional id has a mutex (txn.mu) guarding its state
// and its markers' progress, held across its appends to Storage so its
// records reach the log in the order its state changed, and across
// Config.NewProducerID when the id moves to a new producer id. Coordinator.mu
// guards only the id map and the partition states; it is taken after an
// id's mutex or alone, never before one. Neither is held while calling
// MarkerWriter.WriteMarkers, whose answer may come before it returns.
package txn
