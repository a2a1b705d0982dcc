package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/collector/model"
)

var (
	// ErrBusy is returned by Execute while an execution runs (or Run is
	// still recovering); the error wrapping it names the task.
	ErrBusy = errors.New("an execution is in progress")
	// ErrNotRunning is returned by Stop when no execution runs.
	ErrNotRunning = errors.New("no execution is in progress")
	// ErrStopped is what Wait returns (wrapped) for a stopped task.
	ErrStopped = errors.New("execution stopped")
	// errInterrupted ends an execution when Run's context ends: its
	// reassignments and throttles stay, for the next Run to adopt.
	errInterrupted = errors.New("interrupted: the collector stopped; the next run adopts the reassignments in flight")
)

// Executor runs one execution at a time. Execute, Stop, State and Wait
// may be called from any goroutine; the execution itself runs on the
// goroutine that called Run, which owns every execution's tasks.
type Executor struct {
	adm     *kadm.Client
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	// jobs hands an accepted execution to Run. Capacity 1: an execution is
	// accepted only when none is, so sends never block.
	jobs chan *execution
	ran  atomic.Bool // Run was called
	// leftover is an ended execution whose throttles could not be
	// removed (the state file still records them); owned by Run's
	// goroutine, which retries until they are gone.
	leftover *record

	mu struct {
		sync.Mutex
		cur        *execution // accepted and not finished; nil when idle
		recovering bool       // until Run has recovered the previous run's execution
		state      State
		results    map[string]error // finished tasks' outcomes, for Wait
	}
}

// New returns an executor talking to the cluster through adm. Nothing
// happens until Run; reg may be nil. adm's client should have a short
// kgo.MetadataMinAge: kadm answers Metadata from kgo's cache for that long
// (5 s by default), and a move is settled by reading its replicas back.
func New(adm *kadm.Client, cfg Config, logger *slog.Logger, reg prometheus.Registerer) *Executor {
	if logger == nil {
		logger = slog.Default()
	}
	e := &Executor{
		adm: adm, cfg: cfg.withDefaults(), log: logger.With("component", "executor"),
		metrics: newMetrics(reg), jobs: make(chan *execution, 1),
	}
	e.mu.recovering = true
	e.mu.state.Phase = PhaseIdle
	e.mu.results = map[string]error{}
	e.metrics.observe(&e.mu.state, 0)
	return e
}

// execution is one task in progress, owned by Run's goroutine except for
// the fields noted.
type execution struct {
	id           string
	lim          limits
	tasks        []*task
	started      time.Time
	replicaStart time.Time
	phase        string
	rec          *record       // what the state file holds for it
	adopted      bool          // recovered in flight: throttles set, reassignments running
	busy         map[int32]int // replica moves in flight counted against each broker
	peak         int           // the most busy ever reached on one broker
	moved        int64         // DataMoved last published, for the bytes counter
	stopped      bool          // the replica phase ended by Stop
	stop         chan struct{} // closed by Stop (under Executor.mu)
	stopOnce     sync.Once     // guards closing stop
	done         chan struct{} // closed when the execution has finished
}

func newExecution(id string, moves []model.Move, lim limits) *execution {
	x := &execution{
		id: id, lim: lim, started: time.Now(), phase: PhaseStarting,
		busy: map[int32]int{}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, m := range moves {
		m.OldReplicas, m.NewReplicas = slices.Clone(m.OldReplicas), slices.Clone(m.NewReplicas)
		x.tasks = append(x.tasks, newTask(m))
	}
	return x
}

func (x *execution) stopRequested() bool {
	select {
	case <-x.stop:
		return true
	default:
		return false
	}
}

// Execute validates req and starts it asynchronously on Run's goroutine.
// It returns an error wrapping ErrBusy while another execution runs.
func (e *Executor) Execute(req Request) error {
	if req.TaskID == "" {
		req.TaskID = fmt.Sprintf("execution-%d", time.Now().UnixNano())
	}
	if err := validate(req.Moves); err != nil {
		return fmt.Errorf("validating execution %s: %w", req.TaskID, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.recovering {
		return fmt.Errorf("%w: recovering the previous run's execution", ErrBusy)
	}
	if e.mu.cur != nil {
		return fmt.Errorf("%w: task %s is running", ErrBusy, e.mu.cur.id)
	}
	x := newExecution(req.TaskID, req.Moves, e.cfg.limitsFor(req))
	e.mu.cur = x
	e.mu.state.Phase, e.mu.state.TaskID, e.mu.state.Started = PhaseStarting, x.id, x.started
	e.jobs <- x
	return nil
}

// Stop asks the running execution to stop: it starts no new move,
// cancels the reassignments in flight and removes its throttles. It
// returns at once; Wait waits for the end.
func (e *Executor) Stop() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.mu.cur
	if x == nil {
		return ErrNotRunning
	}
	x.stopOnce.Do(func() { close(x.stop) })
	e.mu.state.Phase = PhaseStopping
	e.log.Info("stop requested", "task", x.id)
	return nil
}

// State returns a snapshot.
func (e *Executor) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.mu.state.clone()
	s.Recovering = e.mu.recovering
	return s
}

// Wait waits for task taskID to finish and returns its outcome: nil when
// every move completed, an error wrapping ErrStopped when it was stopped,
// an error naming the dead moves, or the error that ended it.
func (e *Executor) Wait(ctx context.Context, taskID string) error {
	e.mu.Lock()
	if x := e.mu.cur; x != nil && x.id == taskID {
		e.mu.Unlock()
		select {
		case <-x.done:
		case <-ctx.Done():
			return fmt.Errorf("waiting for task %s: %w", taskID, ctx.Err())
		}
		e.mu.Lock()
	}
	err, ok := e.mu.results[taskID]
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("waiting for task %s: no such task", taskID)
	}
	return err
}

// Run recovers the previous run's execution (see doc.go), then runs
// executions as Execute accepts them, until ctx ends. An execution in
// flight when ctx ends is left as it is (reassignments and throttles
// recorded in the state file) for the next Run to adopt. It returns an
// error when the state file cannot be read, or when called a second
// time (a restart is a new Executor).
func (e *Executor) Run(ctx context.Context) error {
	if e.ran.Swap(true) {
		return errors.New("executor: Run called twice; start a new Executor instead")
	}
	if err := e.recoverUntilDone(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case x := <-e.jobs:
			e.run(ctx, x)
		case <-e.retryLeftover():
			e.removeLeftover(ctx)
		}
	}
}

// run executes x and records its outcome.
func (e *Executor) run(ctx context.Context, x *execution) {
	e.log.Info("execution starting", "task", x.id, "moves", len(x.tasks), "adopted", x.adopted,
		"per_broker", x.lim.perBroker, "cluster", x.lim.cluster, "throttle", x.lim.throttle)
	err := e.execute(ctx, x)
	e.finish(x, err)
}

// execute runs the phases: start (checks, throttles), replica moves,
// throttle removal, leadership moves.
func (e *Executor) execute(ctx context.Context, x *execution) error {
	if !x.adopted {
		if err := e.start(ctx, x); err != nil {
			x.abortPending()
			if ctx.Err() != nil {
				return errInterrupted
			}
			return e.cleanup(ctx, x, err)
		}
	}
	err := e.moveReplicas(ctx, x)
	if ctx.Err() != nil {
		return errInterrupted
	}
	if err = e.cleanup(ctx, x, err); err != nil || x.stopped {
		x.abortPending()
		return err
	}
	err = e.moveLeaders(ctx, x)
	if ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// abortPending marks every move not started, and every leadership
// movement not made, aborted.
func (x *execution) abortPending() {
	for _, t := range x.tasks {
		if t.replicas == pending {
			t.replicas = aborted
		}
		t.abortLeader()
	}
}

// publish makes x's progress visible in State and the metrics.
func (e *Executor) publish(x *execution) {
	s := State{Phase: x.phase, TaskID: x.id, Started: x.started, Throttle: x.lim.throttle, PeakBrokerMoves: x.peak}
	s.summarize(x.tasks, x.replicaStart, time.Now())
	if x.stopRequested() {
		s.Phase = PhaseStopping
	}
	delta := s.DataMoved - x.moved
	x.moved = s.DataMoved
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keepLast(&s)
	e.mu.state = s
	e.metrics.observe(&s, delta)
}

// keepLast copies the fields that outlive a task into s.
func (e *Executor) keepLast(s *State) {
	old := &e.mu.state
	s.External, s.LastTaskID, s.LastResult, s.LastError, s.Finished = old.External, old.LastTaskID, old.LastResult, old.LastError, old.Finished
}

// finish publishes x's end and its outcome, and frees the executor.
func (e *Executor) finish(x *execution, err error) {
	x.phase = PhaseIdle
	e.publish(x)
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.mu.state
	s.Phase, s.TaskID = PhaseIdle, ""
	s.LastTaskID, s.LastResult, s.Finished = x.id, s.result(x.stopped)+x.resumedNote(), time.Now()
	outcome := x.outcome(s, err)
	s.LastError = ""
	if outcome != nil {
		s.LastError = outcome.Error()
	}
	e.mu.results[x.id] = outcome
	e.mu.cur = nil
	e.metrics.observe(s, 0)
	close(x.done)
	e.log.Info("execution finished", "task", x.id, "result", s.LastResult, "error", s.LastError)
}

// outcome is what Wait reports for x.
func (x *execution) outcome(s *State, err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("task %s: %w", x.id, err)
	case s.Partitions.Dead > 0 || s.Leaders.Failed > 0:
		first := ""
		if len(s.Failures) > 0 {
			first = fmt.Sprintf("; first: %s: %s", s.Failures[0].Partition, s.Failures[0].Error)
		}
		return fmt.Errorf("task %s: %d partition movements dead, %d leadership movements failed%s", x.id, s.Partitions.Dead, s.Leaders.Failed, first)
	case x.stopped:
		return fmt.Errorf("task %s: %w", x.id, ErrStopped)
	}
	return nil
}

// setExternal records the reassignments in flight that are not ours.
// resumedNote says, for an execution adopted after a restart, what the
// restart cut off; "" otherwise.
func (x *execution) resumedNote() string {
	if !x.adopted || x.rec == nil {
		return ""
	}
	return interruptedNote(len(x.rec.Moves) - len(x.tasks))
}

// interruptedNote is the part of a result that a collector restart cost:
// recorded moves not in flight at the restart are not restarted.
func interruptedNote(notRestarted int) string {
	return fmt.Sprintf("; interrupted by a collector restart: the moves in flight were finished, %d recorded moves that were not in flight were not restarted (ask again for a fresh proposal)", notRestarted)
}

// noteInterrupted records, as the last task's result, a recorded
// execution that a restart found with nothing in flight.
func (e *Executor) noteInterrupted(rec *record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.mu.state
	s.LastTaskID, s.Finished = rec.TaskID, time.Now()
	s.LastResult = "nothing was in flight at the restart" + interruptedNote(len(rec.Moves))
}

func (e *Executor) setExternal(names []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mu.state.External = names
}

// wait waits one progress interval; false when ctx ended.
func (e *Executor) wait(ctx context.Context, x *execution) bool {
	t := time.NewTimer(e.cfg.ProgressCheckInterval)
	defer t.Stop()
	var stop <-chan struct{}
	if x != nil {
		stop = x.stop
	}
	select {
	case <-ctx.Done():
		return false
	case <-stop:
	case <-t.C:
	}
	return true
}
