package planner

import "github.com/weirhq/weir/collector/model"

// newDiskUsageDistributionGoal builds DiskUsageDistributionGoal (soft): every hosting broker's
// Disk utilization stays within the disk.balance.threshold band around the
// mean utilization.
func newDiskUsageDistributionGoal(cfg *Config) goal { return newUsageDistributionGoal(cfg, model.Disk) }
