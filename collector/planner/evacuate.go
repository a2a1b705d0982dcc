package planner

import (
	"cmp"
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// evacuate moves every replica off brokers that may not host (Dead,
// Removing), excluded topics included, as Cruise Control does. Each goes to
// the broker with the lowest disk utilization (brokers without a disk
// capacity last) that keeps the hard goals,
// else to the lowest one that may receive it at all. Partitions with no
// such broker are returned by name.
func (s *state) evacuate(hard []goal) []string {
	var stuck []string
	for p := range int32(len(s.parts)) {
		for _, b := range slices.Clone(s.replicas(p)) {
			if !s.canHost[b] && !s.evacuateReplica(p, b, hard) {
				stuck = append(stuck, s.c.Partitions[p].Name())
				break
			}
		}
	}
	return stuck
}

func (s *state) evacuateReplica(p, b int32, hard []goal) bool {
	order := s.byDiskUtilization()
	for _, checked := range []bool{true, false} {
		for _, d := range order {
			if s.hosts(p, d) || checked && !s.acceptedBy(hard, &action{kind: relocateReplica, p: p, src: b, dst: d}) {
				continue
			}
			s.relocate(p, b, d)
			return true
		}
	}
	return false
}

// acceptedBy asks the goals whether they accept the action.
func (s *state) acceptedBy(goals []goal, a *action) bool {
	d := s.deltas(a)
	for _, g := range goals {
		if !g.accept(s, a, &d) {
			return false
		}
	}
	return true
}

// byDiskUtilization lists the brokers that may receive replicas, lowest
// disk utilization first.
func (s *state) byDiskUtilization() []int32 {
	var out []int32
	for b := range int32(s.nb) {
		if s.dest[b] {
			out = append(out, b)
		}
	}
	util := func(b int32) float64 {
		if s.c.Brokers[b].Capacity[model.Disk] <= 0 {
			return inf // unknown capacity: last
		}
		return model.Utilization(s.load[b].load[model.Disk], s.c.Brokers[b].Capacity[model.Disk])
	}
	slices.SortStableFunc(out, func(x, y int32) int { return cmp.Compare(util(x), util(y)) })
	return out
}

// relead gives every partition whose leader may not lead (Demoted, Dead,
// Removing, or none) to the replica that may lead with the fewest
// leaderships, first listed among equals. Partitions with no such replica
// keep their leader.
func (s *state) relead() {
	for p := range int32(len(s.parts)) {
		if l := s.parts[p].leader; l >= 0 && s.canLead[l] {
			continue
		}
		best := int32(-1)
		for _, b := range s.replicas(p) {
			if s.canLead[b] && (best < 0 || s.load[b].leaders < s.load[best].leaders) {
				best = b
			}
		}
		if best >= 0 {
			s.setLeader(p, best)
		}
	}
}
