// Package quorum is the replicated cluster metadata: a raft state machine
// (hashicorp/raft, the KRaft model) holding broker registrations and
// fencing, topics, partitions (replicas, ISR, leader, leader and partition
// epochs, reassignments), topic and dynamic broker configs, producer-id
// blocks and the cluster id, and the controller's decisions the raft
// leader takes over that state.
//
// Files:
//
//	image.go       Image: the immutable, copy-on-write state readers hold
//	command.go     the log's commands and their versioned encoding
//	apply.go       each command's deterministic, total apply
//	fsm.go         raft.FSM over the image: batches, snapshots, Watch
//	controller.go  pure decisions: placement, elections, fencing,
//	               reassignment steps, heartbeat tracking
//	stream.go      the raft transport over the broker's Kafka port
//	node.go        Node: one broker's raft member
//
// docs/QUORUM.md describes the design, the API and how the broker wires it.
package quorum
