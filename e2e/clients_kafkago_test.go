package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// segmentio/kafka-go has its own protocol implementation and speaks other
// API versions than franz-go, sarama or librdkafka: its kafka.Client and
// Writer negotiate through its Transport, its Reader's consumer group
// pins old versions (JoinGroup v1/v2, SyncGroup v0, OffsetCommit v2,
// OffsetFetch v1, Heartbeat v0, LeaveGroup v0, Metadata v1/v6, Fetch
// v2/v5/v10).

const (
	kafkaGoTopic      = "kafkago"
	kafkaGoPartitions = 6
	kafkaGoPerCodec   = 2000
	kafkaGoLater      = 300 // written after the first two readers committed
	kafkaGoGroup      = "kafkago-group"
)

// kafkaGoCodecs is every compression codec kafka-go's Writer supports.
var kafkaGoCodecs = []struct {
	name string
	c    kafka.Compression
	attr uint8 // the batch attributes' codec bits
}{{"none", 0, 0}, {"gzip", kafka.Gzip, 1}, {"snappy", kafka.Snappy, 2}, {"lz4", kafka.Lz4, 3}, {"zstd", kafka.Zstd, 4}}

// TestClientsKafkaGo is segmentio/kafka-go against a 3-broker cluster:
// its admin client (CreateTopics with RF 3, Metadata, ListOffsets,
// Describe/Alter/IncrementalAlterConfigs, DescribeGroups, OffsetFetch,
// and the errors of bad creations), its Writer with acks=all in every
// codec, two Readers sharing a group (every record read once, intact, in
// offset order, committed) and a third Reader that resumes from the
// group's commits.
func TestClientsKafkaGo(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	tr := &kafka.Transport{MetadataTTL: 200 * time.Millisecond, ClientID: "weir-e2e-kafkago"}
	t.Cleanup(tr.CloseIdleConnections)
	cl := &kafka.Client{Addr: kafka.TCP(c.Bootstrap()...), Timeout: 30 * time.Second, Transport: tr}

	kafkaGoCreate(t, c, cl)
	kafkaGoConfigs(t, cl)
	kafkaGoCheckEnds(t, cl, 0)

	logs := &syncBuffer{}
	g := startKafkaGoGroup(t, c, logs, 2)
	kafkaGoAwaitMembers(t, cl, 2)
	for _, codec := range kafkaGoCodecs {
		kafkaGoWrite(t, c, tr, codec.name, codec.c, kafkaGoPerCodec)
	}
	total := len(kafkaGoCodecs) * kafkaGoPerCodec
	kafkaGoCheckEnds(t, cl, total)

	final := consumeAllCluster(t, c, kafkaGoTopic)
	kafkaGoCheckLog(t, final, total)
	kafkaGoClientFetch(t, cl, final)
	g.await(t, total, logs)
	g.check(t, final)
	ends := kafkaGoCheckCommitted(t, cl, final)
	g.close(t)

	kafkaGoWrite(t, c, tr, "later", 0, kafkaGoLater)
	late := startKafkaGoGroup(t, c, logs, 1)
	late.await(t, kafkaGoLater, logs)
	late.checkResumed(t, ends)
	late.close(t)
}

// kafkaGoCreate creates the topic with kafka-go's CreateTopics (RF 3),
// waits until its Metadata shows every partition with three replicas in
// sync, and checks that bad creations get Kafka's error codes.
func kafkaGoCreate(t *testing.T, c *brokertest.Cluster, cl *kafka.Client) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	create := func(topic string, partitions, rf int) error {
		resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
			Topic: topic, NumPartitions: partitions, ReplicationFactor: rf,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "min.insync.replicas", ConfigValue: "2"}},
		}}})
		if err != nil {
			t.Fatalf("kafka-go CreateTopics %s: %v", topic, err)
		}
		return resp.Errors[topic]
	}
	if err := create(kafkaGoTopic, kafkaGoPartitions, 3); err != nil {
		t.Fatalf("kafka-go CreateTopics %s: %v", kafkaGoTopic, err)
	}
	kafkaGoAwaitMetadata(t, c, cl)
	if err := create(kafkaGoTopic, kafkaGoPartitions, 3); !errors.Is(err, kafka.TopicAlreadyExists) {
		t.Errorf("creating %s again: got %v, want kafka.TopicAlreadyExists", kafkaGoTopic, err)
	}
	if err := create("kafkago-rf4", 1, 4); !errors.Is(err, kafka.InvalidReplicationFactor) {
		t.Errorf("creating a topic with RF 4 on 3 brokers: got %v, want kafka.InvalidReplicationFactor", err)
	}
	if err := create("kafkago-bad/name", 1, 3); !errors.Is(err, kafka.InvalidTopic) {
		t.Errorf("creating a topic named with a slash: got %v, want kafka.InvalidTopic", err)
	}
}

// kafkaGoAwaitMetadata waits until kafka-go's Metadata shows the three
// brokers, a controller among them, and every partition led with three
// replicas in sync.
func kafkaGoAwaitMetadata(t *testing.T, c *brokertest.Cluster, cl *kafka.Client) {
	t.Helper()
	var ids []int
	for _, b := range c.Brokers {
		ids = append(ids, int(b.NodeID))
	}
	await.For(t, time.Minute, "kafka-go Metadata to show "+kafkaGoTopic+" fully replicated", func() error {
		md, err := cl.Metadata(testContext(t, 10*time.Second), &kafka.MetadataRequest{Topics: []string{kafkaGoTopic}})
		if err != nil {
			return err
		}
		var got []int
		for _, b := range md.Brokers {
			got = append(got, b.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, ids) || !slices.Contains(ids, md.Controller.ID) {
			return fmt.Errorf("brokers %v controller %d, want brokers %v", got, md.Controller.ID, ids)
		}
		if len(md.Topics) != 1 || md.Topics[0].Name != kafkaGoTopic || md.Topics[0].Error != nil {
			return fmt.Errorf("topics %+v", md.Topics)
		}
		return kafkaGoPartitionsReady(md.Topics[0].Partitions, ids)
	})
}

func kafkaGoPartitionsReady(ps []kafka.Partition, ids []int) error {
	if len(ps) != kafkaGoPartitions {
		return fmt.Errorf("%d partitions, want %d", len(ps), kafkaGoPartitions)
	}
	for _, p := range ps {
		if p.Error != nil || len(p.Replicas) != 3 || len(p.Isr) != 3 || !slices.Contains(ids, p.Leader.ID) || p.Leader.Port == 0 {
			return fmt.Errorf("partition %d: leader %+v replicas %d isr %d err %v", p.ID, p.Leader, len(p.Replicas), len(p.Isr), p.Error)
		}
	}
	return nil
}

// kafkaGoConfigs reads the topic's configs with DescribeConfigs and
// changes them with IncrementalAlterConfigs and AlterConfigs (which
// replaces the whole set, as Kafka's does), reading each change back.
func kafkaGoConfigs(t *testing.T, cl *kafka.Client) {
	t.Helper()
	kafkaGoWantConfigs(t, cl, map[string]string{"min.insync.replicas": "2", "cleanup.policy": "delete"})
	ctx := testContext(t, 30*time.Second)
	inc, err := cl.IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: kafkaGoTopic,
		Configs: []kafka.IncrementalAlterConfigsRequestConfig{{Name: "retention.ms", Value: "3600000", ConfigOperation: kafka.ConfigOperationSet}},
	}}})
	if err != nil || len(inc.Resources) != 1 || inc.Resources[0].Error != nil {
		t.Fatalf("kafka-go IncrementalAlterConfigs retention.ms: %v %+v", err, inc)
	}
	kafkaGoWantConfigs(t, cl, map[string]string{"min.insync.replicas": "2", "retention.ms": "3600000"})
	alt, err := cl.AlterConfigs(ctx, &kafka.AlterConfigsRequest{Resources: []kafka.AlterConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: kafkaGoTopic,
		Configs: []kafka.AlterConfigRequestConfig{{Name: "min.insync.replicas", Value: "2"}, {Name: "max.message.bytes", Value: "2000000"}},
	}}})
	if err != nil {
		t.Fatalf("kafka-go AlterConfigs: %v", err)
	}
	for r, e := range alt.Errors {
		if e != nil {
			t.Fatalf("kafka-go AlterConfigs %+v: %v", r, e)
		}
	}
	// AlterConfigs set the whole topic config: retention.ms is back to
	// the broker's default (7 days).
	kafkaGoWantConfigs(t, cl, map[string]string{"min.insync.replicas": "2", "max.message.bytes": "2000000", "retention.ms": "604800000"})
	bad, err := cl.IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: kafkaGoTopic,
		Configs: []kafka.IncrementalAlterConfigsRequestConfig{{Name: "retention.ms", Value: "soon", ConfigOperation: kafka.ConfigOperationSet}},
	}}})
	if err != nil || len(bad.Resources) != 1 || !errors.Is(bad.Resources[0].Error, kafka.InvalidConfiguration) {
		t.Errorf("IncrementalAlterConfigs retention.ms=soon: got %v %+v, want kafka.InvalidConfiguration", err, bad)
	}
}

// kafkaGoWantConfigs checks the topic's values for want's keys with
// kafka-go's DescribeConfigs (with synonyms).
func kafkaGoWantConfigs(t *testing.T, cl *kafka.Client, want map[string]string) {
	t.Helper()
	resp, err := cl.DescribeConfigs(testContext(t, 30*time.Second), &kafka.DescribeConfigsRequest{
		Resources:       []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: kafkaGoTopic}},
		IncludeSynonyms: true,
	})
	if err != nil || len(resp.Resources) != 1 || resp.Resources[0].Error != nil {
		t.Fatalf("kafka-go DescribeConfigs %s: %v %+v", kafkaGoTopic, err, resp)
	}
	got := map[string]string{}
	for _, e := range resp.Resources[0].ConfigEntries {
		got[e.ConfigName] = e.ConfigValue
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("DescribeConfigs %s: %s=%q, want %q", kafkaGoTopic, k, got[k], v)
		}
	}
}

// kafkaGoCheckEnds checks with kafka-go's ListOffsets that every
// partition starts at 0 and that the end offsets add up to n.
func kafkaGoCheckEnds(t *testing.T, cl *kafka.Client, n int) map[int]int64 {
	t.Helper()
	var reqs []kafka.OffsetRequest
	for p := range kafkaGoPartitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	resp, err := cl.ListOffsets(testContext(t, 30*time.Second), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{kafkaGoTopic: reqs}})
	if err != nil {
		t.Fatalf("kafka-go ListOffsets: %v", err)
	}
	ends, sum := map[int]int64{}, int64(0)
	for _, p := range resp.Topics[kafkaGoTopic] {
		if p.Error != nil || p.FirstOffset != 0 {
			t.Fatalf("kafka-go ListOffsets partition %d: first %d last %d err %v", p.Partition, p.FirstOffset, p.LastOffset, p.Error)
		}
		ends[p.Partition] = p.LastOffset
		sum += p.LastOffset
	}
	if len(ends) != kafkaGoPartitions || sum != int64(n) {
		t.Fatalf("kafka-go ListOffsets: end offsets %v (sum %d), want %d partitions summing to %d", ends, sum, kafkaGoPartitions, n)
	}
	return ends
}

// kafkaGoWrite writes n keyed records (64 keys, a header naming the
// codec) with a Writer using codec and acks=all; every write must
// succeed, without a retry.
func kafkaGoWrite(t *testing.T, c *brokertest.Cluster, tr *kafka.Transport, name string, codec kafka.Compression, n int) {
	t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(c.Bootstrap()...), Topic: kafkaGoTopic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, Compression: codec, Transport: tr,
		BatchSize: 250, BatchTimeout: 5 * time.Millisecond,
	}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(kafkaGoKey(i)), Value: []byte(kafkaGoValue(name, i)),
			Headers: []kafka.Header{{Key: "codec", Value: []byte(name)}}}
	}
	start := time.Now()
	if err := w.WriteMessages(testContext(t, 2*time.Minute), msgs...); err != nil {
		t.Fatalf("kafka-go Writer (%s, acks=all): %v", name, err)
	}
	st := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatalf("closing the %s Writer: %v", name, err)
	}
	if st.Errors != 0 || st.Retries != 0 || st.Messages != int64(n) {
		t.Fatalf("kafka-go Writer (%s): %d messages, %d errors, %d retries; want %d, 0, 0", name, st.Messages, st.Errors, st.Retries, n)
	}
	t.Logf("kafka-go Writer %s: %d records in %d produce requests, %v", name, n, st.Writes, time.Since(start).Round(time.Millisecond))
}

func kafkaGoKey(i int) string { return fmt.Sprintf("key-%02d", i%64) }

// kafkaGoValue is record i of a codec: compressible, and naming both.
func kafkaGoValue(codec string, i int) string {
	return fmt.Sprintf("%s-%05d-%s", codec, i, strings.Repeat("weir ", 20))
}

// kafkaGoParse returns a value's codec and index.
func kafkaGoParse(v []byte) (string, int, error) {
	codec, rest, ok := strings.Cut(string(v), "-")
	idx, _, _ := strings.Cut(rest, "-")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil {
		return "", 0, fmt.Errorf("value %.40q is not one the test wrote", v)
	}
	return codec, i, nil
}

// kafkaGoCheckLog checks the log as franz-go reads it: every record
// written once, key and header as written, each key in one partition,
// each codec's records in write order within a partition, and each batch
// stored with the codec the Writer used.
func kafkaGoCheckLog(t *testing.T, final map[int32][]*kgo.Record, total int) {
	t.Helper()
	seen, keyAt, n := map[string]bool{}, map[string]int32{}, 0
	for p, recs := range final {
		last := map[string]int{}
		for _, r := range recs {
			n++
			codec, i, err := kafkaGoParse(r.Value)
			if err != nil {
				t.Fatalf("partition %d offset %d: %v", p, r.Offset, err)
			}
			k := fmt.Sprintf("%s-%d", codec, i)
			if seen[k] {
				t.Errorf("partition %d offset %d: %s written twice", p, r.Offset, k)
			}
			seen[k] = true
			if prev, ok := last[codec]; ok && i <= prev {
				t.Errorf("partition %d offset %d: %s after %s-%d", p, r.Offset, k, codec, prev)
			}
			last[codec] = i
			kafkaGoCheckRecord(t, r, codec, i, keyAt)
		}
	}
	if n != total || len(seen) != total {
		t.Fatalf("the log holds %d records (%d distinct), want %d", n, len(seen), total)
	}
}

func kafkaGoCheckRecord(t *testing.T, r *kgo.Record, codec string, i int, keyAt map[string]int32) {
	t.Helper()
	if string(r.Key) != kafkaGoKey(i) || len(r.Headers) != 1 || r.Headers[0].Key != "codec" || string(r.Headers[0].Value) != codec {
		t.Errorf("partition %d offset %d: key %q headers %v, want %q and codec=%s", r.Partition, r.Offset, r.Key, r.Headers, kafkaGoKey(i), codec)
	}
	if p, ok := keyAt[string(r.Key)]; ok && p != r.Partition {
		t.Errorf("key %s in partitions %d and %d", r.Key, p, r.Partition)
	}
	keyAt[string(r.Key)] = r.Partition
	for _, want := range kafkaGoCodecs {
		if want.name == codec && r.Attrs.CompressionType() != want.attr {
			t.Errorf("partition %d offset %d (%s): stored with codec %d, want %d", r.Partition, r.Offset, codec, r.Attrs.CompressionType(), want.attr)
		}
	}
}

// kafkaGoClientFetch reads each partition from its first offset with
// kafka-go's Client.Fetch (Fetch v11, session id and epoch -1) and
// compares what it returns with the log.
func kafkaGoClientFetch(t *testing.T, cl *kafka.Client, final map[int32][]*kgo.Record) {
	t.Helper()
	for p := range int32(kafkaGoPartitions) {
		resp, err := cl.Fetch(testContext(t, 30*time.Second), &kafka.FetchRequest{
			Topic: kafkaGoTopic, Partition: int(p), Offset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: time.Second,
		})
		if err != nil || resp.Error != nil {
			t.Fatalf("kafka-go Client.Fetch partition %d: %v %v", p, err, resp)
		}
		if resp.HighWatermark != int64(len(final[p])) {
			t.Errorf("kafka-go Client.Fetch partition %d: high watermark %d, the log holds %d", p, resp.HighWatermark, len(final[p]))
		}
		n, err := kafkaGoSameRecords(resp.Records, final[p])
		if err != nil || n == 0 {
			t.Errorf("kafka-go Client.Fetch partition %d: %d records match the log, then %v", p, n, err)
		}
	}
}

// kafkaGoSameRecords reads rr to its end, comparing each record with the
// log's record at its offset, and returns how many it read.
func kafkaGoSameRecords(rr kafka.RecordReader, log []*kgo.Record) (int, error) {
	for n := 0; ; n++ {
		r, err := rr.ReadRecord()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if r.Offset < 0 || r.Offset >= int64(len(log)) {
			return n, fmt.Errorf("offset %d outside the log (%d records)", r.Offset, len(log))
		}
		key, kerr := io.ReadAll(r.Key)
		value, verr := io.ReadAll(r.Value)
		want := log[r.Offset]
		if kerr != nil || verr != nil || string(key) != string(want.Key) || string(value) != string(want.Value) {
			return n, fmt.Errorf("offset %d: key %q value %.24q (%v %v), the log has %q %.24q", r.Offset, key, value, kerr, verr, want.Key, want.Value)
		}
	}
}

// kafkaGoCheckCommitted checks with kafka-go's OffsetFetch that the
// group committed every partition's end offset, and returns them.
func kafkaGoCheckCommitted(t *testing.T, cl *kafka.Client, final map[int32][]*kgo.Record) map[int]int64 {
	t.Helper()
	parts := make([]int, kafkaGoPartitions)
	for p := range parts {
		parts[p] = p
	}
	resp, err := cl.OffsetFetch(testContext(t, 30*time.Second), &kafka.OffsetFetchRequest{GroupID: kafkaGoGroup, Topics: map[string][]int{kafkaGoTopic: parts}})
	if err != nil || resp.Error != nil {
		t.Fatalf("kafka-go OffsetFetch %s: %v %v", kafkaGoGroup, err, resp)
	}
	got := map[int]int64{}
	for _, p := range resp.Topics[kafkaGoTopic] {
		if p.Error != nil {
			t.Fatalf("kafka-go OffsetFetch partition %d: %v", p.Partition, p.Error)
		}
		got[p.Partition] = p.CommittedOffset
	}
	for p := range kafkaGoPartitions {
		want := int64(len(final[int32(p)]))
		if got[p] != want {
			t.Errorf("group %s committed %d on partition %d, want its end offset %d", kafkaGoGroup, got[p], p, want)
		}
	}
	return got
}

// kafkaGoAwaitMembers waits until kafka-go's DescribeGroups shows the
// group stable with n members that share every partition.
func kafkaGoAwaitMembers(t *testing.T, cl *kafka.Client, n int) {
	t.Helper()
	await.For(t, 2*time.Minute, fmt.Sprintf("group %s to be stable with %d members", kafkaGoGroup, n), func() error {
		resp, err := cl.DescribeGroups(testContext(t, 10*time.Second), &kafka.DescribeGroupsRequest{GroupIDs: []string{kafkaGoGroup}})
		if err != nil {
			return err
		}
		if len(resp.Groups) != 1 || resp.Groups[0].Error != nil {
			return fmt.Errorf("groups %+v", resp.Groups)
		}
		g := resp.Groups[0]
		if g.GroupState != "Stable" || len(g.Members) != n {
			return fmt.Errorf("state %s with %d members", g.GroupState, len(g.Members))
		}
		assigned := 0
		for _, m := range g.Members {
			for _, tp := range m.MemberAssignments.Topics {
				assigned += len(tp.Partitions)
			}
			if len(m.MemberAssignments.Topics) == 0 {
				return fmt.Errorf("member %s has no partition", m.MemberID)
			}
		}
		if assigned != kafkaGoPartitions {
			return fmt.Errorf("%d partitions assigned, want %d", assigned, kafkaGoPartitions)
		}
		return nil
	})
}

// kafkaGoGroupRun is n kafka-go Readers in the test's group, each
// reading on a goroutine of its own and committing what it read every
// 100 records, and when the group has read everything it waits for.
type kafkaGoGroupRun struct {
	readers []*kafka.Reader
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.Mutex
	target int                       // distinct records to read before stopping
	read   []map[int][]kafka.Message // per reader, per partition, in the order read
	seen   map[string]int            // "partition/offset" → the reader that read it
	dups   []string                  // records read more than once
	errs   []error                   // commit errors
	logs   *syncBuffer               // the readers' error logs
	done   chan struct{}             // closed when target distinct records were read
	once   sync.Once
}

func startKafkaGoGroup(t *testing.T, c *brokertest.Cluster, logs *syncBuffer, n int) *kafkaGoGroupRun {
	ctx, cancel := context.WithCancel(context.Background())
	g := &kafkaGoGroupRun{ctx: ctx, cancel: cancel, seen: map[string]int{}, logs: logs, done: make(chan struct{}), target: -1}
	for i := range n {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: c.Bootstrap(), GroupID: kafkaGoGroup, Topic: kafkaGoTopic,
			StartOffset: kafka.FirstOffset, MaxWait: 250 * time.Millisecond, HeartbeatInterval: 500 * time.Millisecond,
			JoinGroupBackoff: 200 * time.Millisecond, ReadBackoffMin: 20 * time.Millisecond, ReadBackoffMax: 200 * time.Millisecond,
			ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) { fmt.Fprintf(logs, "reader %d: "+f+"\n", append([]any{i}, a...)...) }),
		})
		g.readers = append(g.readers, r)
		g.read = append(g.read, map[int][]kafka.Message{})
		g.wg.Add(1)
		go g.run(i, r) // owned by g: close cancels and waits
	}
	t.Cleanup(func() { g.close(t) })
	return g
}

// run reads with FetchMessage and commits every 100 records, and what
// is left when the group has read everything.
func (g *kafkaGoGroupRun) run(i int, r *kafka.Reader) {
	defer g.wg.Done()
	var pending []kafka.Message
	commit := func() {
		if len(pending) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.CommitMessages(ctx, pending...); err != nil {
			g.fail(fmt.Errorf("reader %d committing %d records: %w", i, len(pending), err))
		}
		pending = nil
	}
	defer commit()
	for {
		m, err := r.FetchMessage(g.ctx)
		if err != nil {
			return
		}
		g.record(i, m)
		if pending = append(pending, m); len(pending) >= 100 {
			commit()
		}
	}
}

func (g *kafkaGoGroupRun) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.errs = append(g.errs, err)
}

func (g *kafkaGoGroupRun) record(i int, m kafka.Message) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.read[i][m.Partition] = append(g.read[i][m.Partition], m)
	k := fmt.Sprintf("%d/%d", m.Partition, m.Offset)
	if prev, ok := g.seen[k]; ok {
		g.dups = append(g.dups, fmt.Sprintf("%s read by reader %d and reader %d", k, prev, i))
		return
	}
	g.seen[k] = i
	if g.target >= 0 && len(g.seen) >= g.target {
		g.once.Do(func() { close(g.done) })
	}
}

// await waits until the readers have read n distinct records, then
// stops them (each commits what it has left).
func (g *kafkaGoGroupRun) await(t *testing.T, n int, logs *syncBuffer) {
	t.Helper()
	g.mu.Lock()
	g.target = n
	if len(g.seen) >= n {
		g.once.Do(func() { close(g.done) })
	}
	g.mu.Unlock()
	select {
	case <-g.done:
	case <-time.After(3 * time.Minute):
		g.mu.Lock()
		got := len(g.seen)
		g.mu.Unlock()
		t.Fatalf("kafka-go Readers read %d distinct records of %d in 3 minutes; their errors:\n%s", got, n, logs.String())
	}
	g.cancel()
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range g.errs {
		t.Error(e)
	}
	for _, d := range g.dups {
		t.Error("a record was read twice in the group: " + d)
	}
	if len(g.seen) != n {
		t.Errorf("kafka-go Readers read %d distinct records, want %d", len(g.seen), n)
	}
}

// check compares what each reader read with the log: each partition
// read by one reader, in offset order, every record with the key, value
// and header the log holds at that offset.
func (g *kafkaGoGroupRun) check(t *testing.T, final map[int32][]*kgo.Record) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	readBy := map[int]int{}
	for i, parts := range g.read {
		if len(parts) == 0 {
			t.Errorf("reader %d read nothing: the group did not share the partitions", i)
		}
		for p, msgs := range parts {
			if prev, ok := readBy[p]; ok {
				t.Errorf("partition %d read by readers %d and %d", p, prev, i)
			}
			readBy[p] = i
			kafkaGoSame(t, msgs, final[int32(p)])
		}
	}
	t.Logf("kafka-go Readers: partitions by reader %v, %d records", readBy, len(g.seen))
}

// kafkaGoSame checks that msgs are the log's records, in order from the
// start of the partition.
func kafkaGoSame(t *testing.T, msgs []kafka.Message, log []*kgo.Record) {
	t.Helper()
	if len(msgs) != len(log) {
		t.Errorf("partition %d: read %d records, the log holds %d", msgs[0].Partition, len(msgs), len(log))
	}
	for j, m := range msgs {
		if j >= len(log) {
			return
		}
		if err := kafkaGoEqual(m, log[j]); err != nil {
			t.Errorf("partition %d, record %d read: %v", m.Partition, j, err)
			return
		}
	}
}

func kafkaGoEqual(m kafka.Message, r *kgo.Record) error {
	if m.Offset != r.Offset || string(m.Key) != string(r.Key) || string(m.Value) != string(r.Value) {
		return fmt.Errorf("offset %d key %q value %.24q, the log has offset %d key %q value %.24q", m.Offset, m.Key, m.Value, r.Offset, r.Key, r.Value)
	}
	if len(m.Headers) != len(r.Headers) || len(m.Headers) == 1 && string(m.Headers[0].Value) != string(r.Headers[0].Value) {
		return fmt.Errorf("offset %d headers %v, the log has %v", m.Offset, m.Headers, r.Headers)
	}
	if !m.Time.Equal(r.Timestamp) {
		return fmt.Errorf("offset %d timestamp %v, the log has %v", m.Offset, m.Time, r.Timestamp)
	}
	return nil
}

// checkResumed checks that a reader joining later started each
// partition at the offset the group committed: it read only the records
// written after, each partition from its committed offset on.
func (g *kafkaGoGroupRun) checkResumed(t *testing.T, committed map[int]int64) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	for p, msgs := range g.read[0] {
		for j, m := range msgs {
			if want := committed[p] + int64(j); m.Offset != want {
				t.Errorf("late reader, partition %d: read offset %d as its record %d, want %d (committed %d)", p, m.Offset, j, want, committed[p])
				break
			}
			if codec, _, err := kafkaGoParse(m.Value); err != nil || codec != "later" {
				t.Errorf("late reader, partition %d offset %d: %.24q was read before it joined (committed %d)", p, m.Offset, m.Value, committed[p])
				break
			}
		}
	}
}

// close stops the readers (idempotent): each leaves the group.
func (g *kafkaGoGroupRun) close(t *testing.T) {
	g.cancel()
	g.wg.Wait()
	for i, r := range g.readers {
		if err := r.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("closing kafka-go reader %d: %v", i, err)
		}
	}
	g.readers = nil
}
