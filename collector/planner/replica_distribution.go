package planner

// newReplicaDistributionGoal builds ReplicaDistributionGoal (soft): every
// hosting broker holds within [floor(mean·max(0, 2−t)), ceil(mean·t)]
// replicas, t = replica.count.balance.threshold. The smallest replicas
// move first: counts do not care about size, data moved does.
func newReplicaDistributionGoal(cfg *Config) goal {
	t := cfg.ReplicaCountBalanceThreshold
	return &brokerGoal{
		m:           metric{kind: metricReplicas},
		covers:      hosting,
		useReplicas: true,
		limits:      func(g *brokerGoal, s *state) { countBand(g, s, t) },
	}
}
