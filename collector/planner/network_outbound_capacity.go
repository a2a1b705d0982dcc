package planner

import "github.com/weirhq/weir/collector/model"

// newNetworkOutboundCapacityGoal builds NetworkOutboundCapacityGoal (hard): every hosting broker's
// NetworkOut load stays at or under its capacity × network.outbound.capacity.threshold.
func newNetworkOutboundCapacityGoal(cfg *Config) goal { return newCapacityGoal(cfg, model.NetworkOut) }
