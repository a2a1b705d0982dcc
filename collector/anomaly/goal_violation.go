package anomaly

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weirhq/weir/collector/planner"
)

// goalViolations is the GOAL_VIOLATION detector: the goals of
// anomaly.detection.goals that the latest default-goal proposal found
// violated on the current model (balancedness before below 100: status
// FIXED or VIOLATED). The proposal is the API's, recomputed every
// proposal.expiration.ms; one older than the last self-healing execution
// says nothing (nil, false). The fix plans with the healing goals and the
// violated ones; when the proposal could not fix one of them (VIOLATED
// after its moves) the anomaly is only reported.
//
// With diskFull (the DISK_FAILURE detector found a full disk)
// DiskCapacityGoal is left to that anomaly.
func goalViolations(o *Observation, cfg *Config, fresh, diskFull bool) (*finding, bool) {
	if o.Proposal == nil || !fresh {
		return nil, false
	}
	var violated, unfixable []string
	for _, g := range o.Proposal.Goals {
		if !slices.Contains(cfg.DetectionGoals, g.Goal) || g.Before >= 100 || diskFull && g.Goal == "DiskCapacityGoal" {
			continue
		}
		violated = append(violated, g.Goal)
		if g.Status == "VIOLATED" {
			unfixable = append(unfixable, g.Goal)
		}
	}
	if len(violated) == 0 {
		return nil, true
	}
	f := &finding{typ: GoalViolation, key: strings.Join(violated, ","), goals: violated,
		description: "goals violated on the current model: " + strings.Join(violated, ", ")}
	if len(unfixable) > 0 {
		f.noFix = fmt.Sprintf("the proposal leaves %s violated", strings.Join(unfixable, ", "))
		return f, true
	}
	goals := slices.Clone(cfg.HealingGoals)
	for _, g := range violated {
		if !slices.Contains(goals, g) {
			goals = append(goals, g)
		}
	}
	f.fix = &Fix{Type: GoalViolation, Goals: inPlannerOrder(goals)}
	return f, true
}

// inPlannerOrder sorts goal names in the planner's priority order.
func inPlannerOrder(goals []string) []string {
	var out []string
	for _, g := range planner.Goals() {
		if slices.Contains(goals, g.Name) {
			out = append(out, g.Name)
		}
	}
	return out
}
