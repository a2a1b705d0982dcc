// Package group is the group coordinator: the classic consumer-group
// protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup with rebalance and
// session timeouts, static membership, the initial rebalance delay), the
// consumer protocol of KIP-848 (ConsumerGroupHeartbeat with server-side
// assignors and epoch-based reconciliation: consumer.go, assignor.go,
// reconcile.go; regex subscriptions: regex.go), committed offsets and their retention, and the admin
// views of groups. A group uses one protocol at a time; an empty group
// switches on the other protocol's first join.
//
// The core is deterministic: time comes from Config.Now, and nothing fires
// on its own. Tick checks every deadline (session, rebalance, pending sync,
// MEMBER_ID_REQUIRED members, offset retention) against that clock; Run
// calls Tick on a ticker until its context ends. Requests that must wait
// (JoinGroup and SyncGroup) take a reply callback that is called exactly
// once, possibly before the call returns, possibly from a later request or
// Tick.
//
// State is durable in __consumer_offsets with Kafka's own record schemas
// (records.go): OffsetCommitKey/Value and GroupMetadataKey/Value, one
// uncompressed v2 batch per write, a null value deleting a key. Storage is
// the seam to the partition logs, shared with the transaction coordinator
// with the batches, the load loop and the partition states
// (broker/internaltopic); LoadPartition replays one partition and
// UnloadPartition drops it (leadership moves, when replication exists).
//
// Locking: each Group has a mutex guarding all of its state (members,
// generation, offsets); Coordinator.mu guards only the group map and the
// partition states and is taken after a group's mutex, never before it.
// A group's mutex is held across its appends to Storage, so its records
// reach the log in the order its state changed.
package group
