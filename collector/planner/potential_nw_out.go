package planner

import (
	"math"

	"github.com/weirhq/weir/collector/model"
)

// newPotentialNwOutGoal builds PotentialNwOutGoal (soft): the outbound
// network each hosting broker would carry if it led every replica it holds
// stays under its outbound capacity × network.outbound.capacity.threshold,
// so any failover leaves it within capacity. Replica moves only:
// leadership does not change the potential.
func newPotentialNwOutGoal(cfg *Config) goal {
	limit := cfg.CapacityThreshold[model.NetworkOut]
	return &brokerGoal{
		m:           metric{kind: metricPnwOut},
		covers:      hostingWith(model.NetworkOut),
		useReplicas: true,
		limits: func(g *brokerGoal, s *state) {
			for b := range s.nb {
				g.lo[b], g.hi[b] = math.Inf(-1), s.c.Brokers[b].Capacity[model.NetworkOut]*limit
				g.center[b] = g.hi[b] * capacityHeadroom
			}
		},
	}
}
