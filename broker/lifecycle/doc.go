// Package lifecycle is the KRaft control layer of a broker: its own
// lifecycle towards the active controller, and the controller's duties
// when this broker's raft node leads the metadata quorum.
//
//   - lifecycle.go: Lifecycle, the broker's side (Kafka's
//     BrokerLifecycleManager): register with the active controller,
//     heartbeat it, send it the ISR changes this broker's partition
//     leaders want (AlterPartition), and ask it for a controlled shutdown
//     when stopping. Fenced says whether this process is registered and
//     unfenced.
//   - forward.go: Request, one request to the active controller on a
//     short-lived connection (forwarded admin requests, KIP-590; topic
//     auto-creation; producer-id blocks).
//   - controller.go: Controller, the active controller's loop (fence
//     brokers whose session expired, complete reassignments whose targets
//     are in sync, move leadership back to preferred replicas) and
//     Propose, through which the server's admin handlers change metadata.
//     Its decisions are broker/quorum's pure functions; this package runs
//     them on a clock.
//
// It imports downward only: quorum (through the Quorum interface, which
// *quorum.Node implements), replication (the hosted replicas whose ISR
// changes it sends), protocol (Peer) and config. The server owns the
// goroutines: Run of each type on one of the broker's, the ISR-change loop
// through Options.Goroutine; all stop when the context given to New or
// NewController is done.
//
// Time: due times and sessions are on Options.Now, the broker's clock;
// tickers, socket deadlines and the controlled shutdown's bound (a real
// wait while the process stops) are on the wall clock.
//
// Locks: Lifecycle.mu (the broker epoch) and Controller.mu (the heartbeat
// tracker) are each taken alone, never while holding another lock.
// Replica locks are taken by the ISR-change loop one replica at a time,
// with neither held.
package lifecycle
