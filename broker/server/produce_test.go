package server

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	poll "github.com/weirhq/weir/internal/await"
)

func createTopic(t *testing.T, b *testBroker, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := kadm.NewClient(b.client(t)).CreateTopic(context.Background(), partitions, 1, configs, name)
	if err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", name, err, resp.Err)
	}
}

func TestLogAppendTimeIsStampedByTheBroker(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	b := startBrokerOpts(t, t.TempDir(), nil, Options{Now: func() time.Time { return now }})
	createTopic(t, b, "lat", 1, map[string]*string{"message.timestamp.type": kadm.StringPtr("LogAppendTime")})
	cl := b.client(t, kgo.DefaultProduceTopic("lat"))
	res := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("x"), Timestamp: time.UnixMilli(5)})
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons := b.client(t, kgo.ConsumeTopics("lat"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cons.PollFetches(context.Background())
	recs := fs.Records()
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	if got := recs[0].Timestamp.UnixMilli(); got != now.UnixMilli() {
		t.Fatalf("timestamp %d, want the broker's append time %d", got, now.UnixMilli())
	}
	if recs[0].Attrs.TimestampType() != 1 {
		t.Fatal("record is not marked LogAppendTime")
	}
}

func TestTimestampOutOfBoundsIsInvalidTimestamp(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "ts", 1, map[string]*string{"message.timestamp.before.max.ms": kadm.StringPtr("60000")})
	cl := b.client(t, kgo.DefaultProduceTopic("ts"), kgo.RecordRetries(0))
	err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("old"), Timestamp: time.Now().Add(-time.Hour)}).FirstErr()
	if err != kerr.InvalidTimestamp {
		t.Fatalf("err = %v, want INVALID_TIMESTAMP", err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatalf("a current timestamp was refused: %v", err)
	}
}

func TestFailedAcksZeroProduceClosesConnection(t *testing.T) {
	b := startBroker(t, map[string]string{"auto.create.topics.enable": "false"})
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(7)
	req.Acks, req.TimeoutMillis = 0, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "missing"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = []byte{1, 2, 3}
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	c, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frame := append(header16(0, 7, 1), req.AppendTo(nil)...)
	if _, err := c.Write(append(be32(len(frame)), frame...)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after a failed acks=0 produce: %v, want EOF (connection closed)", err)
	}
}

func header16(key, version int16, corr int32) []byte {
	return []byte{byte(key >> 8), byte(key), byte(version >> 8), byte(version), byte(corr >> 24), byte(corr >> 16), byte(corr >> 8), byte(corr), 0, 1, 't'}
}

func be32(n int) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

func TestTopicsAndDataSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	b := startBrokerIn(t, dir, nil)
	createTopic(t, b, "durable", 2, map[string]*string{"retention.ms": kadm.StringPtr("3600000")})
	cl := b.client(t, kgo.DefaultProduceTopic("durable"))
	for i := 0; i < 50; i++ {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("v"), Partition: int32(i % 2)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	clusterID := b.clusterID()
	stopBroker(t, b)
	// The clean stop recorded the logs' recovery points once for the log
	// dir (log.CloseAll); the start takes that file before opening a log.
	closeCheckpoint := filepath.Join(dir, "data", "log-close-checkpoint")
	if _, err := os.Stat(closeCheckpoint); err != nil {
		t.Fatalf("after a clean stop: %v", err)
	}

	b2 := startBrokerIn(t, dir, nil)
	if b2.clusterID() != clusterID {
		t.Fatalf("cluster id changed across restart")
	}
	if _, err := os.Stat(closeCheckpoint); !os.IsNotExist(err) {
		t.Fatalf("the close checkpoint outlived the start: %v", err)
	}
	adm := kadm.NewClient(b2.client(t))
	ends, err := adm.ListEndOffsets(context.Background(), "durable")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 50 {
		t.Fatalf("end offsets sum to %d after restart, want 50", total)
	}
	rc, err := adm.DescribeTopicConfigs(context.Background(), "durable")
	if err != nil {
		t.Fatal(err)
	}
	v, err := rc.On("durable", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range v.Configs {
		if c.Key == "retention.ms" && c.MaybeValue() == "3600000" && c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			found = true
		}
	}
	if !found {
		t.Fatal("retention.ms override lost across restart")
	}
}

// stopBroker runs the broker's cleanup now (stop and wait) so the test can
// reopen the same directory.
func stopBroker(t *testing.T, b *testBroker) {
	t.Helper()
	b.stop()
}

func TestRefusesDataDirOfAnotherCluster(t *testing.T) {
	dir := t.TempDir()
	b := startBrokerIn(t, dir, nil)
	stopBroker(t, b)
	cfg, err := config.Load("", map[string]string{
		"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": dir + "/data",
		"weir.admin.listener": "off", "weir.cluster.id": "someOtherClusterIdAAAA",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "belongs to cluster") {
		t.Fatalf("New on another cluster's data dir: %v", err)
	}
}

func TestCompactedTopicRefusesKeylessRecords(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "compacted", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
	cl := b.client(t, kgo.DefaultProduceTopic("compacted"), kgo.RecordRetries(0))
	err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("no key")}).FirstErr()
	if err != kerr.InvalidRecord {
		t.Fatalf("keyless record on a compacted topic: %v, want INVALID_RECORD", err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("keyed record refused: %v", err)
	}
}

// TestParkedFetchSeesTheWholeProduce: a fetch parked on two partitions
// wakes once a Produce writing both is appended, not after its first
// partition, so the answer carries both (a follower's fetch takes a
// whole request per round).
func TestParkedFetchSeesTheWholeProduce(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "two", 2, nil)
	ctx := context.Background()
	fetch := kmsg.NewPtrFetchRequest()
	fetch.ReplicaID, fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes, fetch.SessionEpoch = -1, 20_000, 1, 1<<20, -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = "two", b.lookup("two", 0).topic.Load().id // Fetch v13+ names topics by id
	for p := range int32(2) {
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = p, 1<<20, -1
		ft.Partitions = append(ft.Partitions, fp)
	}
	fetch.Topics = append(fetch.Topics, ft)
	done := make(chan *kmsg.FetchResponse, 1)
	fetchErr := make(chan error, 1)
	cons := b.client(t)
	go func() {
		resp, err := fetch.RequestWith(ctx, cons)
		fetchErr <- err
		done <- resp
	}()
	poll.True(t, 10*time.Second, "the fetch parked on both partitions", func() bool {
		p0, p1 := b.lookup("two", 0), b.lookup("two", 1)
		return p0 != nil && p1 != nil && p0.rep.Watched() > 0 && p1.rep.Watched() > 0
	})
	prod := kmsg.NewPtrProduceRequest()
	prod.Acks, prod.TimeoutMillis = 1, 10_000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "two"
	for p := range int32(2) {
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Partition, pp.Records = p, recordBatch(-1)
		pt.Partitions = append(pt.Partitions, pp)
	}
	prod.Topics = append(prod.Topics, pt)
	presp, err := prod.RequestWith(ctx, b.client(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range presp.Topics[0].Partitions {
		if p.ErrorCode != 0 {
			t.Fatalf("produce to partition %d: %v", p.Partition, kerr.ErrorForCode(p.ErrorCode))
		}
	}
	if err := <-fetchErr; err != nil {
		t.Fatal(err)
	}
	resp := <-done
	got := 0
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Fatalf("fetch partition %d: %v", rp.Partition, kerr.ErrorForCode(rp.ErrorCode))
			}
			if len(rp.RecordBatches) > 0 {
				got++
			}
		}
	}
	if got != 2 {
		t.Fatalf("the woken fetch carried %d of the produce's 2 partitions", got)
	}
}
