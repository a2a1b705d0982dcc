package planner

import "github.com/weirhq/weir/collector/model"

// newNetworkInboundUsageDistributionGoal builds NetworkInboundUsageDistributionGoal (soft): every hosting broker's
// NetworkIn utilization stays within the network.inbound.balance.threshold band around the
// mean utilization.
func newNetworkInboundUsageDistributionGoal(cfg *Config) goal {
	return newUsageDistributionGoal(cfg, model.NetworkIn)
}
