package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestCompactedTopicKeepsLatestPerKey: a compacted topic with small,
// quickly rolled segments and a short delete.retention.ms, written with
// many versions of each key (uncompressed and zstd batches) and tombstones,
// is compacted by the broker to exactly the latest value per live key at
// the offset it was written to.
func TestCompactedTopicKeepsLatestPerKey(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	const topic = "compacted"
	createTopic(t, admin(t, b), topic, 1, map[string]*string{
		"cleanup.policy":            strPtr("compact"),
		"segment.bytes":             strPtr("2048"),
		"segment.ms":                strPtr("200"),
		"min.cleanable.dirty.ratio": strPtr("0.01"),
		"delete.retention.ms":       strPtr("300"),
	})
	plain := b.Client(t, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.DefaultProduceTopic(topic))
	zstd := b.Client(t, kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.DefaultProduceTopic(topic))
	type version struct {
		value  string
		offset int64
		tomb   bool
	}
	latest := map[string]version{}
	produced := 0
	write := func(cl *kgo.Client, recs []*kgo.Record) {
		produceSync(t, cl, recs...)
		for _, r := range recs {
			latest[string(r.Key)] = version{string(r.Value), r.Offset, r.Value == nil}
		}
		produced += len(recs)
	}
	const keys, versions = 30, 20
	for v := range versions {
		cl := plain
		if v%2 == 1 {
			cl = zstd
		}
		var recs []*kgo.Record
		for k := range keys {
			recs = append(recs, &kgo.Record{Key: []byte("key-" + strconv.Itoa(k)), Value: fmt.Appendf(nil, "key-%d-v%d", k, v)})
		}
		write(cl, recs)
	}
	var tombs []*kgo.Record
	for k := 0; k < keys; k += 5 {
		tombs = append(tombs, &kgo.Record{Key: []byte("key-" + strconv.Itoa(k))})
	}
	write(plain, tombs)
	last := &kgo.Record{Key: []byte("key-1"), Value: []byte("key-1-final")}
	write(plain, []*kgo.Record{last}) // the last record is live: it is never removed

	await.For(t, 25*time.Second, "the topic compacted to the latest value per live key", func() error {
		recs := readPartition(t, b, topic, last.Offset)
		seen := map[string]bool{}
		for i, r := range recs {
			k := string(r.Key)
			want := latest[k]
			switch {
			case i > 0 && r.Offset <= recs[i-1].Offset:
				t.Fatalf("offset %d after %d", r.Offset, recs[i-1].Offset)
			case r.Value == nil && want.tomb && r.Offset == want.offset:
				return fmt.Errorf("tombstone of %s at %d still there", k, r.Offset)
			case r.Offset != want.offset:
				return fmt.Errorf("%s at %d is not its latest version (at %d)", k, r.Offset, want.offset)
			case string(r.Value) != want.value:
				t.Fatalf("%s at %d: value %q, written %q", k, r.Offset, r.Value, want.value)
			}
			seen[k] = true
		}
		for k, v := range latest {
			if !v.tomb && !seen[k] {
				t.Fatalf("live key %s (latest at %d) is gone", k, v.offset)
			}
		}
		t.Logf("%d records of %d produced remain", len(recs), produced)
		return nil
	})
}

// readPartition reads partition 0 of topic from the start until the record
// at offset last.
func readPartition(t *testing.T, b *brokertest.Broker, topic string, last int64) []*kgo.Record {
	t.Helper()
	cl := b.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) == 0 || out[len(out)-1].Offset < last {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s up to offset %d: %d records read: %v", topic, last, len(out), ctx.Err())
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch %s: %v", topic, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// TestConsumerOffsetsCompacted: __consumer_offsets (cleanup.policy=compact)
// stays bounded under repeated commits of the same group and partition,
// and the coordinator loads the compacted log back to the same offsets.
func TestConsumerOffsetsCompacted(t *testing.T) {
	t.Parallel()
	b := startBroker(t, map[string]string{
		"offsets.topic.num.partitions": "1",
		"offsets.topic.segment.bytes":  "1024",
	})
	adm := admin(t, b)
	createTopic(t, adm, "committed", 2, nil)
	const group, commits = "compacted-group", 400
	ctx := testContext(t, 60*time.Second)
	for i := 1; i <= commits; i++ {
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: "committed", Partition: 0, At: int64(i), LeaderEpoch: -1})
		os.Add(kadm.Offset{Topic: "committed", Partition: 1, At: int64(2 * i), LeaderEpoch: -1})
		resp, err := adm.CommitOffsets(ctx, group, os)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	dir := filepath.Join(b.DataDir, "__consumer_offsets-0")
	written := logBytes(t, dir)
	await.For(t, 20*time.Second, "__consumer_offsets to shrink", func() error {
		if n := logBytes(t, dir); n > 4096 {
			return fmt.Errorf("%d bytes of segments (%d after the commits)", n, written)
		}
		return nil
	})
	checkCommitted := func() error {
		resps, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return err
		}
		for p, want := range map[int32]int64{0: commits, 1: 2 * commits} {
			r, ok := resps.Lookup("committed", p)
			if !ok || r.Err != nil || r.At != want {
				return fmt.Errorf("partition %d: committed %+v (found %v), want %d", p, r, ok, want)
			}
		}
		return nil
	}
	if err := checkCommitted(); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	b.Restart(t)
	await.For(t, 20*time.Second, "the committed offsets after a restart", checkCommitted)
	t.Logf("__consumer_offsets: %d bytes after %d commits, %d after compaction", written, commits, logBytes(t, dir))
}

// logBytes is the size of the segment files in a partition directory.
func logBytes(t *testing.T, dir string) int64 {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range logs {
		if fi, err := os.Stat(l); err == nil {
			n += fi.Size()
		}
	}
	return n
}
