// Package executor carries out the planner's proposals: Cruise Control's
// Executor, talking to the cluster only through the Kafka admin protocol
// (franz-go's kadm), so it runs against Weir's broker, Apache Kafka and
// MSK alike.
//
// # An execution
//
// Execute validates the moves (a non-empty target, no broker twice, one
// move per partition) and hands them to the goroutine running Run, which
// owns every execution; one runs at a time (ErrBusy otherwise). Phases
// carry Cruise Control's ExecutorState names:
//
//   - STARTING_EXECUTION: the metadata and every reassignment in flight are
//     read. Each move's old replicas and leader are refreshed from the
//     metadata (a stale proposal moves from where the partition is). A
//     move of a missing partition, or of one a reassignment we did not
//     start is moving, is dead; one already on its target set is done.
//     The execution (task, moves, throttles) is written to the state file,
//     then the throttles are set.
//   - INTER_BROKER_REPLICA_MOVEMENT_TASK_IN_PROGRESS: every progress
//     interval, ListPartitionReassignments polls the moves in flight (one
//     is complete when it is no longer listed and the metadata shows its
//     target set; dead when after 5 polls it still does not), then the
//     next batch starts with one AlterPartitionReassignments request.
//     A move counts against every broker gaining or losing a replica and
//     against the partition's current leader (Cruise Control's source and
//     destination brokers); at most ConcurrentPartitionMovementsPerBroker
//     count against a broker and MaxClusterPartitionMovements are in
//     flight. Order: largest partitions first (the longest copies start
//     early), and a move whose broker is full is skipped, not waited for,
//     so smaller moves keep idle brokers copying. A partition the broker
//     refuses (INVALID_REPLICA_ASSIGNMENT, UNKNOWN_TOPIC_OR_PARTITION …)
//     is dead with that error; the others go on.
//   - then the throttles are removed and the state file deleted.
//   - LEADER_MOVEMENT_TASK_IN_PROGRESS: for every move whose partition is
//     not led by NewReplicas[0] or whose replicas are not in NewReplicas'
//     order, in batches of ConcurrentLeaderMovements: partitions whose
//     order differs are reassigned to the same set in the target order
//     (Kafka, and Weir, complete such a reassignment at once), then a
//     preferred leader election moves the leadership; the metadata is
//     polled until it shows the leaders.
//   - STOPPING_EXECUTION: Stop cancels the reassignments in flight
//     (AlterPartitionReassignments with null replicas), waits until none
//     is listed, counts each as completed (it got there first) or aborted,
//     aborts the moves not started, and removes the throttles.
//
// # Throttles
//
// As kafka-reassign-partitions and Cruise Control's
// ReplicationThrottleHelper set them: leader.replication.throttled.rate
// and follower.replication.throttled.rate on every broker holding an old
// or new replica of a moving partition (IncrementalAlterConfigs on the
// BROKER resource), and on each topic leader.replication.throttled.replicas
// (partition:broker of the existing replicas) and
// follower.replication.throttled.replicas (those of the added ones).
// Rates found already set are remembered and restored afterwards; list
// entries are APPENDed, skipping those already present (an operator's, or
// "*"), and exactly the appended ones are SUBTRACTed afterwards. What is
// set is written to the state file before it is set. Throttles are
// removed when the replica phase ends, is stopped or fails; removal is
// retried, and what cannot be removed stays in the state file: Run keeps
// retrying, the next execution starts only once they are gone, and a
// restarted collector removes them at recovery.
//
// # Recovery
//
// Ending Run's context does not stop an execution: its reassignments go
// on and the state file keeps it. On start, Run reads the state file and
// lists every reassignment in flight. Those of the recorded moves (same
// partition and target) are adopted: tracked to completion as an
// execution of the recorded task, then its throttles removed and its
// leadership moves made; recorded moves that were not in flight are not
// restarted. The others are external: reported in State.External and
// left alone. With nothing to adopt, the recorded throttles are removed.
// Execute refuses (ErrBusy) until recovery is done, and State.Recovering
// is true until then; an adopted execution is published as running before
// it turns false (the anomaly detector settles a fix a restart
// interrupted by what it sees then).
//
// # State file
//
// JSON (record in statefile.go): version, task_id, started, moves (the
// model.Move list, old replicas as found at the start), throttles (rate;
// per broker the previous rate values; per topic the appended entries).
// Written atomically: temporary file, fsync, rename, directory fsync.
// Missing: no execution of ours is in flight.
//
// # Metrics
//
// weir_collector_execution_moves_in_flight,
// weir_collector_execution_partitions{state=pending|in_progress|completed|aborted|dead},
// weir_collector_execution_bytes_moved_total,
// weir_collector_execution_bytes_remaining,
// weir_collector_execution_running (0 or 1).
//
// # Files
//
//	config.go     Config, DefaultConfig, Request, limits, validation
//	executor.go   Executor: New, Run, Execute, Stop, State, Wait; outcomes
//	task.go       one move's progress; pickBatch (pure: who starts next)
//	start.go      the start checks, recording, throttle set-up and cleanup
//	replica.go    the replica phase: poll, batches, Stop's cancellation
//	leader.go     the leadership phase: reorder, elect, confirm
//	throttle.go   what to throttle, setting and removing it
//	statefile.go  the state file
//	recover.go    adoption of the previous run's execution
//	state.go      State, the snapshot and its counts
//	metrics.go    Prometheus series
//
//	core_test.go      the pure parts: batches, validation, throttle
//	                  entries, the state file, counts
//	executor_test.go  against a 4-broker brokertest cluster; package
//	                  executor_test, since brokertest → cluster →
//	                  collector → executor (export_test.go: its hooks)
//
// # Concurrency
//
// Run's goroutine owns executions and their tasks. Executor.mu guards the
// published State, the current execution pointer, the recovery flag and
// the outcomes; it is never held across a request to the cluster. Stop
// only closes the execution's stop channel. The package starts no
// goroutine of its own.
package executor
