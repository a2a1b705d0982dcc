package planner

import (
	"cmp"
	"math"
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// topicReplicaGoal is TopicReplicaDistributionGoal (soft): each hosting
// broker holds within [lo, hi] replicas of each topic, where, with mean
// the topic's replicas over the hosting brokers and
// gap = clamp(mean·(t−1), min.gap, max.gap), hi = ceil(mean + gap) and
// lo = max(0, floor(mean − gap)); t = topic.replica.count.balance.threshold,
// min.gap and max.gap topic.replica.count.balance.{min,max}.gap. With
// RackAwareGoal, a topic whose racks cannot each hold the mean's share
// takes mean per rack instead: the rack's achievable share of the topic's
// replicas (rack_share.go) over its hosting brokers.
type topicReplicaGoal struct {
	t              float64
	minGap, maxGap float64
	lo, hi         []float64   // per topic
	byRack         [][]float64 // per topic, nil or lo and hi per rack index: lo_k = [2k], hi_k = [2k+1]
}

func newTopicReplicaDistributionGoal(cfg *Config) goal {
	return &topicReplicaGoal{
		t:      cfg.TopicReplicaCountBalanceThreshold,
		minGap: float64(cfg.TopicReplicaCountBalanceMinGap), maxGap: float64(cfg.TopicReplicaCountBalanceMaxGap),
	}
}

func (g *topicReplicaGoal) init(s *state) {
	hosts := 0
	for b := range s.nb {
		if s.canHost[b] {
			hosts++
		}
	}
	g.lo, g.hi = make([]float64, len(s.topics)), make([]float64, len(s.topics))
	g.byRack = make([][]float64, len(s.topics))
	perRack := g.hostsPerRack(s)
	for t, tp := range s.topics {
		replicas := 0
		for p := tp.start; p < tp.end; p++ {
			replicas += int(s.parts[p].rf)
		}
		mean := float64(replicas) / float64(max(hosts, 1))
		g.lo[t], g.hi[t] = g.band(mean)
		g.byRack[t] = g.rackBands(s, tp, float64(replicas), perRack)
	}
}

// band is [max(0, floor(mean − gap)), ceil(mean + gap)].
func (g *topicReplicaGoal) band(mean float64) (lo, hi float64) {
	gap := min(max(mean*(g.t-1), g.minGap), g.maxGap)
	return max(0, math.Floor(mean-gap)), math.Ceil(mean + gap)
}

// hostsPerRack counts the hosting brokers per rack index.
func (g *topicReplicaGoal) hostsPerRack(s *state) []float64 {
	n := make([]float64, s.rackCount())
	for b := range s.nb {
		if s.canHost[b] {
			n[s.rack[b]]++
		}
	}
	return n
}

// rackBands is the topic's band per rack when rack awareness keeps some
// rack from the mean's share, else nil.
func (g *topicReplicaGoal) rackBands(s *state, tp topic, replicas float64, perRack []float64) []float64 {
	if !s.rackAware || s.racks < 2 {
		return nil
	}
	lo, hi := s.rackBounds(metric{kind: metricReplicas}.weights(s), tp.start, tp.end)
	shares := s.rackShares(replicas, perRack, lo, hi)
	if shares == nil {
		return nil
	}
	out := make([]float64, 2*len(shares))
	for k, share := range shares {
		if perRack[k] > 0 {
			out[2*k], out[2*k+1] = g.band(share / perRack[k])
		}
	}
	return out
}

// limits is the band of topic t on broker b.
func (g *topicReplicaGoal) limits(s *state, t, b int32) (lo, hi float64) {
	if r := g.byRack[t]; r != nil {
		k := s.rack[b]
		return r[2*k], r[2*k+1]
	}
	return g.lo[t], g.hi[t]
}

func (g *topicReplicaGoal) count(s *state, t, b int32) float64 {
	return float64(s.byTopic[int(t)*s.nb+int(b)])
}

func (g *topicReplicaGoal) off(s *state, t, b int32, change float64) float64 {
	lo, hi := g.limits(s, t, b)
	return outside(g.count(s, t, b)+change, lo, hi)
}

func (g *topicReplicaGoal) topicOK(s *state, t int32) bool {
	for b := range int32(s.nb) {
		if s.canHost[b] && g.off(s, t, b, 0) > 0 {
			return false
		}
	}
	return true
}

func (g *topicReplicaGoal) violations(s *state) (bad, total int) {
	for t := range int32(len(s.topics)) {
		if !g.topicOK(s, t) {
			bad++
		}
	}
	return bad, len(s.topics)
}

func (g *topicReplicaGoal) accept(s *state, a *action, _ *[2]delta) bool {
	switch a.kind {
	case relocateReplica:
		return g.acceptMove(s, a.p, a.src, a.dst)
	case swapReplicas:
		tp, tq := s.parts[a.p].topic, s.parts[a.q].topic
		return tp == tq || g.acceptMove(s, a.p, a.src, a.dst) && g.acceptMove(s, a.q, a.dst, a.src)
	}
	return true
}

func (g *topicReplicaGoal) acceptMove(s *state, p, src, dst int32) bool {
	t := s.parts[p].topic
	return g.off(s, t, src, -1) <= g.off(s, t, src, 0) && g.off(s, t, dst, 1) <= g.off(s, t, dst, 0)
}

func (g *topicReplicaGoal) optimize(s *state) {
	for t := range int32(len(s.topics)) {
		if !g.topicOK(s, t) {
			g.balanceTopic(s, t)
		}
	}
}

// balanceTopic moves the topic's smallest replicas off brokers above hi
// onto the brokers holding fewest of it, then onto brokers below lo.
func (g *topicReplicaGoal) balanceTopic(s *state, t int32) {
	for _, b := range g.brokers(s, t) {
		_, hi := g.limits(s, t, b)
		for g.count(s, t, b) > hi && g.moveOne(s, t, b, -1) {
		}
	}
	for _, b := range g.brokers(s, t) {
		lo, _ := g.limits(s, t, b)
		for g.count(s, t, b) < lo && g.moveOne(s, t, -1, b) {
		}
	}
}

// brokers lists the hosting brokers by the topic's count, most first.
func (g *topicReplicaGoal) brokers(s *state, t int32) []int32 {
	var out []int32
	for b := range int32(s.nb) {
		if s.canHost[b] {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(x, y int32) int { return cmp.Compare(g.count(s, t, y), g.count(s, t, x)) })
	return out
}

// moveOne moves one replica of topic t from src (or the fullest broker)
// to dst (or the emptiest broker that may receive), smallest first.
func (g *topicReplicaGoal) moveOne(s *state, t, src, dst int32) bool {
	order := g.brokers(s, t)
	for _, p := range g.bySize(s, t) {
		for _, from := range order {
			if src >= 0 && from != src || !s.hosts(p, from) {
				continue
			}
			for i := len(order) - 1; i >= 0; i-- {
				to := order[i]
				if (dst < 0 || to == dst) && s.dest[to] && s.try(action{kind: relocateReplica, p: p, src: from, dst: to}, g) {
					return true
				}
			}
		}
	}
	return false
}

// bySize lists the topic's partitions, smallest first.
func (g *topicReplicaGoal) bySize(s *state, t int32) []int32 {
	var out []int32
	for p := s.topics[t].start; p < s.topics[t].end; p++ {
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(x, y int32) int { return cmp.Compare(s.parts[x].follow[model.Disk], s.parts[y].follow[3]) })
	return out
}
func (g *topicReplicaGoal) unit() string { return "topics" }
