package planner

import "math"

// newReplicaCapacityGoal builds ReplicaCapacityGoal (hard): no hosting
// broker holds more than max.replicas.per.broker replicas.
func newReplicaCapacityGoal(cfg *Config) goal {
	limit := float64(cfg.MaxReplicasPerBroker)
	return &brokerGoal{
		m:           metric{kind: metricReplicas},
		covers:      hosting,
		useReplicas: true,
		limits: func(g *brokerGoal, s *state) {
			for b := range s.nb {
				g.lo[b], g.center[b], g.hi[b] = math.Inf(-1), limit*capacityHeadroom, limit
			}
		},
	}
}
