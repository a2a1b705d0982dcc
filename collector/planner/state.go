package planner

import (
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// brokerLoad is what the plan has placed on one broker so far, kept
// current move by move.
type brokerLoad struct {
	load     model.Load
	replicas int
	leaders  int
	pnwOut   float64 // potential outbound network: as if it led every replica
	leaderIn float64 // inbound bytes of the partitions it leads
}

// partition is the planner's view of one model partition.
type partition struct {
	off      int32 // its replicas are state.slots[off : off+rf]
	rf       int32
	leader   int32 // broker index, -1 without a leader
	topic    int32 // index into state.topics
	excluded bool  // its topic matches Options.ExcludedTopics
	lead     model.Load
	follow   model.Load
}

// topic is a run of partitions in the model's (topic, partition) order.
type topic struct {
	name       string
	start, end int32
	excluded   bool // matches Options.ExcludedTopics
}

// state is the plan in progress. Brokers and partitions are addressed by
// their index in the model's slices; every figure a goal reads is kept
// incrementally, so an action costs O(replication factor).
type state struct {
	c      *model.Cluster
	cfg    *Config
	nb     int
	load   []brokerLoad
	parts  []partition
	slots  []int32   // current replica broker indices, partition by partition
	orig   []int32   // slots as the model had them
	disk0  []float64 // disk used per broker in the model
	hosted [][]int32 // partition indices per broker; entries go stale when a replica leaves
	rack   []int32   // rack index per broker; a broker without a rack is a rack of its own
	racks  int
	// hostRack marks the rack indices with a broker that may host;
	// rackAware is set when RackAwareGoal is one of the plan's goals, so
	// the distribution goals aim at what it lets each rack hold.
	hostRack  []bool
	rackAware bool
	lb        float64 // the proposal's LowerBound, of the model's placement
	topics    []topic
	byTopic   []int32 // replica count per (topic, broker): topic*nb + broker

	canHost []bool // Alive, New, Demoted
	canLead []bool // Alive, New
	dest    []bool // may receive replica moves (New-only in add-broker mode, DestinationBrokers)

	checks []goal // goals already optimized: every action must keep them
}

func (s *state) replicas(p int32) []int32 {
	pp := &s.parts[p]
	return s.slots[pp.off : pp.off+pp.rf]
}

func (s *state) hosts(p, b int32) bool { return slices.Contains(s.replicas(p), b) }

func (s *state) replicaLoad(p, b int32) *model.Load {
	if s.parts[p].leader == b {
		return &s.parts[p].lead
	}
	return &s.parts[p].follow
}

// moved reports whether partition p's replica set differs from the model's.
func (s *state) moved(p int32) bool {
	pp := &s.parts[p]
	cur, old := s.replicas(p), s.orig[pp.off:pp.off+pp.rf]
	for _, b := range cur {
		if !slices.Contains(old, b) {
			return true
		}
	}
	return false
}

// add puts partition p's replica on broker b into the sums.
func (s *state) add(p, b int32, sign float64) {
	pp, bl := &s.parts[p], &s.load[b]
	leader := pp.leader == b
	bl.load = addScaled(bl.load, *s.replicaLoad(p, b), sign)
	bl.replicas += int(sign)
	bl.pnwOut += sign * pp.lead[model.NetworkOut]
	if leader {
		bl.leaders += int(sign)
		bl.leaderIn += sign * pp.lead[model.NetworkIn]
	}
	s.byTopic[int(pp.topic)*s.nb+int(b)] += int32(sign)
}

func addScaled(l, o model.Load, k float64) model.Load {
	for r := range l {
		l[r] += k * o[r]
	}
	return l
}

// relocate moves p's replica from src to dst; a leader replica keeps
// leading on dst.
func (s *state) relocate(p, src, dst int32) {
	s.add(p, src, -1)
	rs := s.replicas(p)
	rs[slices.Index(rs, src)] = dst
	if s.parts[p].leader == src {
		s.parts[p].leader = dst
	}
	s.add(p, dst, 1)
	s.hosted[dst] = append(s.hosted[dst], p)
}

// setLeader hands p's leadership to dst (one of its replicas, or -1).
func (s *state) setLeader(p, dst int32) {
	for _, b := range s.replicas(p) {
		s.add(p, b, -1)
	}
	s.parts[p].leader = dst
	for _, b := range s.replicas(p) {
		s.add(p, b, 1)
	}
}
