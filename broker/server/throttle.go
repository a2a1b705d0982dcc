package server

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

// As in Kafka, the lists name partition:broker pairs of this broker's own
// replicas (the leader side lists the replicas that serve, the follower
// side those that fetch: kafka-reassign-partitions puts the existing
// replicas in the first and the moving ones in the second), and only
// replicas outside the ISR are ever throttled: normal replication of an
// in-sync follower is never slowed.

// leaderThrottles reports whether the leader counts and limits what it
// sends to follower for p.
func (b *Broker) leaderThrottles(p *partition, follower int32) bool {
	tr := p.topic.Load().throttled.Load()
	return tr != nil && tr.leader.Has(p.index, b.cfg.NodeID) && !p.inISR(follower)
}

// leaderHolds reports whether the leader must send no data for p to
// follower now, the leader quota being spent on throttled replicas.
func (b *Broker) leaderHolds(p *partition, follower int32, now time.Time) bool {
	return b.leaderThrottles(p, follower) && b.throttles.leader.Exceeded(now)
}

// leaderSent counts bytes sent to a follower against the leader quota.
func (b *Broker) leaderSent(p *partition, follower int32, n int, now time.Time) {
	if b.leaderThrottles(p, follower) {
		b.throttles.leader.Record(int64(n), now)
	}
}

// followerThrottled reports whether this broker's replica of p is a
// follower-throttled one still outside the ISR.
func (b *Broker) followerThrottled(p *partition) bool {
	tr := p.topic.Load().throttled.Load()
	return tr != nil && tr.follower.Has(p.index, b.cfg.NodeID) && !p.inISR(b.cfg.NodeID)
}
