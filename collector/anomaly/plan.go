package anomaly

import (
	"fmt"
	"slices"

	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/planner"
)

// Plan is the fix's proposal on c: the fix's broker states applied to a
// copy of c (a broker no longer in c, or Dead, keeps its state), then the
// planner with the fix's goals, the hard-goal check skipped (the healing
// goals are chosen). Pure: the same model gives the same moves.
func (f *Fix) Plan(c *model.Cluster, cfg planner.Config) (*model.Proposal, error) {
	if len(f.States) > 0 {
		cp := *c
		cp.Brokers = slices.Clone(c.Brokers)
		for id, st := range f.States {
			if b := cp.Broker(id); b != nil && b.State != model.Dead {
				b.State = st
			}
		}
		c = &cp
	}
	prop, err := planner.Plan(c, planner.Options{Goals: f.Goals, SkipHardGoalCheck: true, Config: cfg})
	if err != nil {
		return nil, fmt.Errorf("planning the fix of %s: %w", f.AnomalyID, err)
	}
	return prop, nil
}
