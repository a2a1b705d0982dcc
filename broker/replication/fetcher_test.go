package replication

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
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

// TestFetcherRedialsAfterSocketTimeout: a leader that accepts the
// connection and never answers (what a follower sees of a leader across a
// network partition: its requests vanish) is given up on after
// replica.socket.timeout.ms, and the follower dials again. Before the
// fetcher honoured replica.socket.timeout.ms it waited replica.fetch.wait.max.ms
// plus a fixed 10 s, so a follower rejoined a healed partition that late.
func TestFetcherRedialsAfterSocketTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	accepted := make(chan time.Time, 100)
	done := make(chan struct{})
	go func() { // owned by the test: ends when ln closes
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- time.Now()
			conns.Add(1)
			go func() { // reads and discards until the fetcher hangs up
				defer conns.Done()
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	const socketTimeout = 300 * time.Millisecond
	m := New(ctx, Options{
		NodeID: 2, Logger: slog.New(slog.DiscardHandler),
		FetchMaxWait: 100 * time.Millisecond, SocketTimeout: socketTimeout,
		Addr:      func(int32) (string, bool) { return ln.Addr().String(), true },
		Goroutine: func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() },
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		ln.Close()
		<-done
		conns.Wait()
	})
	m.fetchers.follow(testReplica(t), 1, 0)

	first := <-accepted
	select {
	case second := <-accepted:
		// One socket timeout, then replicaFetchBackoff, then the dial.
		if d := second.Sub(first); d < socketTimeout {
			t.Fatalf("dialled again %v after the first connection, before the %v socket timeout", d, socketTimeout)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no new connection 5 s after the first; replica.socket.timeout.ms is %v", socketTimeout)
	}
}

func TestFetchTimeoutsDefaults(t *testing.T) {
	for _, tt := range []struct{ wait, socket, wantWait, wantSocket time.Duration }{
		{0, 0, 500 * time.Millisecond, 30 * time.Second},
		{time.Second, 3 * time.Second, time.Second, 3 * time.Second},
		{2 * time.Second, time.Second, 2 * time.Second, 2 * time.Second}, // never under the wait
	} {
		w, s := fetchTimeouts(tt.wait, tt.socket)
		if w != tt.wantWait || s != tt.wantSocket {
			t.Errorf("fetchTimeouts(%v, %v) = %v, %v; want %v, %v", tt.wait, tt.socket, w, s, tt.wantWait, tt.wantSocket)
		}
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
