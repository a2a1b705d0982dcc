package planner

import "github.com/weirhq/weir/collector/model"

// newDiskCapacityGoal builds DiskCapacityGoal (hard): every hosting broker's
// Disk load stays at or under its capacity × disk.capacity.threshold.
func newDiskCapacityGoal(cfg *Config) goal { return newCapacityGoal(cfg, model.Disk) }
