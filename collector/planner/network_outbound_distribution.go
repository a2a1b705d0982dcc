package planner

import "github.com/weirhq/weir/collector/model"

// newNetworkOutboundUsageDistributionGoal builds NetworkOutboundUsageDistributionGoal (soft): every hosting broker's
// NetworkOut utilization stays within the network.outbound.balance.threshold band around the
// mean utilization.
func newNetworkOutboundUsageDistributionGoal(cfg *Config) goal {
	return newUsageDistributionGoal(cfg, model.NetworkOut)
}
