package planner

import "github.com/weirhq/weir/collector/model"

// newCPUCapacityGoal builds CpuCapacityGoal (hard): every hosting broker's
// CPU load stays at or under its capacity × cpu.capacity.threshold.
func newCPUCapacityGoal(cfg *Config) goal { return newCapacityGoal(cfg, model.CPU) }
