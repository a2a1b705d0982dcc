package planner

import "github.com/weirhq/weir/collector/model"

// newCPUUsageDistributionGoal builds CpuUsageDistributionGoal (soft): every hosting broker's
// CPU utilization stays within the cpu.balance.threshold band around the
// mean utilization.
func newCPUUsageDistributionGoal(cfg *Config) goal { return newUsageDistributionGoal(cfg, model.CPU) }
