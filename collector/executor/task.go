package executor

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// moveState is where one partition's replica movement is.
type moveState int

const (
	pending moveState = iota
	inProgress
	completed
	aborted // cancelled by Stop, or never started because the execution stopped
	dead    // refused by the broker or ended elsewhere than the target
)

var moveStateNames = [...]string{"pending", "in_progress", "completed", "aborted", "dead"}

func (s moveState) String() string { return moveStateNames[s] }

// leaderState is where one partition's leadership movement is.
type leaderState int

const (
	leaderNone leaderState = iota // the move needs no leadership action
	leaderPending
	leaderCompleted
	leaderAborted // stopped, or its replica move did not complete
	leaderFailed
)

// task is one move's progress, owned by the execution goroutine.
type task struct {
	move     model.Move
	replicas moveState // pending until started; completed at once for leader-only moves
	leader   leaderState
	err      string
	since    time.Time // when the reassignment started
	counted  []int32   // the brokers this move counts against while in flight
	misses   int       // polls that found it unlisted but not at its target
}

func newTask(m model.Move) *task {
	t := &task{move: m}
	if !m.MovesReplicas() {
		t.replicas = completed
	}
	if m.MovesLeader() || !m.MovesReplicas() && !slices.Equal(m.OldReplicas, m.NewReplicas) {
		t.leader = leaderPending // a new leader, or only a new order
	}
	return t
}

// fail marks t dead with err, and its leadership aborted.
func (t *task) fail(err string) {
	t.replicas, t.err = dead, err
	t.abortLeader()
}

func (t *task) abortLeader() {
	if t.leader == leaderPending {
		t.leader = leaderAborted
	}
}

// dataToMove is the bytes t copies, rounded.
func (t *task) dataToMove() int64 { return int64(t.move.DataToMove() + 0.5) }

// byPriority orders replica moves largest first, then by name, so the
// longest copies start early and the order is deterministic.
func byPriority(a, b *task) int {
	if c := cmp.Compare(b.move.DataToMove(), a.move.DataToMove()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.move.Topic, b.move.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.move.Partition, b.move.Partition)
}

// countedBrokers is what a move counts against while in flight: the
// brokers gaining or losing a replica and the partition's current leader
// (Cruise Control's source and destination brokers).
func countedBrokers(m *model.Move, leader int32) []int32 {
	out := append(m.Added(), m.Removed()...)
	if leader >= 0 && !slices.Contains(out, leader) {
		out = append(out, leader)
	}
	return out
}

// pickBatch chooses which pending moves start now. It walks pending in
// order (largest first) and takes each move whose brokers all have fewer
// than perBroker moves in flight while the cluster has fewer than
// cluster; a move blocked by a busy broker is skipped, not waited for,
// so idle brokers keep copying. busy (moves in flight per broker) is
// updated with the chosen moves. leaderOf gives a partition's current
// leader (-1 when unknown).
func pickBatch(pending []*task, busy map[int32]int, inFlight int, lim limits, leaderOf func(*model.Move) int32) []*task {
	var out []*task
	for _, t := range pending {
		if inFlight+len(out) >= lim.cluster {
			break
		}
		brokers := countedBrokers(&t.move, leaderOf(&t.move))
		if !fits(brokers, busy, lim.perBroker) {
			continue
		}
		for _, b := range brokers {
			busy[b]++
		}
		t.counted = brokers
		out = append(out, t)
	}
	return out
}

func fits(brokers []int32, busy map[int32]int, perBroker int) bool {
	for _, b := range brokers {
		if busy[b] >= perBroker {
			return false
		}
	}
	return true
}

// partitionName is "topic-partition", as model.Move.Name.
func partitionName(topic string, partition int32) string {
	return fmt.Sprintf("%s-%d", topic, partition)
}

// sameSet reports whether a and b hold the same brokers in any order.
func sameSet(a, b []int32) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x int32) bool { return !slices.Contains(b, x) })
}
