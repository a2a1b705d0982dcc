package planner

import "sort"

// swapping reports whether swaps can change the goal's figure: they keep
// replica counts, so only load figures gain from them.
func (g *brokerGoal) swapping() bool {
	return g.useReplicas && (g.m.kind == metricLoad || g.m.kind == metricPnwOut)
}

// swapTransfer exchanges a replica of src for a smaller one of dst when
// single moves cannot help (dst full by another goal's count, say): for
// each of src's candidates, largest first, the replica of dst whose
// amount leaves the net change closest above the gap.
func (g *brokerGoal) swapTransfer(s *state, src, dst int32, shedding bool) bool {
	from, to := g.candidates(s, src), g.candidates(s, dst)
	g.gen++
	moved, fails := false, 0
	for i := 0; i < len(from) && fails < maxFails; i++ {
		want, limit := g.gap(s, src, dst, shedding)
		if want <= 0 {
			break
		}
		p := &from[i]
		if p.gone || !s.hosts(p.p, src) {
			continue
		}
		j := g.partner(s, to, dst, p.amount-want)
		if j < 0 || p.amount-to[j].amount <= 0 || p.amount-to[j].amount > limit {
			continue
		}
		if s.try(action{kind: swapReplicas, p: p.p, q: to[j].p, src: src, dst: dst}, g) {
			p.gone, to[j].gone, moved = true, true, true
		} else {
			fails++
		}
	}
	return moved
}

// partner finds in to (amount descending) the open replica still on dst
// with the largest amount at most atMost, or the smallest when none is.
func (g *brokerGoal) partner(s *state, to []cand, dst int32, atMost float64) int {
	open := func(k int) bool { return !to[k].gone && s.hosts(to[k].p, dst) }
	if atMost > 0 {
		for j := sort.Search(len(to), func(k int) bool { return to[k].amount <= atMost }); j < len(to); j++ {
			if open(j) {
				return j
			}
		}
	}
	for j := len(to) - 1; j >= 0; j-- {
		if open(j) {
			return j
		}
	}
	return -1
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
