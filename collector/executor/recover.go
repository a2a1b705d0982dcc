package executor

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/collector/model"
)

// recoverUntilDone recovers, retrying every progress interval while the
// cluster cannot be read, then runs the adopted execution if there is
// one. It returns an error only for an unreadable state file.
func (e *Executor) recoverUntilDone(ctx context.Context) error {
	rec, err := loadRecord(e.cfg.StateFile)
	if err != nil {
		return err
	}
	for {
		x, err := e.recover(ctx, rec)
		if err == nil {
			if x != nil {
				e.run(ctx, x)
			}
			return nil
		}
		e.log.Warn("recovering the previous execution failed; retrying", "error", err)
		if !e.wait(ctx, nil) {
			return nil
		}
	}
}

// recover compares the state file's record with the reassignments in
// flight: those of the record's moves are adopted (returned as an
// execution to track to completion, with the recorded throttles);
// others are external and left alone. With nothing to adopt, the
// recorded throttles are removed and the record deleted (or, when that
// fails, left to Run's retries).
func (e *Executor) recover(ctx context.Context, rec *record) (*execution, error) {
	_, listed, err := e.listAll(ctx)
	if err != nil {
		return nil, err
	}
	adopted, external := split(rec, listed)
	e.setExternal(external)
	if len(external) > 0 {
		e.log.Info("reassignments in flight not started by this executor", "partitions", external)
	}
	if rec == nil || len(adopted) == 0 {
		if rec != nil {
			e.noteInterrupted(rec)
		}
		if err := e.forget(ctx, rec); err != nil {
			e.log.Warn("removing the throttles of the previous execution failed; Run retries", "task", rec.TaskID, "error", err)
			e.leftover = rec
		}
		e.ready(nil)
		return nil, nil
	}
	x := e.adopt(rec, adopted)
	e.ready(x)
	return x, nil
}

// split divides the listed reassignments into the record's moves (a
// listed target equal to the move's) and external ones.
func split(rec *record, listed kadm.ListPartitionReassignmentsResponses) (adopted []model.Move, external []string) {
	ours := map[string]model.Move{}
	if rec != nil {
		for _, m := range rec.Moves {
			ours[m.Name()] = m
		}
	}
	for _, r := range listed.Sorted() {
		m, ok := ours[partitionName(r.Topic, r.Partition)]
		if ok && sameSet(target(r), m.NewReplicas) {
			adopted = append(adopted, m)
			continue
		}
		external = append(external, partitionName(r.Topic, r.Partition))
	}
	return adopted, external
}

// target is where a listed reassignment goes: its replicas less those
// being removed.
func target(r kadm.ListPartitionReassignmentsResponse) []int32 {
	return slices.DeleteFunc(slices.Clone(r.Replicas), func(b int32) bool { return slices.Contains(r.RemovingReplicas, b) })
}

// forget removes a record's throttles and the record itself.
func (e *Executor) forget(ctx context.Context, rec *record) error {
	if rec == nil {
		return nil
	}
	if rec.Throttles != nil {
		if err := e.unthrottle(ctx, rec.Throttles); err != nil {
			return err
		}
		e.log.Info("removed the replication throttles of a previous execution", "task", rec.TaskID)
	}
	return removeRecord(e.cfg.StateFile)
}

// adopt makes the execution that tracks the record's moves in flight.
// Moves of the record that were not in flight are not restarted.
func (e *Executor) adopt(rec *record, moves []model.Move) *execution {
	lim := e.cfg.limitsFor(Request{})
	lim.throttle = 0
	if rec.Throttles != nil {
		lim.throttle = rec.Throttles.Rate
	}
	x := newExecution(rec.TaskID, moves, lim)
	x.started, x.rec, x.adopted = rec.Started, rec, true
	now := time.Now()
	for _, t := range x.tasks {
		t.replicas, t.since = inProgress, now
		t.counted = countedBrokers(&t.move, -1)
		for _, b := range t.counted {
			x.busy[b]++
		}
	}
	x.notePeak()
	e.log.Info("adopting the previous run's execution", "task", rec.TaskID, "in_flight", len(moves), "recorded_moves", len(rec.Moves))
	return x
}

// ready ends recovery; x, if any, becomes the running execution, shown
// in State before Recovering turns false (so no reader sees an idle
// executor in between).
func (e *Executor) ready(x *execution) {
	if x != nil {
		e.publish(x)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mu.recovering = false
	e.mu.cur = x
}
