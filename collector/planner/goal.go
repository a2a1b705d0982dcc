package planner

import (
	"slices"
	"strings"
)

// goal is one of Cruise Control's goals over the planner's state.
type goal interface {
	// init computes the goal's limits; totals never change during a
	// plan, so limits are computed once.
	init(s *state)
	// violations counts the units (brokers, partitions or topics) that
	// break the goal's rule, out of total.
	violations(s *state) (bad, total int)
	// optimize makes moves until the goal holds or no accepted move helps.
	optimize(s *state)
	// accept reports whether an action keeps the goal: the brokers it
	// touches stay within the goal's limits, or get no further outside.
	accept(s *state, a *action, d *[2]delta) bool
	// unit names what violations counts.
	unit() string
}

// GoalInfo describes one goal.
type GoalInfo struct {
	Name string
	Hard bool
}

type goalDef struct {
	GoalInfo
	build func(cfg *Config) goal
}

// registry is every goal in Cruise Control's default priority order.
var registry = []goalDef{
	{GoalInfo{"RackAwareGoal", true}, newRackAwareGoal},
	{GoalInfo{"ReplicaCapacityGoal", true}, newReplicaCapacityGoal},
	{GoalInfo{"DiskCapacityGoal", true}, newDiskCapacityGoal},
	{GoalInfo{"NetworkInboundCapacityGoal", true}, newNetworkInboundCapacityGoal},
	{GoalInfo{"NetworkOutboundCapacityGoal", true}, newNetworkOutboundCapacityGoal},
	{GoalInfo{"CpuCapacityGoal", true}, newCPUCapacityGoal},
	{GoalInfo{"ReplicaDistributionGoal", false}, newReplicaDistributionGoal},
	{GoalInfo{"PotentialNwOutGoal", false}, newPotentialNwOutGoal},
	{GoalInfo{"DiskUsageDistributionGoal", false}, newDiskUsageDistributionGoal},
	{GoalInfo{"NetworkInboundUsageDistributionGoal", false}, newNetworkInboundUsageDistributionGoal},
	{GoalInfo{"NetworkOutboundUsageDistributionGoal", false}, newNetworkOutboundUsageDistributionGoal},
	{GoalInfo{"CpuUsageDistributionGoal", false}, newCPUUsageDistributionGoal},
	{GoalInfo{"TopicReplicaDistributionGoal", false}, newTopicReplicaDistributionGoal},
	{GoalInfo{"LeaderReplicaDistributionGoal", false}, newLeaderReplicaDistributionGoal},
	{GoalInfo{"LeaderBytesInDistributionGoal", false}, newLeaderBytesInDistributionGoal},
}

// classPrefix is the package of Cruise Control's goal classes; the fully
// qualified class names are accepted as synonyms.
const classPrefix = "com.linkedin.kafka.cruisecontrol.analyzer.goals."

// Goals lists every known goal, hard goals first, in Cruise Control's
// default priority order.
func Goals() []GoalInfo {
	out := make([]GoalInfo, len(registry))
	for i, d := range registry {
		out[i] = d.GoalInfo
	}
	return out
}

func goalNames() []string {
	out := make([]string, len(registry))
	for i, d := range registry {
		out[i] = d.Name
	}
	return out
}

// lookupGoals resolves names (short or fully qualified) to registry
// entries, in the order given, dropping repeats.
func lookupGoals(names []string) ([]goalDef, error) {
	var defs []goalDef
	var unknown []string
	for _, n := range names {
		i := slices.IndexFunc(registry, func(d goalDef) bool { return d.Name == strings.TrimPrefix(n, classPrefix) })
		switch {
		case i < 0:
			unknown = append(unknown, n)
		case !slices.ContainsFunc(defs, func(d goalDef) bool { return d.Name == registry[i].Name }):
			defs = append(defs, registry[i])
		}
	}
	if len(unknown) > 0 {
		return nil, &GoalError{Unknown: unknown, Known: goalNames()}
	}
	return defs, nil
}

// resolveGoals picks the plan's goals: the options' list, else the
// configured default, else every goal; a list given in the options must
// hold every hard goal unless the check is skipped.
func resolveGoals(o *Options) ([]goalDef, error) {
	names := o.Goals
	if len(names) == 0 {
		names = o.Config.DefaultGoals
	}
	if len(names) == 0 {
		names = goalNames()
	}
	defs, err := lookupGoals(names)
	if err != nil || o.SkipHardGoalCheck || len(o.Goals) == 0 {
		return defs, err
	}
	var missing []string
	for _, d := range registry {
		if d.Hard && !slices.ContainsFunc(defs, func(x goalDef) bool { return x.Name == d.Name }) {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return nil, &GoalError{Missing: missing, Known: goalNames()}
	}
	return defs, nil
}
