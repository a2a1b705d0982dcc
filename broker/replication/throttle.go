package replication

import (
	"strconv"
	"time"

	"github.com/weirhq/weir/broker/replica"
)

// Replication throttles (leader.replication.throttled.rate and
// follower.replication.throttled.rate, dynamic per-broker configs, applied
// to the replicas listed in each topic's *.replication.throttled.replicas).
// See broker/replica/quota.go for the semantics.

// throttles are this broker's two replication quotas.
type throttles struct {
	leader, follower *replica.Quota
}

func newThrottles() *throttles {
	return &throttles{leader: replica.NewQuota(0), follower: replica.NewQuota(0)}
}

// apply reads the rates from the dynamic broker configs (unset: unlimited).
func (th *throttles) apply(configs map[string]string) {
	th.leader.SetRate(rateOf(configs["leader.replication.throttled.rate"]))
	th.follower.SetRate(rateOf(configs["follower.replication.throttled.rate"]))
}

func rateOf(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// ThrottledReplicas are a topic's leader/follower.replication.throttled.replicas.
type ThrottledReplicas struct {
	Leader, Follower replica.ThrottledReplicas
}

// ParseThrottled reads a topic's throttled-replica lists; a bad value
// (validated on the way in, so only from an older store) throttles nothing.
func ParseThrottled(configs map[string]string) *ThrottledReplicas {
	var tr ThrottledReplicas
	tr.Leader, _ = replica.ParseThrottledReplicas(configs["leader.replication.throttled.replicas"])
	tr.Follower, _ = replica.ParseThrottledReplicas(configs["follower.replication.throttled.replicas"])
	return &tr
}

// ApplyConfigs takes the throttle rates from the dynamic configs in force
// on this broker (unset: unlimited).
func (m *Manager) ApplyConfigs(dynamic map[string]string) { m.throttles.apply(dynamic) }

// As in Kafka, the lists name partition:broker pairs of this broker's own
// replicas (the leader side lists the replicas that serve, the follower
// side those that fetch: kafka-reassign-partitions puts the existing
// replicas in the first and the moving ones in the second), and only
// replicas outside the ISR are ever throttled: normal replication of an
// in-sync follower is never slowed.

// leaderThrottles reports whether the leader counts and limits what it
// sends to follower for p.
func (m *Manager) leaderThrottles(p Partition, follower int32) bool {
	tr, r := p.Throttled(), p.Replica()
	return tr != nil && tr.Leader.Has(r.index, m.self) && !r.InISR(follower)
}

// LeaderHolds reports whether the leader must send no data for p to
// follower now, the leader quota being spent on throttled replicas.
func (m *Manager) LeaderHolds(p Partition, follower int32, now time.Time) bool {
	return m.leaderThrottles(p, follower) && m.throttles.leader.Exceeded(now)
}

// LeaderSent counts bytes sent to a follower against the leader quota.
func (m *Manager) LeaderSent(p Partition, follower int32, n int, now time.Time) {
	if m.leaderThrottles(p, follower) {
		m.throttles.leader.Record(int64(n), now)
	}
}

// followerThrottled reports whether this broker's replica of p is a
// follower-throttled one still outside the ISR.
func (m *Manager) followerThrottled(p Partition) bool {
	tr, r := p.Throttled(), p.Replica()
	return tr != nil && tr.Follower.Has(r.index, m.self) && !r.InISR(m.self)
}
