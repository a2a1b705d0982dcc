package executor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// leaderPolls bounds how many progress intervals (at least
// leaderMinWait) a leadership batch waits for the metadata to show it.
const (
	leaderPolls   = 30
	leaderMinWait = 10 * time.Second
)

// moveLeaders runs the leadership phase in batches of the leader limit:
// each partition's replicas are first put in the target order where only
// the order differs (a same-set reassignment, which Kafka completes at
// once), then a preferred election makes NewReplicas[0] the leader.
func (e *Executor) moveLeaders(ctx context.Context, x *execution) error {
	todo := x.leaderMoves()
	if len(todo) == 0 {
		return nil
	}
	x.phase = PhaseLeaders
	e.publish(x)
	for batch := range slices.Chunk(todo, x.lim.leaders) {
		if x.stopRequested() {
			x.stopped = true
			x.abortPending()
			break
		}
		if err := e.leaderBatch(ctx, x, batch); err != nil {
			return err
		}
		e.publish(x)
	}
	return nil
}

func (x *execution) leaderMoves() []*task {
	var out []*task
	for _, t := range x.tasks {
		if t.leader == leaderPending {
			out = append(out, t)
		}
	}
	return out
}

// leaderBatch moves the leadership of batch.
func (e *Executor) leaderBatch(ctx context.Context, x *execution, batch []*task) error {
	md, err := e.adm.Metadata(ctx, leaderTopics(batch)...)
	if err != nil {
		return fmt.Errorf("reading metadata for leadership movements: %w", err)
	}
	reorder, elect := e.sortLeaderMoves(x, batch, md)
	if err := e.reorder(ctx, x, reorder); err != nil {
		return err
	}
	if err := e.elect(ctx, x, elect); err != nil {
		return err
	}
	return e.awaitLeaders(ctx, x, batch)
}

func leaderTopics(ts []*task) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.move.Topic) {
			out = append(out, t.move.Topic)
		}
	}
	return out
}

// sortLeaderMoves settles the moves already done and splits the rest
// into those needing their replicas reordered and those needing an
// election.
func (e *Executor) sortLeaderMoves(x *execution, batch []*task, md kadm.Metadata) (reorder, elect []*task) {
	for _, t := range batch {
		p, err := partitionOf(md, t.move.Topic, t.move.Partition)
		switch {
		case err != nil:
			e.leaderFailed(x, t, err.Error())
		case !sameSet(p.Replicas, t.move.NewReplicas):
			e.leaderFailed(x, t, fmt.Sprintf("replicas are %v, not the set %v", p.Replicas, t.move.NewReplicas))
		default:
			if !slices.Equal(p.Replicas, t.move.NewReplicas) {
				reorder = append(reorder, t)
			}
			if p.Leader != t.move.NewLeader() {
				elect = append(elect, t)
			}
		}
	}
	return reorder, elect
}

func (e *Executor) leaderFailed(x *execution, t *task, why string) {
	t.leader, t.err = leaderFailed, why
	e.log.Warn("leadership movement failed", "task", x.id, "partition", t.move.Name(), "leader", t.move.NewLeader(), "error", why)
}

// reorder reassigns each partition to its own replicas in the target
// order, and waits until the metadata shows that order.
func (e *Executor) reorder(ctx context.Context, x *execution, ts []*task) error {
	if len(ts) == 0 {
		return nil
	}
	var ok []*task
	err := e.retrying(ctx, ts, func(ts []*task) ([]*task, error) {
		req := kadm.AlterPartitionAssignmentsReq{}
		for _, t := range ts {
			req.Assign(t.move.Topic, t.move.Partition, t.move.NewReplicas)
		}
		resps, err := e.adm.AlterPartitionAssignments(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("reordering the replicas of %d partitions: %w", len(ts), err)
		}
		var again []*task
		for _, t := range ts {
			r := resps[t.move.Topic][t.move.Partition]
			switch {
			case r.Err == nil:
				ok = append(ok, t)
			case retriable(r.Err):
				again = append(again, t)
			default:
				e.leaderFailed(x, t, "reordering replicas: "+errText(r.Err, r.ErrMessage))
			}
		}
		return again, nil
	}, func(t *task, err error) { e.leaderFailed(x, t, "reordering replicas: "+err.Error()) })
	if err != nil {
		return err
	}
	e.log.Info("reordered replicas", "task", x.id, "partitions", names(ok))
	return e.awaitMetadata(ctx, x, ok, "replica order", func(t *task, p kadm.PartitionDetail) bool {
		return slices.Equal(p.Replicas, t.move.NewReplicas)
	})
}

// elect runs a preferred leader election for ts.
func (e *Executor) elect(ctx context.Context, x *execution, ts []*task) error {
	ts = slices.DeleteFunc(slices.Clone(ts), func(t *task) bool { return t.leader != leaderPending })
	if len(ts) == 0 {
		return nil
	}
	err := e.retrying(ctx, ts, func(ts []*task) ([]*task, error) {
		res, err := e.adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, topicsSet(ts))
		if err != nil {
			return nil, fmt.Errorf("electing the preferred leaders of %d partitions: %w", len(ts), err)
		}
		var again []*task
		for _, t := range ts {
			r := res[t.move.Topic][t.move.Partition]
			switch {
			case r.Err == nil || r.Err == kerr.ElectionNotNeeded:
			case retriable(r.Err):
				again = append(again, t)
			default:
				e.leaderFailed(x, t, "preferred leader election: "+errText(r.Err, r.ErrMessage))
			}
		}
		return again, nil
	}, func(t *task, err error) { e.leaderFailed(x, t, "preferred leader election: "+err.Error()) })
	if err != nil {
		return err
	}
	e.log.Info("elected preferred leaders", "task", x.id, "partitions", names(ts))
	return nil
}

// leaderRetries bounds the attempts at a leadership request whose
// partitions answer a retriable error (NOT_CONTROLLER while the
// controller moves), a progress interval apart.
const leaderRetries = 10

// retrying calls f with ts, then again with the tasks it returns (those
// that met a retriable error) until none is left or leaderRetries passes;
// then giveUp is called for each one left.
func (e *Executor) retrying(ctx context.Context, ts []*task, f func([]*task) ([]*task, error), giveUp func(*task, error)) error {
	for attempt := 1; len(ts) > 0; attempt++ {
		again, err := f(ts)
		if err != nil {
			return err
		}
		if len(again) == 0 {
			return nil
		}
		if attempt == leaderRetries {
			for _, t := range again {
				giveUp(t, fmt.Errorf("still retriable after %d attempts", attempt))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(e.cfg.ProgressCheckInterval):
		}
		ts = again
	}
	return nil
}

// awaitLeaders waits until each pending move of batch has its target
// leader, completing it; those that do not in time fail.
func (e *Executor) awaitLeaders(ctx context.Context, x *execution, batch []*task) error {
	err := e.awaitMetadata(ctx, x, batch, "leader", func(t *task, p kadm.PartitionDetail) bool {
		return p.Leader == t.move.NewLeader()
	})
	if err != nil {
		return err
	}
	for _, t := range batch {
		if t.leader == leaderPending {
			t.leader = leaderCompleted
			e.log.Info("leadership movement completed", "task", x.id, "partition", t.move.Name(), "leader", t.move.NewLeader())
		}
	}
	return err
}

// awaitMetadata polls the metadata until cond holds for every pending
// leadership move of ts; those for which it does not in time fail.
func (e *Executor) awaitMetadata(ctx context.Context, x *execution, ts []*task, what string, cond func(*task, kadm.PartitionDetail) bool) error {
	deadline := time.Now().Add(max(leaderMinWait, leaderPolls*e.cfg.ProgressCheckInterval))
	for {
		left, last, err := e.unmet(ctx, ts, cond)
		if err == nil && len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, t := range left {
				e.leaderFailed(x, t, fmt.Sprintf("%s not reached in time: replicas %v, leader %d", what, last[t].Replicas, last[t].Leader))
			}
			return nil
		}
		if !e.wait(ctx, nil) {
			return ctx.Err()
		}
	}
}

// unmet returns the pending moves of ts for which cond does not hold yet.
func (e *Executor) unmet(ctx context.Context, ts []*task, cond func(*task, kadm.PartitionDetail) bool) ([]*task, map[*task]kadm.PartitionDetail, error) {
	md, err := e.adm.Metadata(ctx, leaderTopics(ts)...)
	var left []*task
	last := map[*task]kadm.PartitionDetail{}
	for _, t := range ts {
		if t.leader != leaderPending {
			continue
		}
		p, _ := partitionOf(md, t.move.Topic, t.move.Partition)
		if err != nil || !cond(t, p) {
			left, last[t] = append(left, t), p
		}
	}
	return left, last, err
}
