package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCollectAgainstKfake(t *testing.T) {
	fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders", "skip-me"))
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...), kgo.DefaultProduceTopic("orders"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 30 {
		r := &kgo.Record{Value: []byte("v"), Partition: int32(i % 2)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	offs := kadm.Offsets{}
	offs.AddOffset("orders", 0, 5, -1)
	offs.AddOffset("orders", 1, 15, -1)
	if err := adm.CommitAllOffsets(ctx, "readers", offs); err != nil {
		t.Fatal(err)
	}

	src := New(cl, Options{Topics: func(s string) bool { return !strings.HasPrefix(s, "skip") }})
	now := time.Now()
	c, groups, cerr, gerr := src.Collect(ctx, now)
	if cerr != nil || gerr != nil {
		t.Fatalf("Collect: %v, %v", cerr, gerr)
	}
	if len(c.Topics) != 1 || c.Topics[0].Name != "orders" || len(c.Topics[0].Partitions) != 2 {
		t.Fatalf("topics %+v", c.Topics)
	}
	p0 := c.Topics[0].Partitions[0]
	if p0.StartOffset != 0 || p0.EndOffset != 15 || p0.Leader < 0 || len(p0.ISR) != 1 || p0.UnderReplicated() {
		t.Fatalf("partition 0 %+v", p0)
	}
	if len(groups) != 1 || groups[0].Name != "readers" || groups[0].State != "Empty" {
		t.Fatalf("groups %+v", groups)
	}
	gp := groups[0].Partitions
	if len(gp) != 2 || gp[0].Committed != 5 || gp[0].Lag != 10 || gp[1].Lag != 0 || gp[1].TimeLagMs != 0 {
		t.Fatalf("group partitions %+v", gp)
	}
	if gp[0].TimeLagMs != -1 {
		t.Fatalf("time lag with one sample: %d, want -1 (unknown)", gp[0].TimeLagMs)
	}
	// A second collection has history: the lagging partition gets an estimate.
	c, groups, cerr, gerr = src.Collect(ctx, now.Add(time.Second))
	if cerr != nil || gerr != nil || groups[0].Partitions[0].TimeLagMs < 1000 {
		t.Fatalf("second Collect: %v %v %+v", cerr, gerr, groups)
	}
	_ = c

	// Filtered groups are not collected.
	src = New(cl, Options{Groups: func(string) bool { return false }})
	if _, groups, _, _ := src.Collect(ctx, now); len(groups) != 0 {
		t.Fatalf("filtered groups collected: %+v", groups)
	}
}
