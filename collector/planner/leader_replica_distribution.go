package planner

// newLeaderReplicaDistributionGoal builds LeaderReplicaDistributionGoal
// (soft): every broker that may lead leads within
// [floor(mean·max(0, 2−t)), ceil(mean·t)] partitions,
// t = leader.replica.count.balance.threshold. Leadership moves only.
func newLeaderReplicaDistributionGoal(cfg *Config) goal {
	t := cfg.LeaderReplicaCountBalanceThreshold
	return &brokerGoal{
		m:          metric{kind: metricLeaders},
		covers:     leading,
		useLeaders: true,
		limits:     func(g *brokerGoal, s *state) { countBand(g, s, t) },
	}
}
