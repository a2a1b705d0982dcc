package e2e

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
)

// BenchmarkGroupOffsetCommit: synchronous OffsetCommits of one partition
// from one client against a broker process (each answered after its
// append to __consumer_offsets). Not part of make test; run with
// go test -run '^$' -bench Group ./e2e/.
func BenchmarkGroupOffsetCommit(b *testing.B) {
	br := brokertest.Start(b, brokertest.Options{Props: groupProps})
	adm := kadm.NewClient(br.Client(b))
	ctx := context.Background()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "bench-commit"); err != nil {
		b.Fatal(err)
	}
	var os kadm.Offsets
	for i := 0; b.Loop(); i++ {
		os.Add(kadm.Offset{Topic: "bench-commit", Partition: 0, At: int64(i), LeaderEpoch: -1})
		if err := adm.CommitAllOffsets(ctx, "bench-commit-group", os); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkGroupJoinThree: time from three franz-go consumers starting
// until all three own partitions of a 6-partition topic, on a fresh group
// each iteration (initial rebalance delay 100ms included).
func BenchmarkGroupJoinThree(b *testing.B) {
	br := brokertest.Start(b, brokertest.Options{Props: groupProps})
	adm := kadm.NewClient(br.Client(b))
	if _, err := adm.CreateTopic(context.Background(), 6, 1, nil, "bench-join"); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		group := "bench-join-" + strconv.Itoa(i)
		var wg sync.WaitGroup
		var clients []*kgo.Client
		wg.Add(3)
		for range 3 {
			var once sync.Once
			cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("bench-join"),
				kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { once.Do(wg.Done) }))
			if err != nil {
				b.Fatal(err)
			}
			clients = append(clients, cl)
			go func() { cl.PollFetches(context.Background()) }()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatal("three members not assigned within 30s")
		}
		b.StopTimer()
		for _, cl := range clients {
			cl.Close()
		}
		b.StartTimer()
	}
}
