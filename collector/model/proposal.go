package model

import (
	"fmt"
	"slices"
	"time"
)

// Move is one partition's change: a new replica set (the first replica is
// the preferred leader the move ends with) or, with the same set, only a
// new leader. Cruise Control's ExecutionProposal.
type Move struct {
	Topic       string
	Partition   int32
	OldReplicas []int32
	NewReplicas []int32
	OldLeader   int32
	Size        float64 // bytes one replica holds: what each added replica copies
}

// Name is "topic-partition".
func (m *Move) Name() string { return fmt.Sprintf("%s-%d", m.Topic, m.Partition) }

// NewLeader is the leader the move ends with.
func (m *Move) NewLeader() int32 { return m.NewReplicas[0] }

// Added lists the brokers that gain a replica.
func (m *Move) Added() []int32 { return minus(m.NewReplicas, m.OldReplicas) }

// Removed lists the brokers that lose a replica.
func (m *Move) Removed() []int32 { return minus(m.OldReplicas, m.NewReplicas) }

// MovesReplicas reports whether the replica set changes (data is copied).
func (m *Move) MovesReplicas() bool { return len(m.Added()) > 0 || len(m.Removed()) > 0 }

// MovesLeader reports whether the leader changes.
func (m *Move) MovesLeader() bool { return m.NewLeader() != m.OldLeader }

// DataToMove is the bytes the move copies: one replica per added broker.
func (m *Move) DataToMove() float64 { return m.Size * float64(len(m.Added())) }

func minus(a, b []int32) []int32 {
	var out []int32
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// GoalResult is one goal's outcome in a proposal.
type GoalResult struct {
	Goal string
	Hard bool
	// Status is Cruise Control's optimization status: "NO-ACTION" (already
	// satisfied), "FIXED" (satisfied after the moves), "VIOLATED" (still
	// not satisfied: a hard goal's violation fails the proposal).
	Status string
	// Balancedness before and after, 0–100 (100: satisfied).
	Before, After float64
	Duration      time.Duration
}

// Proposal is the planner's answer: the moves, and what they achieve.
type Proposal struct {
	Moves []Move
	Goals []GoalResult
	// Before and After summarize the model without and with the moves.
	Before, After Stats
	// DataToMove is Σ Move.DataToMove; LowerBound is the least any plan
	// reaching the disk targets must copy: Σ_b max(0, used_b − target_b).
	DataToMove     float64
	LowerBound     float64
	ExcludedTopics []string
	Duration       time.Duration
}

// ReplicaMoves counts the moves that change a replica set.
func (p *Proposal) ReplicaMoves() int {
	n := 0
	for i := range p.Moves {
		if p.Moves[i].MovesReplicas() {
			n++
		}
	}
	return n
}

// LeaderMoves counts the moves that only change the leader.
func (p *Proposal) LeaderMoves() int {
	n := 0
	for i := range p.Moves {
		if !p.Moves[i].MovesReplicas() && p.Moves[i].MovesLeader() {
			n++
		}
	}
	return n
}

// Apply returns a copy of c with the moves made: each moved partition gets
// its new replicas and leader. c is not changed. Moves naming partitions
// that are not in c are errors.
func Apply(c *Cluster, moves []Move) (*Cluster, error) {
	out := *c
	out.Partitions = slices.Clone(c.Partitions)
	idx := make(map[string]int, len(moves))
	for i := range moves {
		idx[moves[i].Name()] = i
	}
	found := 0
	for i := range out.Partitions {
		p := &out.Partitions[i]
		mi, ok := idx[p.Name()]
		if !ok {
			continue
		}
		found++
		m := &moves[mi]
		p.Replicas = slices.Clone(m.NewReplicas)
		p.Leader = m.NewLeader()
	}
	if found != len(idx) {
		return nil, fmt.Errorf("applying %d moves: %d name partitions the model does not have", len(idx), len(idx)-found)
	}
	return &out, nil
}
