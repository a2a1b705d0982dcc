package replication

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/replica"
)

// testManager is a Manager for broker 1 whose fetchers never reach a
// leader; its goroutines are stopped and waited for at cleanup.
func testManager(t *testing.T) *Manager {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	m := New(ctx, Options{
		NodeID: 1, Logger: slog.New(slog.DiscardHandler),
		Addr:      func(int32) (string, bool) { return "", false },
		Goroutine: func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() },
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return m
}

func testReplica(t *testing.T) testPartition {
	l, err := wlog.Open(filepath.Join(t.TempDir(), "t-0"), wlog.Config{}, wlog.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return testPartition{NewReplica("t", 0, l, 1, nil)}
}

// followed reports whether a fetcher follows p, and from which leader.
func (m *Manager) followed(p Partition) (int32, bool) {
	m.fetchers.mu.Lock()
	defer m.fetchers.mu.Unlock()
	for k, rf := range m.fetchers.mu.byKey {
		rf.mu.Lock()
		_, ok := rf.mu.parts[p]
		rf.mu.Unlock()
		if ok {
			return k.leader, true
		}
	}
	return 0, false
}

// Apply moves a replica through its roles as metadata says, starting and
// stopping its fetcher, reports leadership moves for the caller to act on,
// and ignores assignments it already holds or that are older than what it
// knows.
func TestApplyMovesReplicaBetweenRoles(t *testing.T) {
	m, p := testManager(t), testReplica(t)
	now := m.now()
	a := replica.Assignment{Leader: 1, LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}

	steps := []struct {
		name       string
		change     func()
		lead       Leadership
		applied    bool
		isLeader   bool
		followFrom int32 // -1: no fetcher
	}{
		{"leader", func() {}, Gained, true, true, -1},
		{"same assignment", func() {}, Kept, false, true, -1},
		{"leader, new partition epoch", func() { a.PartitionEpoch = 2 }, Kept, true, true, -1},
		{"follower of 2", func() { a.Leader, a.LeaderEpoch, a.PartitionEpoch = 2, 2, 3 }, Lost, true, false, 2},
		{"stale metadata", func() { a.PartitionEpoch = 1 }, Kept, false, false, 2},
		{"no leader", func() { a.Leader, a.LeaderEpoch, a.PartitionEpoch = -1, 3, 4 }, Kept, true, false, -1},
		{"leader again", func() { a.Leader, a.LeaderEpoch, a.PartitionEpoch = 1, 4, 5 }, Gained, true, true, -1},
	}
	for _, s := range steps {
		s.change()
		lead, applied := m.Apply(p, a, now)
		if lead != s.lead || applied != s.applied {
			t.Fatalf("%s: Apply = %v, %v; want %v, %v", s.name, lead, applied, s.lead, s.applied)
		}
		if got := p.r.IsLeader(); got != s.isLeader {
			t.Fatalf("%s: leader %v, want %v", s.name, got, s.isLeader)
		}
		from, ok := m.followed(p)
		if s.followFrom < 0 && ok || s.followFrom >= 0 && (!ok || from != s.followFrom) {
			t.Fatalf("%s: followed from %d (%v), want %d", s.name, from, ok, s.followFrom)
		}
	}
	if !m.Stop(p) || p.r.IsLeader() {
		t.Fatal("Stop did not report and end the leadership")
	}
}

// Throttles count and hold only replicas listed for this broker and
// outside the ISR.
func TestLeaderThrottlesOnlyListedReplicasOutsideTheISR(t *testing.T) {
	m, p := testManager(t), testReplica(t)
	now := m.now()
	m.Apply(p, replica.Assignment{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}}, now)
	m.ApplyConfigs(map[string]string{"leader.replication.throttled.rate": "10"})
	tr := ParseThrottled(map[string]string{"leader.replication.throttled.replicas": "0:1"})
	tp := throttledPartition{p.r, tr}
	m.LeaderSent(tp, 3, 1<<20, now)
	if !m.LeaderHolds(tp, 3, now) {
		t.Fatal("an out-of-sync follower of a throttled replica is not held past the quota")
	}
	if m.LeaderHolds(tp, 2, now) {
		t.Fatal("an in-sync follower is held")
	}
	if m.LeaderHolds(p, 3, now) {
		t.Fatal("a replica not listed is held")
	}
}

type throttledPartition struct {
	r  *Replica
	tr *ThrottledReplicas
}

func (p throttledPartition) Replica() *Replica             { return p.r }
func (p throttledPartition) Throttled() *ThrottledReplicas { return p.tr }
