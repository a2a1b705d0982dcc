package planner

import "math"

// The achievable targets of the distribution goals. With RackAwareGoal in
// the plan a rack holds between m and M replicas of a partition of RF rf,
// racks R counted over the brokers that may host:
//
//	M = min(ceil(rf ÷ R), rf)    m = max(0, rf − ceil(rf ÷ R)·(R−1))
//
// (with rf = R both are 1: every rack holds exactly one replica). A rack's
// share of a figure therefore lies in [lo_k, hi_k], the sums over the
// partitions of the least and most that m and M replicas can carry (a
// leader replica carries the partition's leader load, the others its
// follower load; an excluded partition's replicas count where they are).
// The target share of rack k is clamp(λ·W_k, lo_k, hi_k), W_k the rack's
// weight (capacity of the covered brokers, or their count for count
// goals), λ the level at which the shares sum to the total; a broker's
// target is its rack's share × its weight ÷ W_k. When the cluster mean
// (λ = total ÷ ΣW) already fits every rack, as with the same brokers per
// rack or RF below the rack count, the targets are the cluster mean's.

// rackCount is the number of rack indices, hosting or not.
func (s *state) rackCount() int {
	n := int32(0)
	for _, k := range s.rack {
		n = max(n, k+1)
	}
	return int(n)
}

// partitionRange is the least and most of a partition's figure one rack
// can hold, lead and follow its leader and follower replica's part.
func (s *state) partitionRange(rf int, lead, follow float64) (lo, hi float64) {
	r := max(s.racks, 1)
	a := (rf + r - 1) / r
	most, least := min(a, rf), max(0, rf-a*(r-1))
	return replicasFigure(least, rf, lead, follow, false), replicasFigure(most, rf, lead, follow, true)
}

// replicasFigure is what n of a partition's rf replicas carry, the most
// (or least) of a leader among them or not when both are possible.
func replicasFigure(n, rf int, lead, follow float64, most bool) float64 {
	withLeader := lead + float64(n-1)*follow
	switch {
	case n == 0:
		return 0
	case n == rf:
		return withLeader
	}
	if most {
		return max(withLeader, float64(n)*follow)
	}
	return min(withLeader, float64(n)*follow)
}

// rackBounds is [lo_k, hi_k] per rack index for the partitions [from, to)
// of figure pw.
func (s *state) rackBounds(pw func(p int32) (lead, follow float64), from, to int32) (lo, hi []float64) {
	n := s.rackCount()
	lo, hi = make([]float64, n), make([]float64, n)
	var free [2]float64
	for p := from; p < to; p++ {
		lead, follow := pw(p)
		if s.parts[p].leader < 0 {
			lead = follow
		}
		if s.parts[p].excluded {
			s.pinned(p, lead, follow, lo, hi)
			continue
		}
		l, h := s.partitionRange(int(s.parts[p].rf), lead, follow)
		free[0], free[1] = free[0]+l, free[1]+h
	}
	for k := range n {
		if s.hostRack[k] {
			lo[k], hi[k] = lo[k]+free[0], hi[k]+free[1]
		}
	}
	return lo, hi
}

// pinned adds an excluded partition's replicas to their racks' bounds; a
// replica on a broker that may not host will move anywhere.
func (s *state) pinned(p int32, lead, follow float64, lo, hi []float64) {
	for _, b := range s.replicas(p) {
		if !s.canHost[b] {
			for k := range hi {
				hi[k] += max(lead, follow)
			}
			continue
		}
		w := follow
		if s.parts[p].leader == b {
			w = lead
		}
		lo[s.rack[b]] += w
		hi[s.rack[b]] += w
	}
}

// rackShares is each rack's share of total: clamp(λ·w_k, lo_k, hi_k) with
// the shares summing to total. Nil when the mean level total ÷ Σw fits
// every rack, or when a rack that must hold something has no weight to
// hold it with.
func (s *state) rackShares(total float64, w, lo, hi []float64) []float64 {
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum <= 0 {
		return nil
	}
	mean := total / sum
	fits := true
	for k := range w {
		switch {
		case !s.hostRack[k]:
		case w[k] == 0 && lo[k] > tolerance(0):
			return nil
		case outside(mean*w[k], lo[k], hi[k]) > tolerance(mean*w[k]):
			fits = false
		}
	}
	if fits {
		return nil
	}
	level := s.level(total, w, lo, hi)
	shares := make([]float64, len(w))
	for k := range w {
		if s.hostRack[k] && w[k] > 0 {
			shares[k] = min(max(level*w[k], lo[k]), hi[k])
		}
	}
	return shares
}

// level finds λ with Σ_k clamp(λ·w_k, lo_k, hi_k) = total by bisection;
// the sum grows with λ.
func (s *state) level(total float64, w, lo, hi []float64) float64 {
	var a, b float64
	for k := range w {
		if s.hostRack[k] && w[k] > 0 {
			b = max(b, hi[k]/w[k])
		}
	}
	for range 100 {
		mid := (a + b) / 2
		var got float64
		for k := range w {
			if s.hostRack[k] && w[k] > 0 {
				got += min(max(mid*w[k], lo[k]), hi[k])
			}
		}
		if got < total {
			a = mid
		} else {
			b = mid
		}
	}
	return (a + b) / 2
}

// rackTargets is each covered broker's target of figure m when
// RackAwareGoal holds the racks' shares apart from the cluster mean: its
// rack's share × weight(b) ÷ the rack's weight, total the figure's sum
// over the covered brokers. Nil when the mean fits every rack (the
// caller's mean × weight is the target), or when a broker that may host
// is left out of the rule while racks must hold a minimum (it might hold
// its rack's).
func (s *state) rackTargets(m metric, covers func(s *state, b int) bool, total float64, weight func(b int) float64) []float64 {
	if !s.rackAware || s.racks < 2 || math.IsNaN(total) {
		return nil
	}
	w := make([]float64, s.rackCount())
	uncovered := false
	for b := range s.nb {
		if covers(s, b) {
			w[s.rack[b]] += weight(b)
		} else if s.canHost[b] {
			uncovered = true
		}
	}
	lo, hi := s.rackBounds(m.weights(s), 0, int32(len(s.parts)))
	if uncovered && anyPositive(lo) {
		return nil
	}
	shares := s.rackShares(total, w, lo, hi)
	if shares == nil {
		return nil
	}
	out := make([]float64, s.nb)
	for b := range s.nb {
		if k := s.rack[b]; covers(s, b) && w[k] > 0 {
			out[b] = shares[k] * weight(b) / w[k]
		}
	}
	return out
}

func anyPositive(xs []float64) bool {
	for _, x := range xs {
		if x > tolerance(0) {
			return true
		}
	}
	return false
}
