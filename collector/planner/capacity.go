package planner

import (
	"math"

	"github.com/weirhq/weir/collector/model"
)

// newCapacityGoal bounds each hosting broker's load of r by
// capacity × capacity.threshold. CPU and outbound network shed leadership
// first; a leader carries more of both than a follower.
func newCapacityGoal(cfg *Config, r model.Resource) goal {
	limit := cfg.CapacityThreshold[r]
	return &brokerGoal{
		m:           metric{kind: metricLoad, r: r},
		covers:      hosting,
		useLeaders:  r == model.CPU || r == model.NetworkOut,
		useReplicas: true,
		limits: func(g *brokerGoal, s *state) {
			for b := range s.nb {
				g.lo[b], g.hi[b] = math.Inf(-1), s.c.Brokers[b].Capacity[r]*limit
				g.center[b] = g.hi[b] * capacityHeadroom
			}
		},
	}
}

func hosting(s *state, b int) bool { return s.canHost[b] }

func leading(s *state, b int) bool { return s.canLead[b] }
