package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/internal/await"
)

// TestConsumerProtocolRegexSubscription: a franz-go consumer on the
// consumer protocol subscribed to ^orders-.* (franz-go sends it as
// SubscribedTopicRegex and the coordinator resolves it) reads orders-1;
// orders-2, created while it runs, is picked up at the coordinator's next
// regex refresh (every 10s at most in Kafka, 1s here: it resolves within
// ~1s, franz-go then takes ~4s to fetch) and read; payments and
// __consumer_offsets, which do not match, never are.
func TestConsumerProtocolRegexSubscription(t *testing.T) {
	t.Parallel()
	props := map[string]string{"weir.group.consumer.regex.refresh.min.interval.ms": "1000"}
	for k, v := range props848 {
		props[k] = v
	}
	b := startBroker(t, props)
	adm := admin(t, b)
	createTopic(t, adm, "orders-1", 2, nil)
	createTopic(t, adm, "payments", 1, nil)
	produceN(t, b, "orders-1", 0, 10)
	produceN(t, b, "payments", 0, 5)

	cl := b.Client(t, opts848(
		kgo.ConsumerGroup("regex-orders"), kgo.ConsumeRegex(), kgo.ConsumeTopics("^orders-.*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(time.Second),
	)...)
	var mu sync.Mutex
	byTopic := map[string]int{}
	stop := pollRecords(cl, func(r *kgo.Record) {
		mu.Lock()
		byTopic[r.Topic]++
		mu.Unlock()
	})
	defer stop()
	read := func(topic string) int {
		mu.Lock()
		defer mu.Unlock()
		return byTopic[topic]
	}

	start := time.Now()
	await.True(t, 10*time.Second, "the 10 records of orders-1", func() bool { return read("orders-1") == 10 })
	d := describe848(t, b, "regex-orders")
	if len(d.Members) != 1 || d.Members[0].SubscribedTopicRegex == nil {
		t.Fatalf("ConsumerGroupDescribe: %+v, want one member with its SubscribedTopicRegex", d)
	}
	t.Logf("the member's regex as franz-go sends it: %s", *d.Members[0].SubscribedTopicRegex)

	t.Logf("orders-1 read after %v", time.Since(start))
	createTopic(t, adm, "orders-2", 1, nil)
	produceN(t, b, "orders-2", 0, 5)
	await.True(t, 15*time.Second, "the 5 records of orders-2, a topic created after the subscription", func() bool { return read("orders-2") == 5 })

	t.Logf("orders-2 read after %v", time.Since(start))
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"orders-1": 10, "orders-2": 5}
	if fmt.Sprint(byTopic) != fmt.Sprint(want) {
		t.Errorf("records by topic: %v, want %v (payments and __consumer_offsets never)", byTopic, want)
	}
}

// pollRecords polls cl until stop, handing every record to fn.
func pollRecords(cl *kgo.Client, fn func(*kgo.Record)) (stop func()) {
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(fn)
		}
	}()
	return func() { cancel(); <-done }
}
