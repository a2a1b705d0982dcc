package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/collector/model"
)

// maxMisses is how many polls may find a reassignment no longer listed
// while the metadata does not yet show its target (a broker's metadata
// may trail the controller) before the move is declared dead.
const maxMisses = 5

// moveReplicas runs the replica phase: every progress interval it polls
// the moves in flight and starts the next batch, until no move is
// pending or in flight, Stop is called, or ctx ends.
func (e *Executor) moveReplicas(ctx context.Context, x *execution) error {
	x.phase, x.replicaStart = PhaseReplicas, time.Now()
	queue := x.replicaQueue()
	for {
		if x.stopRequested() {
			return e.stopMoves(ctx, x)
		}
		if md, err := e.progress(ctx, x); err != nil {
			e.log.Warn("polling partition movements failed", "task", x.id, "error", err)
		} else {
			e.startBatch(ctx, x, queue, md)
		}
		e.publish(x)
		if !x.replicasLeft() {
			return nil
		}
		if !e.wait(ctx, x) {
			return ctx.Err()
		}
	}
}

// replicaQueue is the moves still to start, in start priority order.
func (x *execution) replicaQueue() []*task {
	q := x.pendingReplicaMoves()
	slices.SortStableFunc(q, byPriority)
	return q
}

func (x *execution) replicasLeft() bool {
	return slices.ContainsFunc(x.tasks, func(t *task) bool { return t.replicas == pending || t.replicas == inProgress })
}

func (x *execution) inFlight() []*task {
	var out []*task
	for _, t := range x.tasks {
		if t.replicas == inProgress {
			out = append(out, t)
		}
	}
	return out
}

// progress reads the metadata of the topics still moving and settles
// the moves in flight that are no longer listed.
func (e *Executor) progress(ctx context.Context, x *execution) (kadm.Metadata, error) {
	md, err := e.adm.Metadata(ctx, x.movingTopics()...)
	if err != nil {
		return md, fmt.Errorf("reading metadata: %w", err)
	}
	flying := x.inFlight()
	if len(flying) == 0 {
		return md, nil
	}
	listed, err := e.adm.ListPartitionReassignments(ctx, topicsSet(flying))
	if err != nil {
		return md, fmt.Errorf("listing partition reassignments: %w", err)
	}
	for _, t := range flying {
		if _, ok := listed[t.move.Topic][t.move.Partition]; ok {
			t.misses = 0
			continue
		}
		e.settle(x, t, md)
	}
	return md, nil
}

// settle decides a move that is no longer listed: completed when the
// metadata shows its target set, dead after maxMisses polls that do not.
func (e *Executor) settle(x *execution, t *task, md kadm.Metadata) {
	p, err := partitionOf(md, t.move.Topic, t.move.Partition)
	if err == nil && sameSet(p.Replicas, t.move.NewReplicas) {
		x.release(t)
		t.replicas = completed
		e.log.Info("partition movement completed", "task", x.id, "partition", t.move.Name(), "replicas", p.Replicas, "took", time.Since(t.since).Round(time.Millisecond))
		return
	}
	if t.misses++; t.misses < maxMisses {
		return
	}
	x.release(t)
	if err == nil {
		err = fmt.Errorf("the reassignment ended with replicas %v, not the target %v", p.Replicas, t.move.NewReplicas)
	}
	t.fail(err.Error())
	e.log.Warn("partition movement dead", "task", x.id, "partition", t.move.Name(), "error", t.err)
}

// release returns t's broker slots.
func (x *execution) release(t *task) {
	for _, b := range t.counted {
		x.busy[b]--
	}
	t.counted = nil
}

// movingTopics names the topics with moves pending or in flight.
func (x *execution) movingTopics() []string {
	var out []string
	for _, t := range x.tasks {
		if (t.replicas == pending || t.replicas == inProgress) && !slices.Contains(out, t.move.Topic) {
			out = append(out, t.move.Topic)
		}
	}
	return out
}

func topicsSet(ts []*task) kadm.TopicsSet {
	s := kadm.TopicsSet{}
	for _, t := range ts {
		s.Add(t.move.Topic, t.move.Partition)
	}
	return s
}

// startBatch starts the moves pickBatch chooses.
func (e *Executor) startBatch(ctx context.Context, x *execution, queue []*task, md kadm.Metadata) {
	var waiting []*task
	for _, t := range queue {
		if t.replicas == pending {
			waiting = append(waiting, t)
		}
	}
	batch := pickBatch(waiting, x.busy, len(x.inFlight()), x.lim, leaderIn(md))
	if len(batch) == 0 {
		return
	}
	x.notePeak()
	req := kadm.AlterPartitionAssignmentsReq{}
	for _, t := range batch {
		req.Assign(t.move.Topic, t.move.Partition, t.move.NewReplicas)
		t.replicas, t.since = inProgress, time.Now()
	}
	resps, err := e.adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		e.log.Warn("starting partition movements failed; retrying", "task", x.id, "moves", len(batch), "error", err)
		for _, t := range batch {
			x.release(t)
			t.replicas = pending
		}
		return
	}
	e.refused(x, batch, resps)
	e.log.Info("started partition movements", "task", x.id, "moves", len(batch), "in_flight", len(x.inFlight()), "partitions", names(batch))
}

// refused marks dead the moves of batch the broker refused for good; a
// retriable refusal (NOT_CONTROLLER while the controller moves) puts the
// move back in the queue.
func (e *Executor) refused(x *execution, batch []*task, resps kadm.AlterPartitionAssignmentsResponses) {
	for _, t := range batch {
		r, ok := resps[t.move.Topic][t.move.Partition]
		switch {
		case !ok:
			r.Err = fmt.Errorf("no result for %s in the AlterPartitionReassignments response", t.move.Name())
		case r.Err == nil:
			continue
		case retriable(r.Err):
			x.release(t)
			t.replicas = pending
			e.log.Info("partition movement not started yet; retrying", "task", x.id, "partition", t.move.Name(), "error", r.Err)
			continue
		}
		x.release(t)
		t.fail(errText(r.Err, r.ErrMessage))
		e.log.Warn("partition movement refused", "task", x.id, "partition", t.move.Name(), "target", t.move.NewReplicas, "error", t.err)
	}
}

func errText(err error, msg string) string {
	if msg == "" {
		return err.Error()
	}
	return fmt.Sprintf("%v: %s", err, msg)
}

// notePeak records the most moves counted against one broker.
func (x *execution) notePeak() {
	for _, n := range x.busy {
		x.peak = max(x.peak, n)
	}
}

// leaderIn returns a partition's leader from md, -1 when unknown.
func leaderIn(md kadm.Metadata) func(*model.Move) int32 {
	return func(m *model.Move) int32 {
		p, err := partitionOf(md, m.Topic, m.Partition)
		if err != nil {
			return -1
		}
		return p.Leader
	}
}

func names(ts []*task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.move.Name()
	}
	return out
}

// stopMoves cancels the reassignments in flight (AlterPartitionAssignments
// with null replicas), waits until none is listed, and settles each as
// completed (it reached its target first) or aborted. Moves not started
// are aborted.
func (e *Executor) stopMoves(ctx context.Context, x *execution) error {
	x.phase, x.stopped = PhaseStopping, true
	e.publish(x)
	flying := x.inFlight()
	if len(flying) > 0 {
		if err := e.cancelMoves(ctx, x, flying); err != nil {
			return err
		}
	}
	x.abortPending()
	e.publish(x)
	return nil
}

// cancelAttempts bounds the retries of cancelling and of waiting for the
// cancelled reassignments to disappear.
const cancelAttempts = 30

func (e *Executor) cancelMoves(ctx context.Context, x *execution, flying []*task) error {
	req := kadm.AlterPartitionAssignmentsReq{}
	for _, t := range flying {
		req.CancelAssign(t.move.Topic, t.move.Partition)
	}
	var err error
	for range cancelAttempts {
		var resps kadm.AlterPartitionAssignmentsResponses
		if resps, err = e.adm.AlterPartitionAssignments(ctx, req); err == nil {
			e.logCancelled(x, resps)
			break
		}
		e.log.Warn("cancelling partition movements failed; retrying", "task", x.id, "error", err)
		if !e.wait(ctx, nil) {
			return ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("cancelling %d partition movements: %w", len(flying), err)
	}
	return e.awaitCancelled(ctx, x, flying)
}

func (e *Executor) logCancelled(x *execution, resps kadm.AlterPartitionAssignmentsResponses) {
	resps.Each(func(r kadm.AlterPartitionAssignmentsResponse) {
		if r.Err != nil && r.Err != kerr.NoReassignmentInProgress {
			e.log.Warn("cancelling a partition movement failed", "task", x.id, "partition", partitionName(r.Topic, r.Partition), "error", errText(r.Err, r.ErrMessage))
			return
		}
		e.log.Info("partition movement cancelled", "task", x.id, "partition", partitionName(r.Topic, r.Partition))
	})
}

// awaitCancelled waits until none of flying is listed, then settles each.
func (e *Executor) awaitCancelled(ctx context.Context, x *execution, flying []*task) error {
	for range cancelAttempts {
		listed, err := e.adm.ListPartitionReassignments(ctx, topicsSet(flying))
		if err == nil && len(listed) == 0 {
			return e.settleCancelled(ctx, x, flying)
		}
		if !e.wait(ctx, nil) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("cancelled partition movements still listed after %d polls", cancelAttempts)
}

func (e *Executor) settleCancelled(ctx context.Context, x *execution, flying []*task) error {
	md, err := e.adm.Metadata(ctx, x.movingTopics()...)
	if err != nil {
		return fmt.Errorf("reading metadata after cancelling: %w", err)
	}
	for _, t := range flying {
		x.release(t)
		p, perr := partitionOf(md, t.move.Topic, t.move.Partition)
		if perr == nil && sameSet(p.Replicas, t.move.NewReplicas) {
			t.replicas = completed
			continue
		}
		t.replicas = aborted
		t.abortLeader()
	}
	return nil
}

// retriable reports whether a Kafka error says to try again (a controller
// moving, a leader not yet elected).
func retriable(err error) bool {
	var ke *kerr.Error
	return errors.As(err, &ke) && ke.Retriable
}
