package e2e

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestFranzAdminAndIdempotentProduce walks the admin API a tool like the
// collector uses (franz-go's kadm), then produces 10,000 records with an
// idempotent acks=all producer and reads each back exactly once, in order.
func TestFranzAdminAndIdempotentProduce(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	adm := admin(t, b)
	ctx := testContext(t, 2*time.Minute)
	const topic = "admin-topic"

	t.Run("CreateTopics validate-only", func(t *testing.T) {
		resp, err := adm.ValidateCreateTopics(ctx, 2, 1, nil, "validate-only-topic")
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("ValidateCreateTopics: %v", err)
		}
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatalf("ListTopics: %v", err)
		}
		if topics.Has("validate-only-topic") {
			t.Errorf("validate-only CreateTopics created the topic")
		}
	})

	t.Run("CreateTopics", func(t *testing.T) {
		createTopic(t, adm, topic, 3, map[string]*string{
			"retention.ms":   kadm.StringPtr("3600000"),
			"cleanup.policy": kadm.StringPtr("delete"),
		})
		resp, err := adm.CreateTopics(ctx, 3, 1, nil, topic)
		if err != nil {
			t.Fatalf("CreateTopics again: %v", err)
		}
		if got := resp[topic].Err; !errors.Is(got, kerr.TopicAlreadyExists) {
			t.Errorf("creating %s twice: error %v, want TOPIC_ALREADY_EXISTS", topic, got)
		}
	})

	t.Run("ListTopics and Metadata", func(t *testing.T) {
		topics, err := adm.ListTopics(ctx, topic)
		if err == nil {
			err = topics.Error()
		}
		if err != nil {
			t.Fatalf("ListTopics %s: %v", topic, err)
		}
		d := topics[topic]
		if len(d.Partitions) != 3 {
			t.Errorf("%s has %d partitions, want 3", topic, len(d.Partitions))
		}
		if d.ID == (kadm.TopicID{}) {
			t.Errorf("%s has no topic ID", topic)
		}
		for _, p := range d.Partitions {
			if p.Leader != b.NodeID || len(p.Replicas) != 1 || len(p.ISR) != 1 || p.Err != nil {
				t.Errorf("partition %d: leader %d replicas %v isr %v err %v, want leader %d, one replica in sync",
					p.Partition, p.Leader, p.Replicas, p.ISR, p.Err, b.NodeID)
			}
		}
		m, err := adm.BrokerMetadata(ctx)
		if err != nil {
			t.Fatalf("BrokerMetadata: %v", err)
		}
		if len(m.Brokers) != 1 || m.Brokers[0].NodeID != b.NodeID ||
			fmt.Sprintf("%s:%d", m.Brokers[0].Host, m.Brokers[0].Port) != b.Addr {
			t.Errorf("brokers %+v, want node %d at %s", m.Brokers, b.NodeID, b.Addr)
		}
		if m.Controller != b.NodeID {
			t.Errorf("controller %d, want %d", m.Controller, b.NodeID)
		}
		if m.Cluster == "" {
			t.Errorf("no cluster id in metadata")
		}
	})

	t.Run("ApiVersions", func(t *testing.T) {
		vs, err := adm.ApiVersions(ctx)
		if err != nil {
			t.Fatalf("ApiVersions: %v", err)
		}
		v, ok := vs[b.NodeID]
		if !ok || v.Err != nil {
			t.Fatalf("ApiVersions of broker %d: %+v", b.NodeID, vs)
		}
		for _, key := range []int16{0, 1, 2, 3, 18, 19, 20, 21, 22, 32, 35, 37, 44, 60} {
			if _, ok := v.KeyMaxVersion(key); !ok {
				t.Errorf("ApiVersions lacks %s (key %d)", kmsg.NameForKey(key), key)
			}
		}
	})

	t.Run("DescribeTopicConfigs", func(t *testing.T) {
		checkTopicConfig(t, adm, topic, "retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig)
		checkTopicConfig(t, adm, topic, "segment.bytes", "", kmsg.ConfigSourceDefaultConfig)
	})

	t.Run("AlterTopicConfigs incremental", func(t *testing.T) {
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
			{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")},
			{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("2097152")},
		}, topic)
		if err == nil {
			for _, r := range resp {
				if r.Err != nil {
					err = fmt.Errorf("%s: %w (%s)", r.Name, r.Err, r.ErrMessage)
				}
			}
		}
		if err != nil {
			t.Fatalf("IncrementalAlterConfigs: %v", err)
		}
		checkTopicConfig(t, adm, topic, "retention.ms", "7200000", kmsg.ConfigSourceDynamicTopicConfig)
		checkTopicConfig(t, adm, topic, "max.message.bytes", "2097152", kmsg.ConfigSourceDynamicTopicConfig)
		checkTopicConfig(t, adm, topic, "cleanup.policy", "delete", kmsg.ConfigSourceDynamicTopicConfig)
	})

	t.Run("CreatePartitions", func(t *testing.T) {
		resp, err := adm.CreatePartitions(ctx, 2, topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("CreatePartitions +2: %v", err)
		}
		await.For(t, 10*time.Second, topic+" to have 5 partitions", func() error {
			topics, err := adm.ListTopics(ctx, topic)
			if err != nil {
				return err
			}
			if n := len(topics[topic].Partitions); n != 5 {
				return fmt.Errorf("%d partitions", n)
			}
			return nil
		})
	})

	// 100 records with increasing timestamps, in one batch per partition:
	// snappy-compressed in partition 0 (franz-go's default), uncompressed
	// in partition 1.
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	t.Run("offsets", func(t *testing.T) {
		for p, codec := range []kgo.CompressionCodec{kgo.SnappyCompression(), kgo.NoCompression()} {
			cl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(codec))
			var recs []*kgo.Record
			for i := range 100 {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(strconv.Itoa(i)),
					Timestamp: base.Add(time.Duration(i) * time.Second)})
			}
			produceSync(t, cl, recs...)
		}
		for _, p := range []int32{0, 1} {
			what := fmt.Sprintf("partition %d (%s)", p, []string{"snappy", "uncompressed"}[p])
			checkListed(t, "ListEndOffsets "+what, topic, p, 100)(adm.ListEndOffsets(ctx, topic))
			checkListed(t, "ListStartOffsets "+what, topic, p, 0)(adm.ListStartOffsets(ctx, topic))
			// Kafka answers with the first record at or after the time, inside a
			// (compressed) batch too.
			checkListed(t, "ListOffsetsAfterMilli(record 40) "+what, topic, p, 40)(
				adm.ListOffsetsAfterMilli(ctx, base.Add(40*time.Second).UnixMilli(), topic))
			checkListed(t, "ListOffsetsAfterMilli(39.5s) "+what, topic, p, 40)(
				adm.ListOffsetsAfterMilli(ctx, base.Add(39500*time.Millisecond).UnixMilli(), topic))
		}
	})

	t.Run("DeleteRecords", func(t *testing.T) {
		var os kadm.Offsets
		os.AddOffset(topic, 0, 30, -1)
		resp, err := adm.DeleteRecords(ctx, os)
		if err != nil {
			t.Fatalf("DeleteRecords: %v", err)
		}
		r, ok := resp.Lookup(topic, 0)
		if !ok || r.Err != nil || r.LowWatermark != 30 {
			t.Errorf("DeleteRecords %s/0 before 30: %+v (found %v), want low watermark 30", topic, r, ok)
		}
		checkListed(t, "ListStartOffsets after DeleteRecords", topic, 0, 30)(adm.ListStartOffsets(ctx, topic))
		recs := consumeAll(t, b, topic)[0]
		if len(recs) != 70 || recs[0].Offset != 30 || string(recs[0].Value) != "30" {
			t.Errorf("after DeleteRecords partition 0 reads %d records from offset %d, want 70 from 30",
				len(recs), firstOffset(recs))
		}
	})

	t.Run("DescribeBrokerLogDirs", func(t *testing.T) {
		var s kadm.TopicsSet
		s.Add(topic, 0, 1, 2, 3, 4)
		dirs, err := adm.DescribeBrokerLogDirs(ctx, b.NodeID, s)
		if err == nil {
			err = dirs.Error()
		}
		if err != nil {
			t.Fatalf("DescribeLogDirs: %v", err)
		}
		if _, ok := dirs[b.DataDir]; !ok {
			t.Errorf("log dirs %v do not include log.dirs=%s", keys(dirs), b.DataDir)
		}
		p, ok := dirs.LookupPartition(topic, 0)
		if !ok || p.Size <= 0 {
			t.Errorf("DescribeLogDirs %s/0: %+v (found %v), want a size > 0", topic, p, ok)
		}
		n := 0
		dirs.EachPartition(func(kadm.DescribedLogDirPartition) { n++ })
		if n != 5 {
			t.Errorf("DescribeLogDirs reports %d partitions of %s, want 5", n, topic)
		}
	})

	t.Run("idempotent produce", func(t *testing.T) {
		idempotentRoundTrip(t, b, adm, "idempotent-topic", 10000)
	})

	t.Run("DeleteTopics", func(t *testing.T) {
		resp, err := adm.DeleteTopics(ctx, topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("DeleteTopics: %v", err)
		}
		await.For(t, 10*time.Second, topic+" to disappear", func() error {
			topics, err := adm.ListTopics(ctx)
			if err != nil {
				return err
			}
			if topics.Has(topic) {
				return fmt.Errorf("still listed")
			}
			return nil
		})
	})
}

// idempotentRoundTrip produces n records across 4 partitions with franz-go's
// default producer (idempotent, acks=all) and reads them back: each once, in
// the order produced, at the offset its ack reported.
func idempotentRoundTrip(t *testing.T, b *brokertest.Broker, adm *kadm.Client, topic string, n int) {
	const partitions = 4
	createTopic(t, adm, topic, partitions, nil)
	cl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()))
	ctx := testContext(t, 2*time.Minute)
	acked := make([]int64, n) // offset of record i
	errs := make(chan error, n)
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: int32(i % partitions), Key: []byte(strconv.Itoa(i)),
			Value: []byte(strconv.Itoa(i))}
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err != nil {
				errs <- fmt.Errorf("record %s: %w", r.Value, err)
				return
			}
			acked[i] = r.Offset
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Fatalf("produce: %v", err)
	}
	for i, off := range acked {
		if want := int64(i / partitions); off != want {
			t.Fatalf("record %d acked at offset %d, want %d", i, off, want)
		}
	}

	got := consumeAll(t, b, topic)
	total := 0
	for p, recs := range got {
		for j, r := range recs {
			want := j*partitions + int(p)
			if r.Offset != int64(j) || string(r.Value) != strconv.Itoa(want) {
				t.Fatalf("partition %d, record %d: offset %d value %s, want offset %d value %d",
					p, j, r.Offset, r.Value, j, want)
			}
		}
		total += len(recs)
	}
	if total != n {
		t.Errorf("consumed %d records, produced %d", total, n)
	}
}

func checkTopicConfig(t *testing.T, adm *kadm.Client, topic, key, want string, source kmsg.ConfigSource) {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatalf("DescribeConfigs %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatalf("DescribeConfigs %s: %v", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key != key {
			continue
		}
		if (want != "" && c.MaybeValue() != want) || c.Source != source {
			t.Errorf("%s %s=%q source %v, want %q source %v", topic, key, c.MaybeValue(), c.Source, want, source)
		}
		return
	}
	t.Errorf("DescribeConfigs %s lacks %s", topic, key)
}

// checkListed returns a checker for a kadm ListOffsets call's results.
func checkListed(t *testing.T, what, topic string, p int32, want int64) func(kadm.ListedOffsets, error) {
	return func(listed kadm.ListedOffsets, err error) {
		t.Helper()
		if err == nil {
			err = listed.Error()
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		o, ok := listed.Lookup(topic, p)
		if !ok || o.Offset != want {
			t.Errorf("%s %s/%d: %+v (found %v), want offset %d", what, topic, p, o, ok, want)
		}
	}
}

func firstOffset(recs []*kgo.Record) int64 {
	if len(recs) == 0 {
		return -1
	}
	return recs[0].Offset
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
