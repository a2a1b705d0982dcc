package anomaly

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/weirhq/weir/collector/model"
)

// diskFailures is the DISK_FAILURE detector, over two sources:
//
//   - offline log directories: DescribeLogDirs answers
//     KAFKA_STORAGE_ERROR for a directory that failed. A live broker all
//     of whose directories are offline holds nothing readable: the fix
//     moves all its replicas off (as remove_broker does). With only some
//     of its directories offline the anomaly is reported, not healed (the
//     planner moves brokers' replicas, not a directory's).
//   - full disks: on the model, a live broker whose replicas fill more
//     than disk.capacity.threshold of its disk capacity (the agent's
//     reading or capacity.json). The fix is a plan with the healing goals
//     and DiskCapacityGoal, which moves replicas off it.
//
// fresh is false when the model predates the last self-healing execution:
// full disks are then not judged (nil, false).
func diskFailures(o *Observation, cfg *Config, fresh bool) (*finding, bool) {
	offline, whole := offlineDirs(o)
	full, known := fullDisks(o.Model, cfg.DiskThreshold, fresh)
	if !known && o.LogDirs == nil {
		return nil, false
	}
	if len(offline) == 0 && len(full) == 0 {
		return nil, true
	}
	var what []string
	for _, id := range slices.Sorted(maps.Keys(offline)) {
		what = append(what, fmt.Sprintf("broker %d has offline log dirs %s", id, strings.Join(offline[id], ", ")))
	}
	for _, id := range slices.Sorted(maps.Keys(full)) {
		what = append(what, fmt.Sprintf("broker %d's disk is %.0f%% full (disk.capacity.threshold %.0f%%)", id, 100*full[id], 100*cfg.DiskThreshold))
	}
	ids := slices.Sorted(maps.Keys(offline))
	for id := range full {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	f := &finding{typ: DiskFailure, key: fmt.Sprint(slices.Sorted(maps.Keys(offline)), slices.Sorted(maps.Keys(full))),
		brokers: ids, description: strings.Join(what, "; "), full: len(full) > 0}
	if len(offline) > len(whole) {
		f.noFix = "a broker has only some of its log dirs offline: the planner moves a broker's replicas, not one directory's"
		return f, true
	}
	f.fix = &Fix{Type: DiskFailure, Goals: withGoal(cfg.HealingGoals, "DiskCapacityGoal"), States: map[int32]model.BrokerState{}}
	for _, id := range whole {
		f.fix.States[id] = model.Removing
	}
	return f, true
}

// offlineDirs lists each live broker's offline log dirs, and the brokers
// whose every dir is offline.
func offlineDirs(o *Observation) (map[int32][]string, []int32) {
	offline := map[int32][]string{}
	var whole []int32
	for _, id := range slices.Sorted(maps.Keys(o.LogDirs)) {
		dirs := o.LogDirs[id]
		for _, d := range dirs {
			if d.Offline && o.Alive[id] {
				offline[id] = append(offline[id], d.Path)
			}
		}
		if n := len(offline[id]); n > 0 && n == len(dirs) {
			whole = append(whole, id)
		}
	}
	return offline, whole
}

// fullDisks maps each live broker above the threshold to its disk
// utilization.
func fullDisks(c *model.Cluster, threshold float64, fresh bool) (map[int32]float64, bool) {
	if c == nil || !fresh {
		return nil, false
	}
	used := map[int32]float64{}
	for i := range c.Partitions {
		for _, r := range c.Partitions[i].Replicas {
			used[r] += c.Partitions[i].Load.Size
		}
	}
	full := map[int32]float64{}
	for _, b := range c.Brokers {
		if capacity := b.Capacity[model.Disk]; b.State.CanHost() && capacity > 0 && used[b.ID] > threshold*capacity {
			full[b.ID] = used[b.ID] / capacity
		}
	}
	return full, true
}

// withGoal returns goals with g added if missing, in the planner's order.
func withGoal(goals []string, g string) []string {
	if slices.Contains(goals, g) {
		return goals
	}
	return inPlannerOrder(append(slices.Clone(goals), g))
}
