package planner

import (
	"cmp"
	"slices"
)

// leadCand is a partition whose leadership could move, and by how much
// the move changes the figure.
type leadCand struct {
	p      int32
	amount float64
}

// shedLeadership hands leadership of b's partitions to followers below
// their target, the largest amounts first, until b is within its target.
// Leadership moves copy no data, so they come before replica moves.
func (g *brokerGoal) shedLeadership(s *state, b int32) bool {
	moved := false
	for _, c := range g.leadCands(s, b, func(p int32) bool { return s.parts[p].leader == b }) {
		if g.value(s, b) <= g.thi[b] {
			break
		}
		moved = g.leadAway(s, c, b) || moved
	}
	return moved
}

// leadAway moves p's leadership from b to the least loaded follower that
// stays within its target.
func (g *brokerGoal) leadAway(s *state, c leadCand, b int32) bool {
	if g.value(s, b)-c.amount < g.tlo[b] {
		return false
	}
	followers := slices.Clone(s.replicas(c.p))
	slices.SortStableFunc(followers, func(x, y int32) int { return cmp.Compare(g.util(s, x), g.util(s, y)) })
	for _, f := range followers {
		if f != b && g.value(s, f)+c.amount <= g.thi[f] &&
			s.try(action{kind: moveLeadership, p: c.p, src: b, dst: f}, g) {
			return true
		}
	}
	return false
}

// fillLeadership takes leadership for b of partitions it follows whose
// leaders sit above the center, until b reaches its target.
func (g *brokerGoal) fillLeadership(s *state, b int32) bool {
	if !s.canLead[b] {
		return false
	}
	moved := false
	isGiver := func(p int32) bool {
		l := s.parts[p].leader
		return l >= 0 && l != b && g.value(s, l) > g.center[l]
	}
	for _, c := range g.leadCands(s, b, isGiver) {
		if g.value(s, b) >= g.tlo[b] {
			break
		}
		l := s.parts[c.p].leader
		if g.value(s, b)+c.amount <= g.thi[b] && g.value(s, l)-c.amount >= g.tlo[l] {
			moved = s.try(action{kind: moveLeadership, p: c.p, src: l, dst: b}, g) || moved
		}
	}
	return moved
}

// leadCands lists b's partitions that keep accepts, largest amount first.
func (g *brokerGoal) leadCands(s *state, b int32, keep func(p int32) bool) []leadCand {
	var out []leadCand
	for _, p := range s.hosted[b] {
		if s.parts[p].excluded || !s.hosts(p, b) || !keep(p) {
			continue
		}
		if a := g.m.leadAmount(s, p); a > 0 {
			out = append(out, leadCand{p, a})
		}
	}
	slices.SortFunc(out, func(x, y leadCand) int { return cmp.Or(cmp.Compare(y.amount, x.amount), cmp.Compare(x.p, y.p)) })
	return slices.CompactFunc(out, func(x, y leadCand) bool { return x.p == y.p })
}
