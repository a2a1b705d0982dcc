// Package quorum is the replicated cluster metadata: a raft state machine
// (hashicorp/raft, the KRaft model) holding broker registrations and
// fencing, topics, partitions (replicas, ISR, leader, leader and partition
// epochs, reassignments), topic and dynamic broker configs, producer-id
// blocks, the cluster id, users' SCRAM credentials and ACL bindings, and
// the controller's decisions the raft leader takes over that state.
//
// Files:
//
//	image.go       Image: the immutable, copy-on-write state readers hold
//	command.go     the log's commands and their versioned encoding
//	apply.go       each command's deterministic, total apply
//	security.go    SCRAM credentials and ACL bindings: their commands,
//	               apply and the image's lookups
//	fsm.go         raft.FSM over the image: batches, snapshots, Watch
//	controller.go  pure decisions: placement, elections, fencing,
//	               reassignment steps, heartbeat tracking
//	session.go     Sessions: the leader's broker heartbeats and fencing
//	stream.go      the raft transport over the broker's Kafka port
//	node.go        Node: one broker's raft member
//	hclog.go       raft's hclog logging sent to log/slog
//
// Every image keeps two invariants: each ISR is a non-empty subset of its
// replicas, and each partition leader is NoLeader or a live (registered,
// unfenced) member of its ISR — so Metadata answered from any image never
// names a fenced broker as a leader.
//
// Node.Watch (or FSM.Watch) is how the broker learns of new images: it
// returns the current image and a channel closed when a newer one is
// published; images are published on raft's FSM goroutine and never block
// on readers.
//
// docs/QUORUM.md describes the design, the API and how the broker wires it.
package quorum
