package planner

import "sort"

// swapping reports whether swaps can change the goal's figure: they keep
// replica counts, so only load figures gain from them.
func (g *brokerGoal) swapping() bool {
	return g.useReplicas && (g.m.kind == metricLoad || g.m.kind == metricPnwOut)
}

// swapTransfer exchanges a replica of src for a smaller one of dst when
// single moves cannot help (dst full by another goal's count, say): for
// each of src's candidates, largest first, the replicas of dst whose
// amount leaves the net change closest above the gap, a few of them,
// since other goals (disk, say) may refuse the first.
func (g *brokerGoal) swapTransfer(s *state, src, dst int32, shedding bool) bool {
	from, to := g.candidates(s, src), g.candidates(s, dst)
	moved, fails := false, 0
	for i := 0; i < len(from) && fails < maxFails; i++ {
		want, limit := g.gap(s, src, dst, shedding)
		if want <= 0 {
			break
		}
		p := &from[i]
		if p.gone || p.amount <= 0 || !s.hosts(p.p, src) {
			continue
		}
		ok, n := g.swapOne(s, p, to, src, dst, p.amount-want, limit)
		moved, fails = moved || ok, fails+n
	}
	return moved
}

// swapPartners is how many partners swapOne tries for one replica.
const swapPartners = 6

// swapOne tries p against dst's replicas in partner order: amounts at
// most atMost largest first, else the smallest upwards, keeping the net
// change in (0, limit]. It reports success and the refusals.
func (g *brokerGoal) swapOne(s *state, p *cand, to []cand, src, dst int32, atMost, limit float64) (bool, int) {
	fails := 0
	for _, j := range g.partners(s, to, dst, atMost) {
		net := p.amount - to[j].amount
		if net <= 0 || net > limit {
			continue
		}
		if s.try(action{kind: swapReplicas, p: p.p, q: to[j].p, src: src, dst: dst}, g) {
			p.gone, to[j].gone = true, true
			return true, fails
		}
		fails++
	}
	return false, fails
}

// partners lists up to swapPartners open replicas still on dst from to
// (amount descending): the largest with amount at most atMost, or, when
// none is, the smallest upwards.
func (g *brokerGoal) partners(s *state, to []cand, dst int32, atMost float64) []int {
	open := func(k int) bool { return !to[k].gone && s.hosts(to[k].p, dst) }
	var out []int
	if atMost > 0 {
		for j := sort.Search(len(to), func(k int) bool { return to[k].amount <= atMost }); j < len(to) && len(out) < swapPartners; j++ {
			if open(j) {
				out = append(out, j)
			}
		}
	}
	for j := len(to) - 1; j >= 0 && len(out) == 0; j-- {
		for ; j >= 0 && len(out) < swapPartners; j-- {
			if open(j) {
				out = append(out, j)
			}
		}
	}
	return out
}

// gap is how much must leave src (shedding) or reach dst (filling), and
// the most that may move without pushing either past its target's far end.
func (g *brokerGoal) gap(s *state, src, dst int32, shedding bool) (want, limit float64) {
	want = g.tlo[dst] - g.value(s, dst)
	if shedding {
		want = g.value(s, src) - g.thi[src]
	}
	return want, min(g.value(s, src)-g.tlo[src], g.ceil[dst]-g.value(s, dst))
}
