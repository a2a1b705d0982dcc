// Package internaltopic is what the group coordinator (broker/group, on
// __consumer_offsets) and the transaction coordinator (broker/txn, on
// __transaction_state) share about keeping their state in a compacted
// internal topic:
//
//   - Storage, the seam to the partition logs, and MemoryStorage, its
//     in-memory implementation for tests (storage.go);
//   - the batches they write and replay: one uncompressed magic-2 batch
//     with no producer per write, a null value deleting a key (batch.go);
//   - Replay, the loop that reads a partition from its log start to its
//     end when the coordinator becomes its leader (load.go);
//   - Partitions, which partitions a coordinator owns: loading, owned at
//     an epoch, or not at all, and the error a request for each gets
//     (partitions.go).
//
// It holds no coordinator state and takes no lock of its own besides
// MemoryStorage's: Partitions is guarded by its coordinator's mutex, so
// each coordinator's lock order (docs/DESIGN.md) stays as it was. The
// record schemas, what a load does with the records and what a request
// does while its partition loads stay in each coordinator.
package internaltopic
