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
	rf := newReplicaFetcher(New(context.Background(), Options{Logger: slog.New(slog.DiscardHandler)}), 1, 0)
	p := testPartition{NewReplica("t", 0, nil, 2, nil)}
	applied := func(f *follow) bool {
		ran := false
		rf.apply(f, func(*follow) { ran = true })
		return ran
	}
	snap := func() *follow {
		t.Helper()
		s, _ := rf.snapshot()
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

// num.replica.fetchers spreads a leader's partitions over that many
// fetchers, each partition always on the same one.
func TestFetcherIDSpreadsPartitions(t *testing.T) {
	seen := map[int]int{}
	for i := int32(0); i < 64; i++ {
		id := fetcherID("t", i, 4)
		if id < 0 || id >= 4 || id != fetcherID("t", i, 4) {
			t.Fatalf("partition %d: fetcher %d", i, id)
		}
		seen[id]++
		if fetcherID("t", i, 1) != 0 || fetcherID("t", i, 0) != 0 {
			t.Fatalf("one fetcher: partition %d not on fetcher 0", i)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("64 partitions over 4 fetchers used %d of them: %v", len(seen), seen)
	}
}

// A partition's errors back off from 10 ms, doubling to 200 ms.
func TestFetcherRetryBacksOffExponentially(t *testing.T) {
	now := time.Unix(1000, 0)
	rf := newReplicaFetcher(New(context.Background(), Options{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}), 1, 0)
	f := &follow{}
	var got []time.Duration
	for range 7 {
		rf.retryLater(f)
		got = append(got, f.retryAt.Sub(now))
	}
	want := []time.Duration{10, 20, 40, 80, 160, 200, 200}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoffs %v, want %v ms", got, want)
		}
	}
}
