// Package server is the Kafka protocol server: it accepts connections,
// decodes requests (broker/protocol), dispatches them to one handler per API
// key (00_produce.go, 01_fetch.go, …; each file opens with the versions it
// handles and how), and owns the topics and partitions this broker hosts.
//
// Two layers below it are packages of their own, which the server wires
// in New and is the only package to import:
//
//   - broker/replication: each partition's replica state (the handlers'
//     partition methods are one-line delegates to it), role changes, the
//     follower fetchers, replication throttles, the high-watermark
//     checkpoint;
//   - broker/lifecycle: registration, heartbeats, ISR change requests and
//     controlled shutdown towards the controller, requests forwarded to
//     it, and the active controller's loop and proposals.
//
// What stays here: connections and dispatch, the handlers, the topic
// registry and reconcile.go (applying a metadata image to it), the quorum
// node's wiring and the metadata loop (quorum.go), the group coordinator's
// storage (groups.go), log maintenance and provisioned storage.
//
// Concurrency (see docs/DESIGN.md for the whole broker's lock order):
//
//   - One goroutine per connection reads a request, handles it and writes
//     the response before reading the next, as Kafka's broker does (a
//     connection is muted while its request is in flight). Different
//     connections run in parallel.
//   - Broker.mu guards the topic maps. Handlers take it to look partitions
//     up and release it before touching a log or calling into replication
//     or lifecycle. Topic admin operations take it for writing; they are
//     rare.
//   - Each partition's log has its own lock (broker/log); its replica state
//     and parked-request set have theirs (broker/replication), always
//     taken after, never while holding, Broker.mu.
//   - Every goroutine is started through Broker.goroutine, also those of
//     replication and lifecycle, so Run does not return until all of them
//     have.
//
// Time: Options.Now is the broker's clock, passed to every layer; the wall
// clock is read only for timers, socket deadlines and latency metrics.
package server
