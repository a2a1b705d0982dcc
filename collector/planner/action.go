package planner

import "github.com/weirhq/weir/collector/model"

type actionKind uint8

const (
	relocateReplica actionKind = iota // p's replica moves src → dst
	moveLeadership                    // p's leadership moves src → dst
	swapReplicas                      // p's replica moves src → dst and q's dst → src
)

// action is one step of a plan, Cruise Control's BalancingAction.
type action struct {
	kind     actionKind
	p, q     int32
	src, dst int32
}

// delta is what an action changes on one broker.
type delta struct {
	b        int32
	load     model.Load
	replicas int
	leaders  int
	pnwOut   float64
	leaderIn float64
}

// deltas gives the action's change to its source [0] and destination [1].
func (s *state) deltas(a *action) [2]delta {
	d := [2]delta{{b: a.src}, {b: a.dst}}
	switch a.kind {
	case relocateReplica:
		s.relocationDelta(&d, a.p, a.src)
	case moveLeadership:
		s.leadershipDelta(&d, a.p)
	case swapReplicas:
		s.relocationDelta(&d, a.p, a.src)
		d[0], d[1] = d[1], d[0]
		s.relocationDelta(&d, a.q, a.dst)
		d[0], d[1] = d[1], d[0]
	}
	return d
}

// relocationDelta adds the move of p's replica from d[0] to d[1].
func (s *state) relocationDelta(d *[2]delta, p, from int32) {
	pp := &s.parts[p]
	l := *s.replicaLoad(p, from)
	leaders, leaderIn := 0, 0.0
	if pp.leader == from {
		leaders, leaderIn = 1, pp.lead[model.NetworkIn]
	}
	for i, sign := range [2]float64{-1, 1} {
		d[i].load = addScaled(d[i].load, l, sign)
		d[i].replicas += int(sign)
		d[i].leaders += int(sign) * leaders
		d[i].pnwOut += sign * pp.lead[model.NetworkOut]
		d[i].leaderIn += sign * leaderIn
	}
}

func (s *state) leadershipDelta(d *[2]delta, p int32) {
	pp := &s.parts[p]
	diff := pp.lead.Sub(pp.follow)
	for i, sign := range [2]float64{-1, 1} {
		d[i].load = addScaled(d[i].load, diff, sign)
		d[i].leaders += int(sign)
		d[i].leaderIn += sign * pp.lead[model.NetworkIn]
	}
}

// legal checks the rules every action keeps, whatever the goals: replicas
// land only on brokers that may receive them, never beside another
// replica of the same partition; excluded topics stay put; leaders only
// on brokers that may lead.
func (s *state) legal(a *action) bool {
	switch a.kind {
	case relocateReplica:
		return s.canRelocate(a.p, a.src, a.dst)
	case moveLeadership:
		pp := &s.parts[a.p]
		return !pp.excluded && pp.leader == a.src && s.canLead[a.dst] && s.hosts(a.p, a.dst)
	case swapReplicas:
		return s.canRelocate(a.p, a.src, a.dst) && s.canRelocate(a.q, a.dst, a.src) && a.p != a.q
	}
	return false
}

func (s *state) canRelocate(p, src, dst int32) bool {
	pp := &s.parts[p]
	return !pp.excluded && s.dest[dst] && s.hosts(p, src) && !s.hosts(p, dst) &&
		(pp.leader != src || s.canLead[dst])
}

// accepted asks every already-optimized goal, then current, whether the
// action keeps it.
func (s *state) accepted(a *action, current goal) bool {
	d := s.deltas(a)
	for _, g := range s.checks {
		if !g.accept(s, a, &d) {
			return false
		}
	}
	return current == nil || current.accept(s, a, &d)
}

// try makes the action if it is legal and accepted.
func (s *state) try(a action, current goal) bool {
	if !s.legal(&a) || !s.accepted(&a, current) {
		return false
	}
	s.do(&a)
	return true
}

func (s *state) do(a *action) {
	switch a.kind {
	case relocateReplica:
		s.relocate(a.p, a.src, a.dst)
	case moveLeadership:
		s.setLeader(a.p, a.dst)
	case swapReplicas:
		s.relocate(a.p, a.src, a.dst)
		s.relocate(a.q, a.dst, a.src)
	}
}
