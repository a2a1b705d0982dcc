package anomaly

import (
	"time"

	"github.com/weirhq/weir/collector/model"
)

// Observation is everything one detection round sees, read by the loop
// (run.go) and handed to Detector.Step. Detectors are pure functions of
// it and the detector's memory.
type Observation struct {
	Time time.Time
	// Alive are the brokers the metadata lists (registered, unfenced).
	Alive map[int32]bool
	// Partitions are the metadata's partitions; nil when the metadata
	// could not be read this round (broker and topic detection then
	// keep what they knew).
	Partitions []PartitionState
	// LogDirs are each broker's log directories (DescribeLogDirs); nil
	// when not read.
	LogDirs map[int32][]LogDir
	// MinISR is each topic's min.insync.replicas, where known.
	MinISR map[string]int
	// Model and Proposal are the API's latest default-goal proposal and
	// the model it was computed on (nil before the first), ProposalTime
	// when it was computed.
	Model        *model.Cluster
	Proposal     *model.Proposal
	ProposalTime time.Time
	// Executing is true while the executor runs an execution (any task);
	// ExecutorTask is its task id.
	Executing    bool
	ExecutorTask string
	// ExecutorRecovering is true while the executor, at start, looks for
	// the previous run's execution to adopt (no fix can start then).
	ExecutorRecovering bool
}

// PartitionState is one partition as the metadata shows it.
type PartitionState struct {
	Topic     string
	Partition int32
	Replicas  []int32
	ISR       []int32
	Offline   []int32
}

// LogDir is one log directory of a broker.
type LogDir struct {
	Path    string
	Offline bool // DescribeLogDirs answered KAFKA_STORAGE_ERROR for it
	Error   string
}
