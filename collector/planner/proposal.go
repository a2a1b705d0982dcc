package planner

import (
	"fmt"
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// proposal lists one move per changed partition and sums up the plan.
func (s *state) proposal(results []model.GoalResult) (*model.Proposal, error) {
	prop := &model.Proposal{Goals: results, Before: model.ComputeStats(s.c), LowerBound: s.lb}
	for p := range int32(len(s.parts)) {
		if m, ok := s.move(p); ok {
			prop.Moves = append(prop.Moves, m)
			prop.DataToMove += m.DataToMove()
		}
	}
	after, err := model.Apply(s.c, prop.Moves)
	if err != nil {
		return nil, fmt.Errorf("applying the plan to summarize it: %w", err)
	}
	prop.After = model.ComputeStats(after)
	for _, t := range s.topics {
		if t.excluded {
			prop.ExcludedTopics = append(prop.ExcludedTopics, t.name)
		}
	}
	return prop, nil
}

// move is p's change, if any: its final replicas with the final leader
// first. A partition whose preferred leader may not lead is reordered even
// when nothing else changes (demotion).
func (s *state) move(p int32) (model.Move, bool) {
	mp := &s.c.Partitions[p]
	pp := &s.parts[p]
	ids := make([]int32, 0, pp.rf)
	for _, b := range s.replicas(p) {
		ids = append(ids, s.c.Brokers[b].ID)
	}
	leader := mp.Leader
	if pp.leader >= 0 {
		leader = s.c.Brokers[pp.leader].ID
		i := slices.Index(ids, leader)
		copy(ids[1:i+1], ids[:i])
		ids[0] = leader
	}
	demoted := !s.canLead[s.orig[pp.off]] && ids[0] != mp.Replicas[0]
	if !s.moved(p) && leader == mp.Leader && !demoted {
		return model.Move{}, false
	}
	return model.Move{Topic: mp.Topic, Partition: mp.Partition, OldReplicas: slices.Clone(mp.Replicas),
		NewReplicas: ids, OldLeader: mp.Leader, Size: mp.Load.Size}, true
}

// lowerBound, computed on the model's placement before any move, is the least data any plan reaching the disk targets must
// copy: Σ_b max(0, disk_b − target_b) over all brokers, where target_b is
// total disk × b's share of the disk capacity of the brokers that may host
// (Alive, New, Demoted), or with RackAwareGoal the share its rack can
// reach split by capacity (rack_share.go), and 0 for Dead and Removing
// brokers.
func (s *state) lowerBound() float64 {
	var total, capacity, lb float64
	for b := range s.nb {
		total += s.disk0[b]
		if s.canHost[b] {
			capacity += s.c.Brokers[b].Capacity[model.Disk]
		}
	}
	diskCapacity := func(b int) float64 { return s.c.Brokers[b].Capacity[model.Disk] }
	targets := s.rackTargets(metric{kind: metricLoad, r: model.Disk}, hosting, total, diskCapacity)
	for b := range s.nb {
		target := 0.0
		switch {
		case targets != nil:
			target = targets[b]
		case s.canHost[b] && capacity > 0:
			target = total * s.c.Brokers[b].Capacity[model.Disk] / capacity
		}
		lb += max(0, s.disk0[b]-target)
	}
	return lb
}
