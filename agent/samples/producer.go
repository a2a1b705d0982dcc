package samples

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/snapshot"
)

// Defaults for the samples topic, as Cruise Control's metrics topic.
const (
	DefaultTopic      = "__weir_metrics"
	DefaultRetention  = 5 * time.Hour
	DefaultPartitions = 8
)

// HeaderSchema is the record header naming the value's schema file.
const HeaderSchema = "weir.schema"

// Options configure a Producer.
type Options struct {
	Topic    string        // DefaultTopic if ""
	Interval time.Duration // the agent's sampling interval, recorded in broker samples
	// Retention is the topic's retention.ms when the producer creates it
	// (DefaultRetention if 0). An existing topic is left as it is.
	Retention  time.Duration
	Partitions int32 // when created; DefaultPartitions if 0
	// ReplicationFactor when created; 0: the cluster's
	// default.replication.factor (CreateTopics' -1).
	ReplicationFactor int16
	Topics            func(string) bool // nil: all
}

// Producer is the samples exporter. Its Kafka client is the caller's; a
// client of its own keeps a slow topic from delaying the agent's other
// Kafka traffic (cmd/weir gives it one).
type Producer struct {
	opts Options
	cl   *kgo.Client
	adm  *kadm.Client

	ready bool // the topic exists; touched only by the pipeline's worker

	mu struct {
		sync.Mutex
		failed int   // samples that failed since the last Export
		err    error // the first of their errors
	}
}

// NewProducer returns a producer over cl.
func NewProducer(cl *kgo.Client, opts Options) *Producer {
	if opts.Topic == "" {
		opts.Topic = DefaultTopic
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Partitions <= 0 {
		opts.Partitions = DefaultPartitions
	}
	if opts.Topics == nil {
		opts.Topics = func(string) bool { return true }
	}
	return &Producer{opts: opts, cl: cl, adm: kadm.NewClient(cl)}
}

// Name implements snapshot.Exporter.
func (p *Producer) Name() string { return "samples" }

// Export implements snapshot.Exporter: it creates the topic if missing, then
// hands the snapshot's samples to the client without waiting for them, and
// reports the samples of earlier exports that failed. Not waiting matters
// when the topic's leaders move (a rebalance moving __weir_metrics itself):
// the client's retries outlast one interval, and a sample delivered late is
// still placed in its window by its time. The client's buffer bounds the
// memory (TryProduce never blocks); its delivery timeout bounds the wait.
func (p *Producer) Export(ctx context.Context, s *snapshot.Snapshot) error {
	recs, err := p.Records(s)
	if err != nil || len(recs) == 0 {
		return err
	}
	if !p.ready {
		if err := p.ensureTopic(ctx); err != nil {
			return err
		}
		p.ready = true
	}
	earlier := p.takeFailures()
	for _, r := range recs {
		p.cl.TryProduce(context.Background(), r, p.delivered)
	}
	return earlier
}

// delivered counts a failed sample.
func (p *Producer) delivered(_ *kgo.Record, err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.failed++; p.mu.err == nil {
		p.mu.err = err
	}
}

// takeFailures returns, once, the failures since the last call.
func (p *Producer) takeFailures() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := p.mu.failed, p.mu.err
	p.mu.failed, p.mu.err = 0, nil
	if n == 0 {
		return nil
	}
	return fmt.Errorf("producing load samples to %s: %d failed since the last collection: %w", p.opts.Topic, n, err)
}

// Flush waits until every sample handed to the client is delivered or
// failed, and returns the failures.
func (p *Producer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	return p.takeFailures()
}

// Records are a snapshot's samples as records: key the broker id for a
// broker sample, "topic-partition" for a partition sample.
func (p *Producer) Records(s *snapshot.Snapshot) ([]*kgo.Record, error) {
	b, parts := Loads(s, p.opts.Interval)
	var recs []*kgo.Record
	if b != nil {
		v, err := EncodeBroker(b)
		if err != nil {
			return nil, err
		}
		recs = append(recs, p.record(strconv.Itoa(int(b.BrokerID)), v, SchemaBrokerLoadV2, s.Time))
	}
	for i := range parts {
		pl := &parts[i]
		if !p.opts.Topics(pl.Topic) {
			continue
		}
		v, err := EncodePartition(pl)
		if err != nil {
			return nil, err
		}
		recs = append(recs, p.record(pl.Topic+"-"+strconv.Itoa(int(pl.Partition)), v, SchemaPartitionLoadV1, s.Time))
	}
	return recs, nil
}

func (p *Producer) record(key string, value []byte, schema byte, t time.Time) *kgo.Record {
	return &kgo.Record{Topic: p.opts.Topic, Key: []byte(key), Value: value, Timestamp: t,
		Headers: []kgo.RecordHeader{{Key: HeaderSchema, Value: []byte(SchemaFiles[schema])}}}
}

// ensureTopic creates the topic unless it exists: cleanup.policy=delete,
// retention.ms, and min.insync.replicas=1. The replication factor is the
// cluster's default unless set: counting the brokers instead gave RF 1 to
// an agent that started beside the first broker of a new cluster, and a
// cluster-wide min.insync.replicas of 2 then refused every sample. A
// default RF the cluster cannot place yet fails, and the next export
// tries again. One in-sync replica is enough for samples: a lost sample
// costs a window, a refused one stalls the agent's exporter.
func (p *Producer) ensureTopic(ctx context.Context) error {
	rf := p.opts.ReplicationFactor
	if rf <= 0 {
		rf = -1
	}
	retention := strconv.FormatInt(p.opts.Retention.Milliseconds(), 10)
	configs := map[string]*string{"cleanup.policy": ptr("delete"), "retention.ms": &retention, "min.insync.replicas": ptr("1")}
	resp, err := p.adm.CreateTopic(ctx, p.opts.Partitions, rf, configs, p.opts.Topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating %s: %w", p.opts.Topic, err)
	}
	return nil
}

func ptr(s string) *string { return &s }
