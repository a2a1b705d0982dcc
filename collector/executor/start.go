package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// start checks x's moves against the cluster, records the execution in
// the state file and sets the replication throttles.
func (e *Executor) start(ctx context.Context, x *execution) error {
	e.publish(x)
	if e.leftover != nil {
		if err := e.forget(ctx, e.leftover); err != nil {
			return fmt.Errorf("the throttles of execution %s are still set: %w", e.leftover.TaskID, err)
		}
		e.leftover = nil
	}
	md, listed, err := e.listAllFor(ctx, x)
	if err != nil {
		return err
	}
	e.setExternal(reassigning(listed))
	x.check(md, listed)
	for _, t := range x.tasks {
		if t.replicas == dead {
			e.log.Warn("partition movement dead", "task", x.id, "partition", t.move.Name(), "error", t.err)
		}
	}
	if x.stopRequested() {
		x.stopped = true
		return nil
	}
	x.rec = &record{TaskID: x.id, Started: x.started}
	for _, t := range x.tasks {
		x.rec.Moves = append(x.rec.Moves, t.move)
	}
	return e.throttle(ctx, x)
}

// throttle plans the throttles, records them, then sets them.
func (e *Executor) throttle(ctx context.Context, x *execution) error {
	moving := x.pendingReplicaMoves()
	if x.lim.throttle > 0 && len(moving) > 0 {
		plan, err := planThrottles(ctx, e.adm, moving, x.lim.throttle)
		if err != nil {
			return err
		}
		x.rec.Throttles = plan
	}
	if err := saveRecord(e.cfg.StateFile, x.rec); err != nil {
		return err
	}
	if x.rec.Throttles == nil {
		return nil
	}
	if err := applyThrottles(ctx, e.adm, x.rec.Throttles); err != nil {
		return err
	}
	e.log.Info("replication throttles set", "task", x.id, "rate", x.lim.throttle, "brokers", len(x.rec.Throttles.Brokers), "topics", len(x.rec.Throttles.Topics))
	return nil
}

func (x *execution) pendingReplicaMoves() []*task {
	var out []*task
	for _, t := range x.tasks {
		if t.replicas == pending {
			out = append(out, t)
		}
	}
	return out
}

// listAll reads every partition's metadata and every reassignment in
// flight in the cluster.
func (e *Executor) listAll(ctx context.Context) (kadm.Metadata, kadm.ListPartitionReassignmentsResponses, error) {
	md, err := e.adm.Metadata(ctx)
	if err != nil {
		return md, nil, fmt.Errorf("reading the cluster's metadata: %w", err)
	}
	listed, err := e.adm.ListPartitionReassignments(ctx, md.Topics.TopicsSet())
	if err != nil {
		return md, nil, fmt.Errorf("listing the cluster's partition reassignments: %w", err)
	}
	return md, listed, nil
}

// unknownPolls bounds how often start re-reads the metadata while some
// moved partition is missing from it: the broker answering may not have
// seen a topic the controller just created.
const unknownPolls = 5

// listAllFor is listAll, re-read while a partition of x is missing.
func (e *Executor) listAllFor(ctx context.Context, x *execution) (kadm.Metadata, kadm.ListPartitionReassignmentsResponses, error) {
	for i := 0; ; i++ {
		md, listed, err := e.listAll(ctx)
		if err != nil || i == unknownPolls || !x.missingFrom(md) || !e.wait(ctx, x) {
			return md, listed, err
		}
	}
}

func (x *execution) missingFrom(md kadm.Metadata) bool {
	return slices.ContainsFunc(x.tasks, func(t *task) bool {
		_, err := partitionOf(md, t.move.Topic, t.move.Partition)
		return err != nil
	})
}

// reassigning names the listed reassignments, sorted.
func reassigning(listed kadm.ListPartitionReassignmentsResponses) []string {
	var out []string
	for _, r := range listed.Sorted() {
		out = append(out, partitionName(r.Topic, r.Partition))
	}
	return out
}

// check refreshes each move's old replicas and leader from md (a stale
// proposal moves from where the partition really is), and settles the
// moves that need no reassignment: a partition that does not exist or
// that a reassignment we did not start is moving is dead; one already
// on its target set is completed.
func (x *execution) check(md kadm.Metadata, listed kadm.ListPartitionReassignmentsResponses) {
	for _, t := range x.tasks {
		p, err := partitionOf(md, t.move.Topic, t.move.Partition)
		if err != nil {
			t.fail(err.Error())
			continue
		}
		t.move.OldReplicas, t.move.OldLeader = slices.Clone(p.Replicas), p.Leader
		if _, busy := listed[t.move.Topic][t.move.Partition]; busy {
			t.fail("a reassignment this executor did not start is in progress")
			continue
		}
		if t.replicas == pending && sameSet(p.Replicas, t.move.NewReplicas) {
			t.replicas = completed
		}
	}
}

// partitionOf finds a partition in md, or says why it cannot.
func partitionOf(md kadm.Metadata, topic string, partition int32) (kadm.PartitionDetail, error) {
	td, ok := md.Topics[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return kadm.PartitionDetail{}, fmt.Errorf("%w: topic %s", kerr.UnknownTopicOrPartition, topic)
	}
	if td.Err != nil {
		return kadm.PartitionDetail{}, fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	p, ok := td.Partitions[partition]
	if !ok {
		return p, fmt.Errorf("%w: partition %s-%d", kerr.UnknownTopicOrPartition, topic, partition)
	}
	return p, nil
}

// cleanup removes x's throttles, retrying for a while, then the state
// file; err is the execution's error so far, joined with cleanup's.
func (e *Executor) cleanup(ctx context.Context, x *execution, err error) error {
	if x.rec == nil {
		return err
	}
	if th := x.rec.Throttles; th != nil {
		if rerr := e.unthrottle(ctx, th); rerr != nil {
			e.leftover = x.rec // the state file keeps them; Run retries
			return errors.Join(err, rerr)
		}
		e.log.Info("replication throttles removed", "task", x.id)
	}
	return errors.Join(err, removeRecord(e.cfg.StateFile))
}

// unthrottleAttempts bounds the retries of throttle removal.
const unthrottleAttempts = 10

// unthrottle removes th, retrying every progress interval.
func (e *Executor) unthrottle(ctx context.Context, th *throttleRecord) error {
	var err error
	for range unthrottleAttempts {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = removeThrottles(rctx, e.adm, th)
		cancel()
		if err == nil {
			return nil
		}
		e.log.Warn("removing replication throttles failed; retrying", "error", err)
		if !e.wait(ctx, nil) {
			break
		}
	}
	return fmt.Errorf("removing the replication throttles: %w", err)
}

// leftoverRetry is how many progress intervals pass between attempts to
// remove a leftover execution's throttles.
const leftoverRetry = 10

// retryLeftover fires when the leftover throttles are due another try.
func (e *Executor) retryLeftover() <-chan time.Time {
	if e.leftover == nil {
		return nil
	}
	return time.After(leftoverRetry * e.cfg.ProgressCheckInterval)
}

// removeLeftover tries once to remove the leftover throttles, then the
// state file.
func (e *Executor) removeLeftover(ctx context.Context) {
	rec := e.leftover
	if err := removeThrottles(ctx, e.adm, rec.Throttles); err != nil {
		e.log.Warn("removing the throttles of an ended execution failed; retrying", "task", rec.TaskID, "error", err)
		return
	}
	e.leftover = nil
	if err := removeRecord(e.cfg.StateFile); err != nil {
		e.log.Warn("removing the execution state file", "error", err)
	}
	e.log.Info("replication throttles of an ended execution removed", "task", rec.TaskID)
}
