package api

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/collector/planner"
)

// Parameters of the endpoints that plan, and of those that execute.
var (
	planParams = []string{"goals", "excluded_topics", "destination_broker_ids", "skip_hard_goal_check", "verbose",
		"allow_capacity_estimation", "use_ready_default_goals", "data_from", "kafka_assigner", "rebalance_disk",
		"exclude_recently_demoted_brokers", "exclude_recently_removed_brokers", "ignore_proposal_cache", "fast_mode"}
	executeParams = []string{"dryrun", "concurrent_partition_movements_per_broker", "max_partition_movements_in_cluster",
		"concurrent_leader_movements", "broker_concurrent_leader_movements", "concurrent_intra_broker_partition_movements",
		"replication_throttle", "execution_progress_check_interval_ms", "stop_ongoing_execution",
		"replica_movement_strategies", "review_id", "skip_urp_demotion", "exclude_follower_demotion"}
)

// planRequest is what the planning endpoints ask of the planner.
type planRequest struct {
	goals        []string
	excluded     *regexp.Regexp
	destinations []int32
	skipHard     bool
	verbose      bool
	states       map[int32]model.BrokerState // brokers added, removed, demoted
}

func readPlanRequest(p *params) (planRequest, error) {
	req := planRequest{goals: p.list("goals"), states: map[int32]model.BrokerState{}}
	var err error
	if req.excluded, err = p.regex("excluded_topics"); err != nil {
		return req, err
	}
	if req.destinations, err = p.brokerIDs("destination_broker_ids"); err != nil {
		return req, err
	}
	if req.skipHard, err = p.boolean("skip_hard_goal_check", false); err != nil {
		return req, err
	}
	req.verbose, err = p.boolean("verbose", false)
	return req, err
}

// errNotReady marks a model that cannot be built yet: 503.
var errNotReady = errors.New("not ready")

type notReady struct{ err error }

func (e *notReady) Error() string   { return e.err.Error() }
func (e *notReady) Unwrap() []error { return []error{e.err, errNotReady} }

// clusterModel returns the monitor's model with the request's broker
// states applied to a copy.
func (s *Server) clusterModel(states map[int32]model.BrokerState) (*model.Cluster, error) {
	c, err := s.o.Monitor.Model(s.o.Now())
	if err != nil {
		var ne *monitor.NotEnoughDataError
		if errors.As(err, &ne) {
			return nil, &notReady{err}
		}
		return nil, fmt.Errorf("building the cluster model: %w", err)
	}
	if len(states) == 0 {
		return c, nil
	}
	out := *c
	out.Brokers = slices.Clone(c.Brokers)
	for id, st := range states {
		b := out.Broker(id)
		if b == nil {
			return nil, userErr("broker %d is not in the cluster (brokers: %s)", id, brokerList(&out))
		}
		if b.State == model.Dead && st != model.Removing {
			return nil, userErr("broker %d is dead: it cannot be added or demoted", id)
		}
		b.State = st
	}
	return &out, nil
}

func brokerList(c *model.Cluster) string {
	ids := make([]string, len(c.Brokers))
	for i, b := range c.Brokers {
		ids[i] = strconv.Itoa(int(b.ID))
	}
	return strings.Join(ids, ", ")
}

// plan builds the model from the current assignment and runs the planner
// on it.
func (s *Server) plan(ctx context.Context, t *userTask, req planRequest) (*model.Proposal, *model.Cluster, error) {
	s.step(t, "GeneratingClusterModel")
	if err := s.o.Monitor.RefreshMetadata(ctx); err != nil {
		return nil, nil, err
	}
	c, err := s.clusterModel(req.states)
	if err != nil {
		return nil, nil, err
	}
	s.step(t, "OptimizationForGoal")
	start := time.Now()
	prop, err := planner.Plan(c, planner.Options{
		Goals: req.goals, ExcludedTopics: req.excluded, DestinationBrokers: req.destinations,
		SkipHardGoalCheck: req.skipHard, Config: s.o.Planner,
	})
	s.metrics.proposalSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, nil, planError(err)
	}
	return prop, c, nil
}

// planError turns the planner's refusals into 400s naming the problem.
func planError(err error) error {
	var ge *planner.GoalError
	var ue *planner.UnplaceableError
	var he *planner.HardGoalError
	if errors.As(err, &ge) || errors.As(err, &ue) || errors.As(err, &he) {
		return userErr("%v", err)
	}
	return fmt.Errorf("computing the proposal: %w", err)
}

func (s *Server) step(t *userTask, step string) {
	if t != nil {
		s.tasks.setStep(t, step)
	}
}

// execute hands the proposal to the executor unless dryrun (the default).
func (s *Server) execute(ctx context.Context, t *userTask, p *params, moves []model.Move) error {
	dry, err := p.boolean("dryrun", true)
	if err != nil || dry || len(moves) == 0 {
		return err
	}
	req, err := executeRequest(p, t.id, moves)
	if err != nil {
		return err
	}
	if stop, _ := p.boolean("stop_ongoing_execution", false); stop {
		if err := s.stopAndWait(ctx); err != nil {
			return err
		}
	}
	s.step(t, "StartingExecution")
	if err := s.o.Executor.Execute(req); err != nil {
		if errors.Is(err, executor.ErrBusy) {
			return fmt.Errorf("%w: cannot start a new execution while one runs (stop_proposal_execution, or stop_ongoing_execution=true): %v", errConflict, err)
		}
		return fmt.Errorf("starting the execution: %w", err)
	}
	s.tasks.setStatus(t.id, taskInExecution)
	return nil
}

func executeRequest(p *params, id string, moves []model.Move) (executor.Request, error) {
	req := executor.Request{TaskID: id, Moves: moves}
	var err error
	for name, dst := range map[string]*int{
		"concurrent_partition_movements_per_broker": &req.ConcurrentPartitionMovementsPerBroker,
		"max_partition_movements_in_cluster":        &req.MaxClusterPartitionMovements,
		"concurrent_leader_movements":               &req.ConcurrentLeaderMovements,
	} {
		if *dst, err = p.positive(name); err != nil {
			return req, err
		}
	}
	if p.has("replication_throttle") {
		if req.ReplicationThrottle, err = p.integer("replication_throttle", 0); err != nil {
			return req, err
		}
		if req.ReplicationThrottle == 0 {
			return req, userErr("parameter replication_throttle: must be positive (bytes per second)")
		}
	}
	return req, nil
}

// stopAndWait stops a running execution and waits until it has stopped.
func (s *Server) stopAndWait(ctx context.Context) error {
	if err := s.o.Executor.Stop(); err != nil && !errors.Is(err, executor.ErrNotRunning) {
		return fmt.Errorf("stopping the ongoing execution: %w", err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for s.o.Executor.State().Phase != executor.PhaseIdle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
