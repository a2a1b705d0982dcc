package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/replication"
	poll "github.com/weirhq/weir/internal/await"
	"github.com/weirhq/weir/internal/vfs"
)

// in matches the files of one partition directory.
func in(partitionDir string) func(string) bool {
	return func(p string) bool {
		return strings.Contains(p, "/"+partitionDir+"/") || strings.HasSuffix(p, "/"+partitionDir)
	}
}

// Disk faults under a partition reach clients as KAFKA_STORAGE_ERROR, for
// that partition only: a write that fails (ENOSPC, a short write) is undone
// and produce works again once the fault clears; a failed fsync takes the
// partition's log offline (produce and fetch answer the error until a
// restart) without touching the others (docs/ONDISK.md, "Storage errors").
func TestStorageFaultsAnswerKafkaStorageError(t *testing.T) {
	dir, fault := t.TempDir(), vfs.NewFault(vfs.Default)
	b := startBrokerOpts(t, dir, nil, Options{FS: fault})
	createTopic(t, b, "full", 1, nil)
	createTopic(t, b, "eio", 1, map[string]*string{"flush.messages": strPtr("1")})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := b.client(t, kgo.RecordRetries(0))
	produce := func(topic, v string) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr()
	}
	for _, topic := range []string{"full", "eio"} {
		if err := produce(topic, "before"); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}

	fault.Inject(vfs.Fault{Ops: vfs.OpWrite, Path: in("full-0"), Err: syscall.ENOSPC, Short: true})
	if err := produce("full", "lost"); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce to a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if err := produce("eio", "unaffected"); err != nil {
		t.Fatalf("another partition: %v", err)
	}
	fault.Clear()
	if err := produce("full", "after"); err != nil {
		t.Fatalf("produce once space is back: %v", err)
	}

	fault.Inject(vfs.Fault{Ops: vfs.OpSync, Path: in("eio-0"), Err: syscall.EIO})
	if err := produce("eio", "not acknowledged"); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce with a failing fsync: %v, want KAFKA_STORAGE_ERROR", err)
	}
	fault.Clear()
	if err := produce("eio", "offline"); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce to a log offline after a failed fsync: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if code := fetchCode(ctx, t, cl, "eio"); code != kerr.KafkaStorageError.Code {
		t.Fatalf("fetch from the offline log: code %d, want KAFKA_STORAGE_ERROR", code)
	}
	if code := fetchCode(ctx, t, cl, "full"); code != 0 {
		t.Fatalf("fetch from the healthy log: code %d", code)
	}

	if got := consumeAll(ctx, t, b, "full", 2); got != "before,after" {
		t.Fatalf("read back %q, want before,after", got)
	}

	// A restart recovers the offline log from its last checkpoint. The
	// batch whose fsync failed was written and may come back (its produce
	// failed, so a client would have retried it: at least once).
	stopBroker(t, b)
	b = startBrokerOpts(t, dir, nil, Options{FS: fault})
	cl = b.client(t, kgo.RecordRetries(0))
	// The restarted broker may not lead the partition yet for its first
	// answer (NOT_LEADER_OR_FOLLOWER and the like): wait that out, but a
	// storage error means the log did not recover.
	poll.For(t, 15*time.Second, "a produce to the recovered log", func() error {
		err := produce("eio", "restarted")
		if errors.Is(err, kerr.KafkaStorageError) {
			t.Fatalf("produce after the restart: %v", err)
		}
		return err
	})
	got := consumeAll(ctx, t, b, "eio", 3)
	if !strings.HasPrefix(got, "before,unaffected,") || !strings.HasSuffix(got, ",restarted") {
		t.Fatalf("read back %q, want before,unaffected,[not acknowledged,]restarted", got)
	}
}

// consumeAll reads topic from the start until it has at least n records
// and the end offsets, and returns their values joined by commas.
func consumeAll(ctx context.Context, t *testing.T, b *testBroker, topic string, n int) string {
	t.Helper()
	ends, err := kadm.NewClient(b.client(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	cons := b.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < n || int64(len(got)) < end.Offset {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return strings.Join(got, ",")
}

// fetchCode fetches partition 0 of topic from offset 0 and returns its
// error code.
func fetchCode(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) int16 {
	t.Helper()
	td, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil || td[topic].Err != nil {
		t.Fatalf("describe %s: %v %v", topic, err, td[topic].Err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxBytes, req.MaxWaitMillis = -1, 1<<20, 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, td[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// The partition logs and the high-watermark checkpoints live on the
// broker's filesystem: a broker runs on an in-memory one (the raft store
// and meta.properties stay on the disk), and finds its data there after a
// restart.
func TestBrokerOnMemFS(t *testing.T) {
	dir, mem := t.TempDir(), vfs.NewMem()
	b := startBrokerOpts(t, dir, nil, Options{FS: mem})
	createTopic(t, b, "inmem", 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := b.client(t, kgo.DefaultProduceTopic("inmem"))
	for _, v := range []string{"a", "b", "c"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	part := filepath.Join(dir, "data", "inmem-0")
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Fatalf("the partition directory is on the disk: %v", err)
	}
	if names, err := mem.List(part); err != nil || len(names) == 0 {
		t.Fatalf("the partition directory in memory: %v %v", names, err)
	}
	stopBroker(t, b)
	b = startBrokerOpts(t, dir, nil, Options{FS: mem})
	if got := consumeAll(ctx, t, b, "inmem", 3); got != "a,b,c" {
		t.Fatalf("after a restart: %q, want a,b,c", got)
	}
	if _, err := mem.Stat(filepath.Join(dir, "data", replication.HWCheckpointFile)); err != nil {
		t.Fatalf("high-watermark checkpoint: %v", err)
	}
}
