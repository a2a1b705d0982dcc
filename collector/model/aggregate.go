package model

import "math"

// BrokerLoad is what one broker carries in a model.
type BrokerLoad struct {
	Load     Load // the sum of its replicas' loads
	Replicas int
	Leaders  int
	// LeaderBytesIn and FollowerBytesIn split Load[NetworkIn] by role;
	// PotentialNetworkOut is the outbound network the broker would carry
	// if it led every partition it holds (Cruise Control's PNW_OUT).
	LeaderBytesIn       float64
	FollowerBytesIn     float64
	PotentialNetworkOut float64
}

// Utilization is load ÷ capacity for one resource; 0 without capacity.
func Utilization(load, capacity float64) float64 {
	if capacity <= 0 {
		return 0
	}
	return load / capacity
}

// BrokerLoads sums each broker's replicas, indexed like c.Brokers.
func (c *Cluster) BrokerLoads() []BrokerLoad {
	out := make([]BrokerLoad, len(c.Brokers))
	index := c.brokerIndex()
	for i := range c.Partitions {
		p := &c.Partitions[i]
		for _, r := range p.Replicas {
			bi, ok := index[r]
			if !ok {
				continue
			}
			bl := &out[bi]
			leader := r == p.Leader
			bl.Load = bl.Load.Add(p.ReplicaLoad(leader))
			bl.Replicas++
			bl.PotentialNetworkOut += p.ReplicaLoad(true)[NetworkOut]
			if leader {
				bl.Leaders++
				bl.LeaderBytesIn += p.Load.BytesIn
			} else {
				bl.FollowerBytesIn += p.Load.BytesIn
			}
		}
	}
	return out
}

func (c *Cluster) brokerIndex() map[int32]int {
	m := make(map[int32]int, len(c.Brokers))
	for i, b := range c.Brokers {
		m[b.ID] = i
	}
	return m
}

// Spread summarizes one figure over the brokers that can host replicas.
type Spread struct {
	Avg, Max, Min, Std float64
}

// Stats are Cruise Control's ClusterModelStats: per resource the spread of
// utilization (load ÷ capacity, 0–1), and the spread of replica, leader
// and potential outbound network counts, over the brokers that can host.
type Stats struct {
	Brokers             int
	Replicas            int
	Topics              int
	Partitions          int
	Utilization         [NumResources]Spread
	Load                [NumResources]Spread // absolute, base units
	ReplicaCount        Spread
	LeaderCount         Spread
	PotentialNetworkOut Spread
}

// ComputeStats summarizes a model.
func ComputeStats(c *Cluster) Stats {
	loads := c.BrokerLoads()
	st := Stats{Partitions: len(c.Partitions)}
	var util, abs [NumResources][]float64
	var replicas, leaders, pnw []float64
	for i, b := range c.Brokers {
		st.Replicas += loads[i].Replicas
		if !b.State.CanHost() {
			continue
		}
		st.Brokers++
		for _, r := range Resources {
			util[r] = append(util[r], Utilization(loads[i].Load[r], b.Capacity[r]))
			abs[r] = append(abs[r], loads[i].Load[r])
		}
		replicas = append(replicas, float64(loads[i].Replicas))
		leaders = append(leaders, float64(loads[i].Leaders))
		pnw = append(pnw, loads[i].PotentialNetworkOut)
	}
	for _, r := range Resources {
		st.Utilization[r] = spread(util[r])
		st.Load[r] = spread(abs[r])
	}
	st.ReplicaCount, st.LeaderCount, st.PotentialNetworkOut = spread(replicas), spread(leaders), spread(pnw)
	topics := map[string]struct{}{}
	for i := range c.Partitions {
		topics[c.Partitions[i].Topic] = struct{}{}
	}
	st.Topics = len(topics)
	return st
}

func spread(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	s := Spread{Max: math.Inf(-1), Min: math.Inf(1)}
	var sum float64
	for _, x := range v {
		sum += x
		s.Max, s.Min = max(s.Max, x), min(s.Min, x)
	}
	s.Avg = sum / float64(len(v))
	var sq float64
	for _, x := range v {
		sq += (x - s.Avg) * (x - s.Avg)
	}
	s.Std = math.Sqrt(sq / float64(len(v)))
	return s
}
