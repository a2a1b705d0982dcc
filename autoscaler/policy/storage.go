package policy

import (
	"fmt"
	"math"
	"slices"
)

// hotVolume is a broker whose storage utilization is at or above the target.
type hotVolume struct {
	broker     int32
	used, size int64
	util       float64 // percent
}

// decideStorage applies MSK's storage target tracking: a broker at or above
// the target utilization grows by the step (max(10 GiB, 10 %) unless set),
// and at least to the size that brings it back to the target, capped at the
// maximum; volumes never shrink. By default every broker grows to the same
// size, as MSK does; with per_broker only the hot ones grow.
func decideStorage(in Input, s *StoragePolicy, d *Decision) {
	hot := hotVolumes(in, s)
	if len(hot) == 0 {
		return
	}
	if s.PerBroker {
		bySize := map[int64][]hotVolume{}
		var sizes []int64
		for _, h := range hot {
			n := s.newSize(h)
			if bySize[n] == nil {
				sizes = append(sizes, n)
			}
			bySize[n] = append(bySize[n], h)
		}
		slices.Sort(sizes)
		for _, n := range sizes {
			growVolumes(in, s, bySize[n], brokersOf(bySize[n]), d)
		}
		return
	}
	growVolumes(in, s, hot, allBrokers(in), d)
}

func hotVolumes(in Input, s *StoragePolicy) []hotVolume {
	var hot []hotVolume
	for _, b := range sortedBrokers(in.Metrics) {
		smp, ok := latest(in.Metrics[b], in.Now)
		size := in.provisioned(b, smp)
		if !ok || size <= 0 {
			continue
		}
		if util := 100 * float64(smp.StorageUsed) / float64(size); util >= s.TargetUtilization {
			hot = append(hot, hotVolume{broker: b, used: smp.StorageUsed, size: size, util: util})
		}
	}
	return hot
}

// growVolumes grows brokers to the largest size any hot volume needs.
func growVolumes(in Input, s *StoragePolicy, hot []hotVolume, brokers []int32, d *Decision) {
	var target int64
	for _, h := range hot {
		target = max(target, s.newSize(h))
	}
	want := fmt.Sprintf("grow broker(s) %s to %s", ids(brokers), FormatBytes(target))
	var grow []int32
	for _, b := range brokers {
		if in.sizeOf(b) < target {
			grow = append(grow, b)
		}
	}
	if len(grow) == 0 {
		d.Holds = append(d.Holds, Hold{Kind: GrowStorage, Blocked: MaximumReached,
			Reason: fmt.Sprintf("%s, already at max_size %s", hotText(hot, s), FormatBytes(s.MaxSize))})
		return
	}
	touches := func(r Record) bool {
		return len(r.Brokers) == 0 || slices.ContainsFunc(r.Brokers, func(b int32) bool { return slices.Contains(grow, b) })
	}
	if !gate(in, GrowStorage, d, want) || !cooldown(in, GrowStorage, s.Cooldown, touches, d, want) {
		return
	}
	d.Actions = append(d.Actions, Action{Kind: GrowStorage, Brokers: grow, StorageBytes: target,
		Reason: fmt.Sprintf("%s, target %g%%", hotText(hot, s), s.TargetUtilization)})
}

// newSize is the size after one grow: the step, or enough to bring the
// volume back to the target if that is more (rounded up to a GiB, a MiB for
// volumes under 10 GiB), within the maximum.
func (s *StoragePolicy) newSize(h hotVolume) int64 {
	unit := float64(GiB)
	if h.size < 10*GiB {
		unit = 1 << 20
	}
	back := int64(math.Ceil(float64(h.used)*100/s.TargetUtilization/unit)) * int64(unit)
	return min(s.MaxSize, max(h.size+s.Step.Of(h.size), back))
}

func hotText(hot []hotVolume, s *StoragePolicy) string {
	text := ""
	for i, h := range hot {
		if i > 0 {
			text += ", "
		}
		text += fmt.Sprintf("broker %d at %.1f%% of %s", h.broker, h.util, FormatBytes(h.size))
	}
	return text
}

// allBrokers is every broker the control plane or the agents know.
func allBrokers(in Input) []int32 {
	seen := map[int32]bool{}
	for b := range in.Cluster.Provisioned {
		seen[b] = true
	}
	for b := range in.Metrics {
		seen[b] = true
	}
	out := make([]int32, 0, len(seen))
	for b := range seen {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// sizeOf is a broker's provisioned storage now.
func (in Input) sizeOf(b int32) int64 {
	smp, _ := latest(in.Metrics[b], in.Now)
	return in.provisioned(b, smp)
}

func brokersOf(hot []hotVolume) []int32 {
	out := make([]int32, len(hot))
	for i, h := range hot {
		out[i] = h.broker
	}
	return out
}
