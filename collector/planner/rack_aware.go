package planner

import "slices"

// rackAwareGoal is RackAwareGoal (hard): no rack holds more than
// ceil(RF ÷ racks) replicas of a partition, racks counted over the hosting
// brokers. With at least as many racks as replicas that is Cruise
// Control's rule, one replica per rack; with fewer racks the replicas
// spread as evenly as the racks allow. A broker without a rack is a rack
// of its own.
type rackAwareGoal struct{}

func newRackAwareGoal(*Config) goal { return &rackAwareGoal{} }

func (g *rackAwareGoal) init(*state) {}

func (g *rackAwareGoal) allowed(s *state, p int32) int {
	rf := int(s.parts[p].rf)
	return (rf + s.racks - 1) / max(s.racks, 1)
}

// inRack counts p's replicas in rack, leaving out broker skip.
func (g *rackAwareGoal) inRack(s *state, p, rack, skip int32) int {
	n := 0
	for _, b := range s.replicas(p) {
		if b != skip && s.rack[b] == rack {
			n++
		}
	}
	return n
}

// crowded returns a replica of p in a rack over the limit, or -1; the
// last one listed, so the preferred leader stays.
func (g *rackAwareGoal) crowded(s *state, p int32) int32 {
	rs := s.replicas(p)
	for i := len(rs) - 1; i >= 0; i-- {
		if g.inRack(s, p, s.rack[rs[i]], -1) > g.allowed(s, p) {
			return rs[i]
		}
	}
	return -1
}

func (g *rackAwareGoal) violations(s *state) (bad, total int) {
	for p := range int32(len(s.parts)) {
		if g.crowded(s, p) >= 0 {
			bad++
		}
	}
	return bad, len(s.parts)
}

func (g *rackAwareGoal) accept(s *state, a *action, _ *[2]delta) bool {
	switch a.kind {
	case relocateReplica:
		return g.acceptMove(s, a.p, a.src, a.dst)
	case swapReplicas:
		return g.acceptMove(s, a.p, a.src, a.dst) && g.acceptMove(s, a.q, a.dst, a.src)
	}
	return true
}

// acceptMove: the destination rack stays within the limit, or no fuller
// than the source rack was.
func (g *rackAwareGoal) acceptMove(s *state, p, src, dst int32) bool {
	if s.rack[src] == s.rack[dst] {
		return true
	}
	after := g.inRack(s, p, s.rack[dst], src) + 1
	return after <= g.allowed(s, p) || after <= g.inRack(s, p, s.rack[src], -1)
}

func (g *rackAwareGoal) optimize(s *state) {
	for p := range int32(len(s.parts)) {
		for tries := 0; tries < int(s.parts[p].rf); tries++ {
			b := g.crowded(s, p)
			if b < 0 || !g.relocate(s, p, b) {
				break
			}
		}
	}
}

// relocate moves p's replica on b to the broker with the fewest replicas
// in a rack with room for it.
func (g *rackAwareGoal) relocate(s *state, p, b int32) bool {
	for _, d := range s.byReplicaCount() {
		if g.inRack(s, p, s.rack[d], b)+1 <= g.allowed(s, p) &&
			s.try(action{kind: relocateReplica, p: p, src: b, dst: d}, g) {
			return true
		}
	}
	return false
}

// byReplicaCount lists the brokers that may receive replicas, fewest
// replicas first.
func (s *state) byReplicaCount() []int32 {
	var out []int32
	for b := range int32(s.nb) {
		if s.dest[b] {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(x, y int32) int { return s.load[x].replicas - s.load[y].replicas })
	return out
}
func (g *rackAwareGoal) unit() string { return "partitions" }
