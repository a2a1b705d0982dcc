// Package server is the Kafka protocol server: it accepts connections,
// decodes requests (broker/protocol), dispatches them to one handler per API
// key (00_produce.go, 01_fetch.go, …; each file opens with the versions it
// handles and how), and owns the partitions this broker hosts.
//
// Concurrency (see docs/DESIGN.md for the lock order):
//
//   - One goroutine per connection reads a request, handles it and writes
//     the response before reading the next, as Kafka's broker does (a
//     connection is muted while its request is in flight). Different
//     connections run in parallel.
//   - Broker.mu guards the topic maps. Handlers take it to look partitions
//     up and release it before touching a log. Topic admin operations take
//     it for writing; they are rare.
//   - Each partition's log has its own lock (broker/log); a partition's
//     waiter set (long-polling fetches) has its own small lock, always taken
//     after, never while holding, Broker.mu.
//   - Every goroutine is started through Broker.goroutine, so Run does not
//     return until all of them have.
package server
