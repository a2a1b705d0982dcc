package replication

import (
	"slices"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/replica"
)

// A replica reads time from the broker's clock: a follower that stops
// fetching leaves the ISR once replica.lag.time.max.ms has passed on that
// clock, whatever the wall clock says, and the controller's answer is
// applied at the clock's time.
func TestReplicaISRLagIsOnTheBrokersClock(t *testing.T) {
	now := time.Unix(1000, 0)
	p := testReplica(t)
	p.r.now = func() time.Time { return now }
	m := testManager(t)
	m.Apply(p, replica.Assignment{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}, now)
	p.r.FollowerFetched(2, 0, now)
	live := func(int32) bool { return true }

	now = now.Add(10 * time.Second)
	if ch, ok := p.r.NextISRChange(10*time.Second, live); ok {
		t.Fatalf("ISR change %+v at the lag limit", ch)
	}
	now = now.Add(time.Millisecond)
	ch, ok := p.r.NextISRChange(10*time.Second, live)
	if !ok || !slices.Equal(ch.ISR, []int32{1}) {
		t.Fatalf("past the lag limit: change %+v (%v), want ISR [1]", ch, ok)
	}
	p.r.ISRChangeDone(ch.ISR, ch.LeaderEpoch, ch.PartitionEpoch+1)
	if p.r.InISR(2) {
		t.Fatal("follower 2 still in the ISR after the controller's answer")
	}
}
