package metrics

import (
	"sync"
	"sync/atomic"
	"time"
)

// Conversions counts records converted between message formats, per
// topic: produced message sets (format v0/v1) up to v2 batches, and
// stored batches down to v0/v1 for old fetches (BrokerTopicMetrics
// ProduceMessageConversionsPerSec, FetchMessageConversionsPerSec). The
// time spent goes to the request's MessageConversionsTimeMs. Every hosted
// topic has a series, zero until its first conversion, as in Kafka.
type Conversions struct {
	m      *Broker
	topics sync.Map // topic → *conversionCounts
}

type conversionCounts struct{ produce, fetch atomic.Uint64 }

func (c *Conversions) counts(topic string) *conversionCounts {
	if v, ok := c.topics.Load(topic); ok {
		return v.(*conversionCounts)
	}
	v, _ := c.topics.LoadOrStore(topic, &conversionCounts{})
	return v.(*conversionCounts)
}

// Produce records n produced records of topic converted in d.
func (c *Conversions) Produce(topic string, n int, d time.Duration) {
	c.counts(topic).produce.Add(uint64(n))
	c.m.requests.api("Produce").conversions.Add(int64(d))
}

// Fetch records n records of topic converted in d for a fetch. As in
// Kafka, the time counts under Fetch only, not FetchConsumer.
func (c *Conversions) Fetch(topic string, n int, d time.Duration) {
	c.counts(topic).fetch.Add(uint64(n))
	c.m.requests.api("Fetch").conversions.Add(int64(d))
}

// get returns topic's counts without creating them.
func (c *Conversions) get(topic string) (produce, fetch uint64) {
	if c == nil {
		return 0, 0
	}
	v, ok := c.topics.Load(topic)
	if !ok {
		return 0, 0
	}
	cc := v.(*conversionCounts)
	return cc.produce.Load(), cc.fetch.Load()
}
