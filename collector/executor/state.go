package executor

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Phases, named as Cruise Control's ExecutorState names them.
const (
	PhaseIdle     = "NO_TASK_IN_PROGRESS"
	PhaseStarting = "STARTING_EXECUTION"
	PhaseReplicas = "INTER_BROKER_REPLICA_MOVEMENT_TASK_IN_PROGRESS"
	PhaseLeaders  = "LEADER_MOVEMENT_TASK_IN_PROGRESS"
	PhaseStopping = "STOPPING_EXECUTION"
)

// State is a snapshot of the executor. While a task runs, the counts
// describe it; when idle they describe the last task (LastTaskID).
type State struct {
	Phase   string
	TaskID  string // the running task; "" when idle
	Started time.Time
	// Recovering is true from New until Run has looked for the previous
	// run's execution (and, when it adopted one, published it as
	// running): until then an idle Phase does not mean nothing runs.
	Recovering bool

	Partitions PartitionCounts
	Leaders    LeaderCounts

	DataToMove    int64         // bytes all replica moves copy
	DataMoved     int64         // bytes of the completed replica moves (in-flight ones count nothing)
	DataRemaining int64         // DataToMove of the moves not completed, aborted or dead
	ETA           time.Duration // DataRemaining at the rate observed so far; 0 before the first completion
	Throttle      int64         // the replication throttle in bytes/s; 0: none

	InFlight []InFlightMove
	// PeakBrokerMoves is the most replica moves counted against one
	// broker at the same time during the task.
	PeakBrokerMoves int
	// Failures lists the dead partition movements and the failed
	// leadership movements, each with its error.
	Failures []MoveFailure

	// External lists the reassignments ("topic-partition") in flight that
	// this executor did not start, as seen at recovery or at the last
	// execution's start; they are left alone.
	External []string

	LastTaskID string
	LastResult string // a one-line summary of the last task
	LastError  string
	Finished   time.Time
}

// PartitionCounts counts a task's replica movements by state.
type PartitionCounts struct {
	Total, Pending, InProgress, Completed, Aborted, Dead int
}

// LeaderCounts counts a task's leadership movements by state.
type LeaderCounts struct {
	Total, Pending, Completed, Aborted, Failed int
}

// InFlightMove is one reassignment in progress.
type InFlightMove struct {
	Partition string // topic-partition
	From, To  []int32
	Since     time.Time
}

// MoveFailure is a dead move and why.
type MoveFailure struct {
	Partition string
	Error     string
}

// clone returns a copy of s sharing no slices.
func (s State) clone() State {
	s.InFlight = slices.Clone(s.InFlight)
	s.Failures = slices.Clone(s.Failures)
	s.External = slices.Clone(s.External)
	return s
}

// summarize builds the counts and progress of tasks into s.
func (s *State) summarize(tasks []*task, replicaStart, now time.Time) {
	s.Partitions, s.Leaders = PartitionCounts{}, LeaderCounts{}
	s.DataToMove, s.DataMoved, s.DataRemaining = 0, 0, 0
	s.InFlight, s.Failures = nil, nil
	for _, t := range tasks {
		s.count(t)
	}
	s.ETA = eta(s.DataMoved, s.DataRemaining, now.Sub(replicaStart))
}

func (s *State) count(t *task) {
	if t.move.MovesReplicas() || t.replicas == dead {
		s.countReplicas(t)
	}
	switch t.leader {
	case leaderPending:
		s.Leaders.Pending++
	case leaderCompleted:
		s.Leaders.Completed++
	case leaderAborted:
		s.Leaders.Aborted++
	case leaderFailed:
		s.Leaders.Failed++
		s.Failures = append(s.Failures, MoveFailure{Partition: t.move.Name(), Error: "leadership movement: " + t.err})
	}
	if t.leader != leaderNone {
		s.Leaders.Total++
	}
}

func (s *State) countReplicas(t *task) {
	s.Partitions.Total++
	n := t.dataToMove()
	s.DataToMove += n
	switch t.replicas {
	case pending:
		s.Partitions.Pending++
		s.DataRemaining += n
	case inProgress:
		s.Partitions.InProgress++
		s.DataRemaining += n
		s.InFlight = append(s.InFlight, InFlightMove{Partition: t.move.Name(), From: t.move.OldReplicas, To: t.move.NewReplicas, Since: t.since})
	case completed:
		s.Partitions.Completed++
		s.DataMoved += n
	case aborted:
		s.Partitions.Aborted++
	case dead:
		s.Partitions.Dead++
		s.Failures = append(s.Failures, MoveFailure{Partition: t.move.Name(), Error: t.err})
	}
}

// eta extrapolates the rate observed over elapsed.
func eta(moved, remaining int64, elapsed time.Duration) time.Duration {
	if moved <= 0 || elapsed <= 0 || remaining <= 0 {
		return 0
	}
	rate := float64(moved) / elapsed.Seconds()
	return time.Duration(float64(remaining) / rate * float64(time.Second))
}

// result is the one-line summary of a finished task.
func (s *State) result(stopped bool) string {
	var b strings.Builder
	if stopped {
		b.WriteString("stopped: ")
	}
	p, l := s.Partitions, s.Leaders
	fmt.Fprintf(&b, "%d of %d partition movements completed, %d aborted, %d dead; %d of %d leadership movements completed, %d aborted, %d failed",
		p.Completed, p.Total, p.Aborted, p.Dead, l.Completed, l.Total, l.Aborted, l.Failed)
	return b.String()
}
