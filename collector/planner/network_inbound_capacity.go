package planner

import "github.com/weirhq/weir/collector/model"

// newNetworkInboundCapacityGoal builds NetworkInboundCapacityGoal (hard): every hosting broker's
// NetworkIn load stays at or under its capacity × network.inbound.capacity.threshold.
func newNetworkInboundCapacityGoal(cfg *Config) goal { return newCapacityGoal(cfg, model.NetworkIn) }
