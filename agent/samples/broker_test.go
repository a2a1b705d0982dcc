package samples_test

// An external test package: brokertest imports cluster, which imports the
// collector, which imports this package.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/broker/brokertest"
)

func TestMain(m *testing.M) { brokertest.Main(m) }

// TestProduceToARealBroker produces samples to a real broker, which the
// producer first creates the topic on, and reads them back.
func TestProduceToARealBroker(t *testing.T) {
	b := brokertest.Start(t, brokertest.Options{})
	cl := b.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := samples.NewProducer(cl, samples.Options{Interval: time.Minute, Partitions: 2})
	for range 2 { // the second export finds the topic there
		if err := p.Export(ctx, samples.TestSnapshot(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	cfgs, err := adm.DescribeTopicConfigs(ctx, samples.DefaultTopic)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cfgs[0].Configs {
		got[c.Key] = c.MaybeValue()
	}
	if got["cleanup.policy"] != "delete" || got["retention.ms"] != "18000000" {
		t.Errorf("topic configs: cleanup.policy %q retention.ms %q", got["cleanup.policy"], got["retention.ms"])
	}
	consumer := b.Client(t, kgo.ConsumeTopics(samples.DefaultTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var recs []*kgo.Record
	for len(recs) < 8 {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 8 samples: %v", len(recs), ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	samples.CheckRecords(t, recs)
}
