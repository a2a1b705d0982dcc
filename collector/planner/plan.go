package planner

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// Options are one plan's request.
type Options struct {
	// Goals are goal names (short or fully qualified) in priority order;
	// empty means Config.DefaultGoals. Unknown names fail with *GoalError.
	Goals []string
	// ExcludedTopics: replicas and leadership of matching topics never
	// move, except off dead or removing brokers (and leadership off
	// brokers that may not lead).
	ExcludedTopics *regexp.Regexp
	// DestinationBrokers: replica moves land only on these broker ids
	// (empty: on any broker that may receive them).
	DestinationBrokers []int32
	// SkipHardGoalCheck allows a Goals list without every hard goal
	// (Cruise Control's skip_hard_goal_check).
	SkipHardGoalCheck bool
	// Config holds the thresholds; the zero Config means DefaultConfig().
	Config Config
}

// Plan computes a proposal for c: the moves that satisfy the goals in
// priority order, each goal keeping those before it. c is not changed.
func Plan(c *model.Cluster, o Options) (*model.Proposal, error) {
	start := time.Now()
	if isZero(&o.Config) {
		o.Config = DefaultConfig()
	}
	defs, err := resolveGoals(&o)
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("planning on an invalid model: %w", err)
	}
	s := newState(c, &o)
	results, err := s.run(defs)
	if err != nil {
		return nil, err
	}
	prop, err := s.proposal(results)
	if err != nil {
		return nil, err
	}
	prop.Duration = time.Since(start)
	return prop, nil
}

func isZero(c *Config) bool {
	return c.MaxReplicasPerBroker == 0 && c.DefaultGoals == nil && c.CapacityThreshold == [model.NumResources]float64{}
}

// run scores the goals on the model, moves replicas off brokers that may
// not host them and leadership off brokers that may not lead, then
// optimizes each goal in turn.
func (s *state) run(defs []goalDef) ([]model.GoalResult, error) {
	goals := make([]goal, len(defs))
	var hard []goal
	results := make([]model.GoalResult, len(defs))
	s.rackAware = slices.ContainsFunc(defs, func(d goalDef) bool { return d.Name == "RackAwareGoal" })
	s.lb = s.lowerBound()
	for i, d := range defs {
		goals[i] = d.build(s.cfg)
		goals[i].init(s)
		results[i] = model.GoalResult{Goal: d.Name, Hard: d.Hard, Before: balancedness(goals[i].violations(s))}
		if d.Hard {
			hard = append(hard, goals[i])
		}
	}
	if err := s.prepare(hard); err != nil {
		return nil, err
	}
	for i, g := range goals {
		if err := s.optimizeGoal(g, &results[i]); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// prepare carries out the broker states: leadership off brokers that may
// not lead, replicas off brokers that may not host.
func (s *state) prepare(hard []goal) error {
	s.relead()
	if stuck := s.evacuate(hard); len(stuck) > 0 {
		return &UnplaceableError{Partitions: stuck, Reason: "every broker that may receive replicas already holds one of theirs"}
	}
	s.relead()
	return nil
}

// optimizeGoal optimizes g and records its outcome; a hard goal left
// violated fails the plan.
func (s *state) optimizeGoal(g goal, r *model.GoalResult) error {
	start := time.Now()
	g.init(s)
	r.Status = "NO-ACTION"
	if bad, _ := g.violations(s); bad > 0 {
		g.optimize(s)
		r.Status = "FIXED"
	}
	s.checks = append(s.checks, g)
	bad, total := g.violations(s)
	r.After, r.Duration = balancedness(bad, total), time.Since(start)
	if bad == 0 {
		return nil
	}
	r.Status = "VIOLATED"
	if r.Hard {
		return &HardGoalError{Goal: r.Goal, Reason: fmt.Sprintf("%d of %d %s still break it after optimizing", bad, total, g.unit())}
	}
	return nil
}

// balancedness is the share of units keeping the goal, 0–100.
func balancedness(bad, total int) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(total-bad) / float64(total)
}
