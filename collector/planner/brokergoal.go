package planner

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/weirhq/weir/collector/model"
)

// brokerGoal is a goal that bounds one figure per broker: the capacity,
// count and distribution goals. Satisfied when every covered broker's
// figure lies within [lo, hi]; optimization aims for the tighter target
// band [tlo, thi] and judges later actions against it, so a broker that
// reached the target stays there.
type brokerGoal struct {
	m           metric
	covers      func(s *state, b int) bool // the brokers the rule applies to
	limits      func(g *brokerGoal, s *state)
	useLeaders  bool // leadership moves can change the figure
	useReplicas bool

	lo, center, hi []float64 // the rule; center orders brokers and bounds fills
	tlo, thi       []float64 // the optimization target
	fillTo         []float64 // if set, a first pass fills receivers only this far
	ceil           []float64 // how far transfers fill a receiver now: fillTo or thi
	cands          [][]cand  // per broker, built once per optimization
	gen            int32
}

// cand is a replica that could leave its broker.
type cand struct {
	p      int32
	amount float64 // how much moving it lowers the broker's figure
	size   float64
	tried  int32 // gen of the last transfer that tried it
	gone   bool  // moved away, or no longer there
}

const (
	maxRounds        = 4  // passes over the over- and under-loaded brokers
	maxFails         = 48 // rejected candidates before a transfer gives up
	balanceMargin    = 0.5
	capacityHeadroom = 0.9 // capacity goals' center: where receivers are ranked from
)

func (g *brokerGoal) init(s *state) {
	g.lo, g.center, g.hi = make([]float64, s.nb), make([]float64, s.nb), make([]float64, s.nb)
	g.tlo, g.thi = nil, nil
	g.limits(g, s)
	if g.tlo == nil {
		g.tlo, g.thi = slices.Clone(g.lo), slices.Clone(g.hi)
	}
	g.ceil = g.thi
}

func (g *brokerGoal) value(s *state, b int32) float64 { return g.m.value(&s.load[b]) }

func (g *brokerGoal) violations(s *state) (bad, total int) {
	for b := range s.nb {
		if !g.covers(s, b) {
			continue
		}
		total++
		if v := g.value(s, int32(b)); outside(v, g.lo[b], g.hi[b]) > tolerance(v) {
			bad++
		}
	}
	return bad, total
}

func (g *brokerGoal) accept(s *state, a *action, d *[2]delta) bool {
	for i := range d {
		b := d[i].b
		if !g.covers(s, int(b)) {
			continue
		}
		v := g.value(s, b)
		after := v + g.m.change(&d[i])
		if outside(after, g.tlo[b], g.thi[b]) > outside(v, g.tlo[b], g.thi[b])+tolerance(v) {
			return false
		}
	}
	return true
}

func (g *brokerGoal) optimize(s *state) {
	for range maxRounds {
		g.cands = make([][]cand, s.nb)
		changed := false
		for _, b := range g.over(s) {
			changed = g.shed(s, b) || changed
		}
		for _, b := range g.under(s) {
			changed = g.fill(s, b) || changed
		}
		if !changed {
			break
		}
	}
	g.cands = nil
}

// scale normalizes a broker's figure for ranking.
func (g *brokerGoal) scale(b int32) float64 {
	if c := g.center[b]; c > 0 {
		return c
	}
	return 1
}

func (g *brokerGoal) util(s *state, b int32) float64 { return g.value(s, b) / g.scale(b) }

// brokersBy lists the covered brokers keep accepts, ordered by key, ties
// by broker index.
func (g *brokerGoal) brokersBy(s *state, keep func(b int32) bool, key func(b int32) float64) []int32 {
	var out []int32
	for b := range int32(s.nb) {
		if g.covers(s, int(b)) && keep(b) {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(x, y int32) int { return cmp.Compare(key(x), key(y)) })
	return out
}

// over lists the brokers above the target, most over first.
func (g *brokerGoal) over(s *state) []int32 {
	return g.brokersBy(s, func(b int32) bool { return g.value(s, b) > g.thi[b]+tolerance(g.thi[b]) },
		func(b int32) float64 { return -(g.value(s, b) - g.thi[b]) / g.scale(b) })
}

// under lists the brokers below the target, most under first.
func (g *brokerGoal) under(s *state) []int32 {
	return g.brokersBy(s, func(b int32) bool { return g.value(s, b) < g.tlo[b]-tolerance(g.tlo[b]) },
		func(b int32) float64 { return -(g.tlo[b] - g.value(s, b)) / g.scale(b) })
}

// shed lowers b to its target: leadership first, then replica moves to
// the least loaded receivers (filled at first only to fillTo, if set, so
// a hot spot spreads rather than moves), then swaps.
func (g *brokerGoal) shed(s *state, b int32) bool {
	moved := g.useLeaders && g.shedLeadership(s, b)
	if !g.useReplicas {
		return moved
	}
	if g.fillTo != nil {
		g.ceil = g.fillTo
		moved = g.shedReplicas(s, b) || moved
		g.ceil = g.thi
	}
	return g.shedReplicas(s, b) || moved
}

func (g *brokerGoal) shedReplicas(s *state, b int32) bool {
	moved := false
	receivers := g.brokersBy(s, func(d int32) bool { return d != b && s.dest[d] && g.value(s, d) < g.ceil[d] },
		func(d int32) float64 { return g.util(s, d) })
	for _, d := range receivers {
		if g.value(s, b) <= g.thi[b] {
			break
		}
		moved = g.transfer(s, b, d, true) || moved
	}
	for _, d := range receivers {
		if !g.swapping() || g.value(s, b) <= g.thi[b] {
			break
		}
		moved = g.swapTransfer(s, b, d, true) || moved
	}
	return moved
}

func (g *brokerGoal) fill(s *state, b int32) bool {
	moved := g.useLeaders && g.fillLeadership(s, b)
	if !g.useReplicas || !s.dest[b] {
		return moved
	}
	givers := g.brokersBy(s, func(d int32) bool { return d != b && g.value(s, d) > g.center[d] },
		func(d int32) float64 { return -g.util(s, d) })
	for _, src := range givers {
		if g.value(s, b) >= g.tlo[b] {
			break
		}
		moved = g.transfer(s, src, b, false) || moved
	}
	for _, src := range givers {
		if !g.swapping() || g.value(s, b) >= g.tlo[b] {
			break
		}
		moved = g.swapTransfer(s, src, b, false) || moved
	}
	return moved
}

// transfer moves replicas from src to dst, the best fit first: the
// smallest replica that closes the gap (src down to its target when
// shedding, dst up to its target when filling) without pushing either
// broker past its far limit, else the largest that narrows it.
func (g *brokerGoal) transfer(s *state, src, dst int32, shedding bool) bool {
	cs := g.candidates(s, src)
	g.gen++
	moved := false
	for fails := 0; fails < maxFails; {
		want, limit := g.gap(s, src, dst, shedding)
		i := g.pick(cs, want, limit)
		if i < 0 || want <= 0 {
			break
		}
		c := &cs[i]
		c.tried = g.gen
		switch {
		case !s.hosts(c.p, src):
			c.gone = true
		case s.try(action{kind: relocateReplica, p: c.p, src: src, dst: dst}, g):
			c.gone, moved = true, true
		default:
			fails++
		}
	}
	return moved
}

// pick chooses among cs (amount descending, size ascending among equal
// amounts) the untried candidate that best fits: amounts in [want, limit]
// smallest first, then amounts below want largest first; the smallest
// replica among equal amounts. -1 when none is left.
func (g *brokerGoal) pick(cs []cand, want, limit float64) int {
	k := sort.Search(len(cs), func(i int) bool { return cs[i].amount < want })
	j := sort.Search(len(cs), func(i int) bool { return cs[i].amount <= limit })
	for i := k - 1; i >= j; {
		run := sort.Search(i-j+1, func(n int) bool { return cs[j+n].amount <= cs[i].amount }) + j
		if c := g.firstOpen(cs, run, i+1); c >= 0 {
			return c
		}
		i = run - 1
	}
	return g.firstOpen(cs, max(j, k), len(cs))
}

// firstOpen is the first open candidate in cs[from:to] that moves
// anything, or -1.
func (g *brokerGoal) firstOpen(cs []cand, from, to int) int {
	for i := from; i < to && cs[i].amount > tolerance(0); i++ {
		if g.open(&cs[i]) {
			return i
		}
	}
	return -1
}

func (g *brokerGoal) open(c *cand) bool { return !c.gone && c.tried != g.gen }

// candidates lists src's movable replicas once per round, largest amount
// first, smaller replicas first among equals. Replicas that arrive later
// wait for the next round.
func (g *brokerGoal) candidates(s *state, src int32) []cand {
	if g.cands[src] != nil {
		return g.cands[src]
	}
	cs := make([]cand, 0, len(s.hosted[src]))
	for _, p := range s.hosted[src] {
		if s.parts[p].excluded || !s.hosts(p, src) {
			continue
		}
		if a := g.m.replicaAmount(s, p, src); a > 0 {
			cs = append(cs, cand{p: p, amount: a, size: s.parts[p].follow[model.Disk]})
		}
	}
	slices.SortFunc(cs, func(x, y cand) int {
		return cmp.Or(cmp.Compare(y.amount, x.amount), cmp.Compare(x.size, y.size), cmp.Compare(x.p, y.p))
	})
	cs = slices.CompactFunc(cs, func(x, y cand) bool { return x.p == y.p })
	g.cands[src] = cs
	return cs
}

var inf = math.Inf(1)

func (g *brokerGoal) unit() string { return "brokers" }
