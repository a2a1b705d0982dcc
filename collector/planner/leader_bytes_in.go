package planner

import (
	"math"

	"github.com/weirhq/weir/collector/model"
)

// newLeaderBytesInDistributionGoal builds LeaderBytesInDistributionGoal
// (soft): the inbound bytes of the partitions each broker leads stay
// under mean·t, t = network.inbound.balance.threshold, the mean over the
// brokers that may lead. Leadership moves only.
func newLeaderBytesInDistributionGoal(cfg *Config) goal {
	t := cfg.BalanceThreshold[model.NetworkIn]
	return &brokerGoal{
		m:          metric{kind: metricLeaderIn},
		covers:     leading,
		useLeaders: true,
		limits: func(g *brokerGoal, s *state) {
			countBand(g, s, t)
			for b := range s.nb {
				g.lo[b], g.hi[b] = math.Inf(-1), g.center[b]*t
			}
		},
	}
}
