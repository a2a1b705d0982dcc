package ccclient

import "slices"

// BrokerMoves is what a proposal moves onto and off one broker.
type BrokerMoves struct {
	ReplicasIn, ReplicasOut int
	LeadersIn, LeadersOut   int
	MBIn, MBOut             float64
}

// MovesPerBroker tallies proposals per broker: the replicas each gains and
// loses, the leaderships it gains and loses, and the data. A partition's
// DataToMoveMB is what each of its new replicas copies in, so it is split
// over the replicas it adds; each removed replica counts the same share
// out.
func MovesPerBroker(ps []Proposal) map[int32]*BrokerMoves {
	per := map[int32]*BrokerMoves{}
	get := func(id int32) *BrokerMoves {
		if per[id] == nil {
			per[id] = &BrokerMoves{}
		}
		return per[id]
	}
	for _, p := range ps {
		share := p.DataToMoveMB / float64(max(1, p.added()))
		for _, b := range p.NewReplicas {
			if !slices.Contains(p.OldReplicas, b) {
				get(b).ReplicasIn++
				get(b).MBIn += share
			}
		}
		for _, b := range p.OldReplicas {
			if !slices.Contains(p.NewReplicas, b) {
				get(b).ReplicasOut++
				get(b).MBOut += share
			}
		}
		if len(p.NewReplicas) > 0 && p.NewReplicas[0] != p.OldLeader {
			get(p.NewReplicas[0]).LeadersIn++
			get(p.OldLeader).LeadersOut++
		}
	}
	return per
}

// added counts the replicas p adds.
func (p Proposal) added() int {
	n := 0
	for _, b := range p.NewReplicas {
		if !slices.Contains(p.OldReplicas, b) {
			n++
		}
	}
	return n
}

// Spread is one resource's least, mean and greatest value over the brokers
// that are neither DEAD nor REMOVING (all 0 without any).
func (s *BrokerStats) Spread(get func(BrokerLoad) float64) (lo, mean, hi float64) {
	n := 0
	for _, b := range s.Brokers {
		if b.BrokerState == "DEAD" || b.BrokerState == "REMOVING" {
			continue
		}
		v := get(b)
		if n == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
		mean += v
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return lo, mean, hi
}
