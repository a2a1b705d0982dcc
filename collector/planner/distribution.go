package planner

import (
	"math"

	"github.com/weirhq/weir/collector/model"
)

// newUsageDistributionGoal keeps each hosting broker's load of r within
// [c·max(0, 2−t), c·t] of its target c, t the resource's balance
// threshold; c is the mean utilization (the cluster's total load over the
// hosting brokers' total capacity) × the broker's capacity, or the share
// rack awareness lets its rack reach (rack_share.go). Below the low
// utilization threshold the goal holds trivially. A broker without a
// known capacity (0) is left out, its load too. Optimization aims for
// half the band (c·(1 ± (t−1)/2)); shedding fills receivers to c first,
// and only then to the band's upper half, so an empty broker is not
// filled to the top of its band (where the later goals could neither add
// to it nor swap onto it).
func newUsageDistributionGoal(cfg *Config, r model.Resource) goal {
	t, low := cfg.BalanceThreshold[r], cfg.LowUtilizationThreshold[r]
	return &brokerGoal{
		m:           metric{kind: metricLoad, r: r},
		covers:      hostingWith(r),
		useLeaders:  r == model.CPU || r == model.NetworkOut,
		useReplicas: true,
		limits: func(g *brokerGoal, s *state) {
			mean := meanUtilization(s, r)
			g.tlo, g.thi = make([]float64, s.nb), make([]float64, s.nb)
			capacity := func(b int) float64 { return s.c.Brokers[b].Capacity[r] }
			targets := s.rackTargets(g.m, g.covers, mean*coveredSum(g, s, capacity), capacity)
			for b := range s.nb {
				c := mean * capacity(b)
				if targets != nil && g.covers(s, b) {
					c = targets[b]
				}
				g.center[b] = c
				g.lo[b], g.hi[b] = c*max(0, 2-t), c*t
				g.tlo[b], g.thi[b] = c*(1-(t-1)*balanceMargin), c*(1+(t-1)*balanceMargin)
				if mean < low {
					g.lo[b], g.hi[b], g.tlo[b], g.thi[b] = math.Inf(-1), inf, math.Inf(-1), inf
				}
			}
			g.fillTo = g.center
		},
	}
}

// meanUtilization is the load of r over the capacity of the hosting
// brokers that have one; load on brokers that may not host counts, since
// it is leaving for them.
func meanUtilization(s *state, r model.Resource) float64 {
	var load, capacity float64
	for b := range s.nb {
		known := s.c.Brokers[b].Capacity[r] > 0
		if known || !s.canHost[b] {
			load += s.load[b].load[r]
		}
		if known && s.canHost[b] {
			capacity += s.c.Brokers[b].Capacity[r]
		}
	}
	return model.Utilization(load, capacity)
}

// countBand sets a count goal's limits: [floor(c·max(0, 2−t)),
// ceil(c·t)] around each broker's target c, the mean (the total over the
// covered brokers) or the share rack awareness lets its rack reach split
// over the rack's covered brokers.
func countBand(g *brokerGoal, s *state, t float64) {
	var total float64
	n := 0
	for b := range s.nb {
		total += g.value(s, int32(b))
		if g.covers(s, b) {
			n++
		}
	}
	mean := total / float64(max(n, 1))
	targets := s.rackTargets(g.m, g.covers, total, func(int) float64 { return 1 })
	for b := range s.nb {
		c := mean
		if targets != nil && g.covers(s, b) {
			c = targets[b]
		}
		g.center[b] = c
		g.lo[b], g.hi[b] = math.Floor(c*max(0, 2-t)), math.Ceil(c*t)
	}
}

// coveredSum is Σ weight(b) over the brokers g covers.
func coveredSum(g *brokerGoal, s *state, weight func(b int) float64) float64 {
	var sum float64
	for b := range s.nb {
		if g.covers(s, b) {
			sum += weight(b)
		}
	}
	return sum
}
