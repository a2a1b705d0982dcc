package anomaly

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// brokerFailures is the BROKER_FAILURE detector. A broker has failed when
// it holds a replica in the metadata's assignment but the metadata does
// not list it alive (Kafka fences a broker whose heartbeats stop; the
// load model calls it Dead). since remembers when each was first seen
// dead, and forgets brokers that are alive again or hold no replica.
//
// The anomaly is alerted BrokerFailureAlert after the earliest failure,
// healed BrokerFailureHeal after it, by a plan that moves every replica of
// the failed brokers to live ones (the planner's rule for Dead brokers)
// under the healing goals. Beyond FixableBrokerCount failed brokers, or a
// share of the brokers above FixableBrokerRatio, it is not healed: that
// many failures at once is an outage to look at, not a broker to replace.
func brokerFailures(o *Observation, since map[int32]time.Time, cfg *Config) *finding {
	dead := deadBrokers(o)
	for id := range since {
		if !dead[id] {
			delete(since, id)
		}
	}
	if len(dead) == 0 {
		return nil
	}
	for id := range dead {
		if _, ok := since[id]; !ok {
			since[id] = o.Time
		}
	}
	ids := slices.Sorted(maps.Keys(dead))
	first := o.Time
	for _, t := range since {
		if t.Before(first) {
			first = t
		}
	}
	f := &finding{typ: BrokerFailure, key: brokerList(ids), failed: maps.Clone(since), brokers: ids,
		description: fmt.Sprintf("broker(s) %s hold replicas but are not alive (first seen %s)", brokerList(ids), first.UTC().Format(time.RFC3339)),
		alertAt:     first.Add(cfg.BrokerFailureAlert), dueAt: first.Add(cfg.BrokerFailureHeal),
		fix: &Fix{Type: BrokerFailure, Goals: cfg.HealingGoals}}
	total := len(o.Alive) + len(dead)
	if len(dead) > cfg.FixableBrokerCount || float64(len(dead)) > cfg.FixableBrokerRatio*float64(total) {
		f.fix, f.noFix = nil, fmt.Sprintf("%d of %d brokers failed: beyond fixable.failed.broker.count.threshold (%d) or fixable.failed.broker.percentage.threshold (%g)",
			len(dead), total, cfg.FixableBrokerCount, cfg.FixableBrokerRatio)
	}
	return f
}

// deadBrokers are the brokers in some replica set that are not alive.
func deadBrokers(o *Observation) map[int32]bool {
	dead := map[int32]bool{}
	for _, p := range o.Partitions {
		for _, r := range p.Replicas {
			if !o.Alive[r] {
				dead[r] = true
			}
		}
	}
	return dead
}
