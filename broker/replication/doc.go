// Package replication is a broker's replication layer, between the
// request handlers (broker/server) and the pure replication state machine
// (broker/replica), as Kafka's ReplicaManager and ReplicaFetcherThread
// are:
//
//   - replica.go: Replica, one hosted partition's replication state (its
//     log, the state machine under a lock, the requests parked on it
//     waiting for the log or the high watermark to move);
//   - manager.go: Manager, which moves replicas between leader, follower
//     and none as metadata says (Apply, Stop) and owns the fetchers;
//   - fetcher.go: follower replication, one fetcher per leader, with
//     truncation by leader epoch (KIP-101, KIP-279) before fetching;
//   - throttle.go: the replication throttles (leader and follower quotas,
//     each topic's throttled replicas);
//   - hwcheckpoint.go: the high-watermark checkpoint of each log dir.
//
// It imports downward only (log, replica, protocol, metadata for the
// atomic checkpoint write): the server reaches
// it through Manager and Replica, and it reaches the server only through
// the Partition interface and the functions in Options (a broker's
// address, the broker's clock and goroutine tracker). Every goroutine it
// starts (the fetchers) goes through Options.Goroutine and stops when the
// context given to New is done.
//
// Time: state (ISR lag, quotas, retry backoffs) is on Options.Now, the
// broker's clock; timers and socket deadlines are on the wall clock.
//
// Lock order (the whole broker's is in docs/DESIGN.md): fetchers.mu, then
// replicaFetcher.mu (a fetch response is applied under it), then a log's
// locks, then Replica.mu, then Replica.waitMu. Replica.mu is never held
// while taking a log lock.
package replication
