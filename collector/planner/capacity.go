package planner

import (
	"math"

	"github.com/weirhq/weir/collector/model"
)

// newCapacityGoal bounds each hosting broker's load of r by
// capacity × capacity.threshold. CPU and outbound network shed leadership
// first; a leader carries more of both than a follower. Shed load fills
// receivers only up to the mean utilization (or 90% of the limit), so the
// fix spreads instead of moving the hot spot.
func newCapacityGoal(cfg *Config, r model.Resource) goal {
	limit := cfg.CapacityThreshold[r]
	return &brokerGoal{
		m:           metric{kind: metricLoad, r: r},
		covers:      hostingWith(r),
		useLeaders:  r == model.CPU || r == model.NetworkOut,
		useReplicas: true,
		limits: func(g *brokerGoal, s *state) {
			mean := meanUtilization(s, r)
			for b := range s.nb {
				capacity := s.c.Brokers[b].Capacity[r]
				g.lo[b], g.hi[b] = math.Inf(-1), capacity*limit
				g.center[b] = min(mean, limit*capacityHeadroom) * capacity
			}
			g.fillTo = g.center
		},
	}
}

func hosting(s *state, b int) bool { return s.canHost[b] }

// hostingWith covers the hosting brokers with a known capacity of r; a
// broker without one (0) is left out of r's rules, as model.Utilization
// counts it unloaded.
func hostingWith(r model.Resource) func(s *state, b int) bool {
	return func(s *state, b int) bool { return s.canHost[b] && s.c.Brokers[b].Capacity[r] > 0 }
}

func leading(s *state, b int) bool { return s.canLead[b] }
