package monitor

import "github.com/weirhq/weir/collector/model"

// Cruise Control's default linear model of a broker's CPU
// (ModelParameters: leader.network.inbound.weight.for.cpu.util 0.6,
// leader.network.outbound.weight.for.cpu.util 0.1,
// follower.network.inbound.weight.for.cpu.util 0.3).
const (
	leaderInWeight   = 0.6
	leaderOutWeight  = 0.1
	followerInWeight = 0.3
)

// leaderWeight is a leader replica's share key: bytes in, and bytes out to
// consumers and to its followers.
func leaderWeight(p *model.Partition) float64 {
	out := p.Load.BytesOut + float64(max(len(p.Replicas)-1, 0))*p.Load.BytesIn
	return leaderInWeight*p.Load.BytesIn + leaderOutWeight*out
}

// followerWeight is a follower replica's share key: the bytes it fetches.
func followerWeight(p *model.Partition) float64 { return followerInWeight * p.Load.BytesIn }

// brokerShares sums, per broker, the weights of its replicas and counts
// them.
type brokerShares struct {
	weight   float64
	replicas int
}

// apportionCPU sets each partition's LeaderCPU and FollowerCPU from the
// measured cores in use of its brokers (brokerCPU; absent brokers measured
// nothing): a broker's CPU is split over its replicas by their weights, or
// equally when all of them are 0 (an idle broker's CPU is overhead).
// FollowerCPU is the mean over the followers' brokers. An offline
// partition's leader share is 0.
func apportionCPU(parts []model.Partition, brokerCPU map[int32]float64) {
	shares := map[int32]*brokerShares{}
	each := func(p *model.Partition, fn func(broker int32, leader bool)) {
		for _, r := range p.Replicas {
			fn(r, r == p.Leader)
		}
	}
	for i := range parts {
		p := &parts[i]
		each(p, func(b int32, leader bool) {
			s := shares[b]
			if s == nil {
				s = &brokerShares{}
				shares[b] = s
			}
			s.weight += weight(p, leader)
			s.replicas++
		})
	}
	for i := range parts {
		p := &parts[i]
		var followerSum float64
		var followers int
		p.Load.LeaderCPU, p.Load.FollowerCPU = 0, 0
		each(p, func(b int32, leader bool) {
			cpu := brokerCPU[b] * share(weight(p, leader), shares[b])
			if leader {
				p.Load.LeaderCPU = cpu
				return
			}
			followerSum += cpu
			followers++
		})
		if followers > 0 {
			p.Load.FollowerCPU = followerSum / float64(followers)
		}
	}
}

func weight(p *model.Partition, leader bool) float64 {
	if leader {
		return leaderWeight(p)
	}
	return followerWeight(p)
}

// share is a replica's fraction of its broker's CPU.
func share(w float64, s *brokerShares) float64 {
	if s.weight > 0 {
		return w / s.weight
	}
	return 1 / float64(s.replicas)
}
