package replication

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestFetcherDropsResponsesForPartitionsNoLongerFollowed: a response is
// applied only to the follow entry its request was sent for. Once a
// partition was removed (it now leads) or re-added under a new leader
// epoch, a late response must not touch its log, and remove waits for a
// response being applied, so after reconcile's unfollow returns nothing
// fetched before lands in the log.
func TestFetcherDropsResponsesForPartitionsNoLongerFollowed(t *testing.T) {
	rf := newReplicaFetcher(New(context.Background(), Options{Logger: slog.New(slog.DiscardHandler)}), 1)
	p := testPartition{NewReplica("t", 0, nil, 2, nil)}
	applied := func(f *follow) bool {
		ran := false
		rf.apply(f, func(*follow) { ran = true })
		return ran
	}
	snap := func() *follow {
		t.Helper()
		s := rf.snapshot()
		if len(s) != 1 {
			t.Fatalf("snapshot %v", s)
		}
		return s[0]
	}

	rf.add(p, 5)
	f := snap()
	if !applied(f) {
		t.Fatal("a response for the current entry was dropped")
	}
	rf.remove(p) // it leads now
	if applied(f) {
		t.Fatal("a response applied after the partition was removed")
	}
	rf.add(p, 5)
	f = snap()
	rf.add(p, 6) // a new leader epoch: truncate first, then fetch afresh
	if applied(f) {
		t.Fatal("a response for the previous leader epoch applied")
	}
	if g := snap(); !g.truncate || g.epoch != 6 {
		t.Fatalf("follow %+v, want epoch 6 truncating first", g)
	}

	// remove waits for a response being applied.
	f = snap()
	inside, release, removed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		rf.apply(f, func(*follow) { close(inside); <-release })
	}()
	<-inside
	go func() { rf.remove(p); close(removed) }()
	select {
	case <-removed:
		t.Fatal("remove returned while a response was being applied")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-removed
}

// testPartition is a Partition with no throttled replicas.
type testPartition struct{ r *Replica }

func (p testPartition) Replica() *Replica             { return p.r }
func (p testPartition) Throttled() *ThrottledReplicas { return nil }
