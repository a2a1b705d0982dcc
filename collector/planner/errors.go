package planner

import (
	"fmt"
	"strings"
)

// GoalError is a goal list the planner cannot use: names it does not know,
// or (without SkipHardGoalCheck) hard goals missing from the list.
type GoalError struct {
	Unknown []string // names that are no goal
	Missing []string // hard goals left out of the list
	Known   []string // every goal name, in priority order
}

func (e *GoalError) Error() string {
	if len(e.Unknown) > 0 {
		return fmt.Sprintf("unknown goals %s (known: %s)", strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("goal list leaves out hard goals %s (set skip_hard_goal_check to allow)", strings.Join(e.Missing, ", "))
}

// UnplaceableError lists partitions with replicas on dead or removing
// brokers that no eligible broker can take.
type UnplaceableError struct {
	Partitions []string
	Reason     string
}

func (e *UnplaceableError) Error() string {
	const show = 20
	names := e.Partitions
	more := ""
	if len(names) > show {
		names, more = names[:show], fmt.Sprintf(" and %d more", len(e.Partitions)-show)
	}
	return fmt.Sprintf("moving replicas off dead or removing brokers: %d partitions have nowhere to go (%s): %s%s",
		len(e.Partitions), e.Reason, strings.Join(names, ", "), more)
}

// HardGoalError is a hard goal the plan could not satisfy; the proposal is
// refused.
type HardGoalError struct {
	Goal   string
	Reason string
}

func (e *HardGoalError) Error() string {
	return fmt.Sprintf("hard goal %s cannot be satisfied: %s", e.Goal, e.Reason)
}
