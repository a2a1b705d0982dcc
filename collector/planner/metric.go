package planner

import "github.com/weirhq/weir/collector/model"

type metricKind uint8

const (
	metricLoad     metricKind = iota // load of one resource
	metricReplicas                   // replica count
	metricLeaders                    // leader count
	metricPnwOut                     // potential outbound network
	metricLeaderIn                   // inbound bytes of led partitions
)

// metric is the per-broker figure a broker goal bounds.
type metric struct {
	kind metricKind
	r    model.Resource
}

func (m metric) value(bl *brokerLoad) float64 {
	switch m.kind {
	case metricLoad:
		return bl.load[m.r]
	case metricReplicas:
		return float64(bl.replicas)
	case metricLeaders:
		return float64(bl.leaders)
	case metricPnwOut:
		return bl.pnwOut
	}
	return bl.leaderIn
}

func (m metric) change(d *delta) float64 {
	switch m.kind {
	case metricLoad:
		return d.load[m.r]
	case metricReplicas:
		return float64(d.replicas)
	case metricLeaders:
		return float64(d.leaders)
	case metricPnwOut:
		return d.pnwOut
	}
	return d.leaderIn
}

// weights gives, per partition, what its leader and each follower
// replica add to the figure.
func (m metric) weights(s *state) func(p int32) (lead, follow float64) {
	return func(p int32) (float64, float64) {
		pp := &s.parts[p]
		switch m.kind {
		case metricLoad:
			return pp.lead[m.r], pp.follow[m.r]
		case metricReplicas:
			return 1, 1
		case metricLeaders:
			return 1, 0
		case metricPnwOut:
			return pp.lead[model.NetworkOut], pp.lead[model.NetworkOut]
		}
		return pp.lead[model.NetworkIn], 0
	}
}

// replicaAmount is how much moving p's replica off b lowers b's figure.
func (m metric) replicaAmount(s *state, p, b int32) float64 {
	d := [2]delta{}
	s.relocationDelta(&d, p, b)
	return m.change(&d[1])
}

// leadAmount is how much moving p's leadership lowers its leader's figure.
func (m metric) leadAmount(s *state, p int32) float64 {
	d := [2]delta{}
	s.leadershipDelta(&d, p)
	return m.change(&d[1])
}

// outside is how far v lies outside [lo, hi]; 0 within.
func outside(v, lo, hi float64) float64 {
	switch {
	case v > hi:
		return v - hi
	case v < lo:
		return lo - v
	}
	return 0
}

// tolerance absorbs float rounding in sums kept incrementally.
func tolerance(v float64) float64 { return 1e-9 * (1 + max(v, -v)) }
