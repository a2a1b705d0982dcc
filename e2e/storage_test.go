package e2e

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

const provisionedKey = "weir.storage.provisioned.bytes"

// TestProvisionedStorage fills a broker's provisioned storage with an
// idempotent acks=all producer: produce fails with KAFKA_STORAGE_ERROR and
// a message naming the figures, the broker stays up, every acknowledged
// record stays readable, DescribeLogDirs and /metrics report the size and
// the bytes used; growing the size with IncrementalAlterConfigs on the
// broker resource lets the same producer go on without a restart, and
// deleting a topic gives its bytes back.
func TestProvisionedStorage(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	adm := admin(t, b)
	ctx := testContext(t, 3*time.Minute)
	createTopic(t, adm, "fill", 3, nil)
	createTopic(t, adm, "spare", 1, nil)
	seed := b.Client(t, kgo.DefaultProduceTopic("spare"))
	for range 4 {
		produceSync(t, seed, values("spare", 16, 8<<10)...)
	}

	const size = 4 << 20
	setProvisioned(t, ctx, adm, b, size)
	await.For(t, 30*time.Second, "DescribeLogDirs to report the provisioned size", func() error {
		d := describeDir(t, ctx, adm, b)
		if d.TotalBytes != size {
			return fmt.Errorf("TotalBytes %d", d.TotalBytes)
		}
		return nil
	})

	pr := fillingProducer(t, b, "fill")
	acked := map[string][]byte{}
	err := fillUntilRefused(t, ctx, pr, "fill", acked)
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce past the provisioned size: %v, want KAFKA_STORAGE_ERROR", err)
	}
	t.Logf("%d records acknowledged before the refusal", len(acked))

	checkRefusalMessage(t, ctx, pr, b.NodeID, "fill", `4\.00 MiB`)
	if !b.Running() {
		t.Fatal("the broker exited when its storage filled")
	}
	d := describeDir(t, ctx, adm, b)
	used := d.Size()
	if d.TotalBytes != size || d.UsableBytes != max(size-used, 0) || used > size {
		t.Fatalf("full: DescribeLogDirs total %d usable %d, partitions hold %d; want total %d, usable = total - used, used <= total",
			d.TotalBytes, d.UsableBytes, used, size)
	}
	checkStorageMetrics(t, b, size, used)
	checkReadable(t, ctx, b, "fill", acked)

	setProvisioned(t, ctx, adm, b, 64<<20)
	await.For(t, 30*time.Second, "produce to succeed after growing the provisioned size", func() error {
		rec := &kgo.Record{Key: []byte("after-grow"), Value: []byte("more room")}
		if err := pr.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return err
		}
		acked["after-grow"] = rec.Value
		return nil
	})
	// The broker's output reaches Logs through a pipe: wait for the line.
	await.For(t, 10*time.Second, "the broker to log the full episode once, and its end", func() error {
		logs := b.Logs()
		if n := strings.Count(logs, "storage full: refusing produce"); n != 1 || !strings.Contains(logs, "storage has room again") {
			return fmt.Errorf("logged the start %d times, the end %v", n, strings.Contains(logs, "storage has room again"))
		}
		return nil
	})
	grown := values("grown", 64, 8<<10) // 512 KiB: well past the old size
	produceSync(t, pr, grown...)
	for _, r := range grown {
		acked[string(r.Key)] = r.Value
	}
	checkReadable(t, ctx, b, "fill", acked)

	before := describeDir(t, ctx, adm, b)
	spare := before.Topics["spare"][0].Size
	if resp, err := adm.DeleteTopics(ctx, "spare"); err != nil || resp.Error() != nil {
		t.Fatalf("DeleteTopics spare: %v %v", err, resp.Error())
	}
	await.For(t, 30*time.Second, "deleting a topic to give its bytes back", func() error {
		d := describeDir(t, ctx, adm, b)
		if d.UsableBytes != before.UsableBytes+spare {
			return fmt.Errorf("usable %d, was %d before deleting %d bytes", d.UsableBytes, before.UsableBytes, spare)
		}
		return nil
	})
}

// TestProvisionedStorageStatic: a size in server.properties is in force
// from the start, reported by DescribeConfigs as static and by
// DescribeLogDirs, and enforced.
func TestProvisionedStorageStatic(t *testing.T) {
	t.Parallel()
	const size = 2 << 20
	b := startBroker(t, map[string]string{provisionedKey: strconv.Itoa(size)})
	adm := admin(t, b)
	ctx := testContext(t, 2*time.Minute)

	cfgs, err := adm.DescribeBrokerConfigs(ctx, b.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfgs.On(strconv.Itoa(int(b.NodeID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, kv := range c.Configs {
		if kv.Key == provisionedKey {
			found = true
			if kv.MaybeValue() != strconv.Itoa(size) || kv.Source != kmsg.ConfigSourceStaticBrokerConfig {
				t.Errorf("DescribeConfigs %s = %q (%v), want %d from the static config", provisionedKey, kv.MaybeValue(), kv.Source, size)
			}
		}
	}
	if !found {
		t.Errorf("DescribeConfigs lacks %s", provisionedKey)
	}
	if d := describeDir(t, ctx, adm, b); d.TotalBytes != size || d.UsableBytes != size {
		t.Fatalf("DescribeLogDirs total %d usable %d, want both %d", d.TotalBytes, d.UsableBytes, size)
	}

	createTopic(t, adm, "static", 2, nil)
	pr := fillingProducer(t, b, "static")
	acked := map[string][]byte{}
	if err := fillUntilRefused(t, ctx, pr, "static", acked); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce past the static provisioned size: %v, want KAFKA_STORAGE_ERROR", err)
	}
	checkRefusalMessage(t, ctx, pr, b.NodeID, "static", `2\.00 MiB`)
	if used := describeDir(t, ctx, adm, b).Size(); used > size {
		t.Fatalf("%d bytes used, over the provisioned %d", used, size)
	}
	checkReadable(t, ctx, b, "static", acked)
}

// TestProvisionedBeyondTheFilesystemWarns: a size larger than the
// filesystem can hold is reported as set, and warned about at start with
// both figures.
func TestProvisionedBeyondTheFilesystemWarns(t *testing.T) {
	t.Parallel()
	const size = 1 << 60 // 1 EiB
	b := startBroker(t, map[string]string{provisionedKey: strconv.Itoa(size)})
	await.For(t, 10*time.Second, "the overcommit warning", func() error {
		logs := b.Logs()
		for _, want := range []string{"is more than the filesystem can hold", "1.00 EiB", "used +", "free ="} {
			if !strings.Contains(logs, want) {
				return fmt.Errorf("the broker's log lacks %q", want)
			}
		}
		return nil
	})
	ctx := testContext(t, time.Minute)
	if d := describeDir(t, ctx, admin(t, b), b); d.TotalBytes != size {
		t.Fatalf("DescribeLogDirs total %d, want %d", d.TotalBytes, int64(size))
	}
}

// values returns n records keyed prefix-i with random values of size
// bytes: they do not compress, so they take their size on disk.
func values(prefix string, n, size int) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range out {
		v := make([]byte, size)
		crand.Read(v)
		out[i] = &kgo.Record{Key: []byte(fmt.Sprintf("%s-%d", prefix, i)), Value: v}
	}
	return out
}

// fillingProducer is an idempotent acks=all producer to topic that gives
// up on a record after two retries; each retry of a KAFKA_STORAGE_ERROR
// waits for a metadata refresh, so their minimum age is short.
func fillingProducer(t *testing.T, b *brokertest.Broker, topic string) *kgo.Client {
	return b.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordRetries(2),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
		kgo.MetadataMinAge(50*time.Millisecond))
}

// fillUntilRefused produces rounds of 8 KiB records until one fails, noting
// every acknowledged record's value by key, and returns the first error.
func fillUntilRefused(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, acked map[string][]byte) error {
	t.Helper()
	for round := range 1000 {
		recs := values(fmt.Sprintf("%s-r%d", topic, round), 16, 8<<10)
		res := cl.ProduceSync(ctx, recs...)
		for _, r := range res {
			if r.Err == nil {
				acked[string(r.Record.Key)] = r.Record.Value
			}
		}
		if err := res.FirstErr(); err != nil {
			return err
		}
	}
	t.Fatal("1000 rounds of 128 KiB produced without a refusal")
	return nil
}

// checkRefusalMessage sends a Produce (v8+: it carries an error message)
// straight to the full broker and checks its error code and message. Its
// batch, 512 KiB, is larger than any batch fillUntilRefused sends (one
// round, 128 KiB, at most), so it cannot fit in the room a refusal left.
func checkRefusalMessage(t *testing.T, ctx context.Context, cl *kgo.Client, node int32, topic, size string) {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = recordBatch(bytes.Repeat([]byte("z"), 512<<10))
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("raw produce: %v", err)
	}
	if resp.Version < 8 {
		t.Fatalf("produce v%d has no error message", resp.Version)
	}
	sp := resp.Topics[0].Partitions[0]
	want := regexp.MustCompile(fmt.Sprintf(`^broker %d's provisioned storage is full: \d+\.\d\d [KM]iB used of %s \(weir\.storage\.provisioned\.bytes\); grow it or delete data$`, node, size))
	if sp.ErrorCode != kerr.KafkaStorageError.Code || sp.ErrorMessage == nil || !want.MatchString(*sp.ErrorMessage) {
		msg := "<nil>"
		if sp.ErrorMessage != nil {
			msg = *sp.ErrorMessage
		}
		t.Fatalf("refused produce: code %d message %q; want %d matching %s", sp.ErrorCode, msg, kerr.KafkaStorageError.Code, want)
	}
	t.Logf("refusal: %s", *sp.ErrorMessage)
}

// setProvisioned sets the size on b with IncrementalAlterConfigs on its
// broker resource.
func setProvisioned(t *testing.T, ctx context.Context, adm *kadm.Client, b *brokertest.Broker, n int64) {
	t.Helper()
	v := strconv.FormatInt(n, 10)
	resp, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: provisionedKey, Value: &v}}, b.NodeID)
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = fmt.Errorf("%v: %s", r.Err, r.ErrMessage)
			}
		}
	}
	if err != nil {
		t.Fatalf("IncrementalAlterConfigs %s=%s on broker %d: %v", provisionedKey, v, b.NodeID, err)
	}
}

// describeDir is b's one log dir as DescribeLogDirs reports it.
func describeDir(t *testing.T, ctx context.Context, adm *kadm.Client, b *brokertest.Broker) kadm.DescribedLogDir {
	t.Helper()
	dirs, err := adm.DescribeBrokerLogDirs(ctx, b.NodeID, nil)
	if err == nil {
		err = dirs.Error()
	}
	if err != nil {
		t.Fatalf("DescribeLogDirs: %v", err)
	}
	d, ok := dirs[b.DataDir]
	if !ok || len(dirs) != 1 {
		t.Fatalf("log dirs %v, want only %s", keys(dirs), b.DataDir)
	}
	return d
}

// checkStorageMetrics checks the storage gauges on the admin /metrics.
func checkStorageMetrics(t *testing.T, b *brokertest.Broker, provisioned, used int64) {
	t.Helper()
	code, body := httpGet(t, "http://"+b.AdminAddr+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	samples := parseMetrics(body)
	for name, want := range map[string]int64{
		"weir_broker_storage_provisioned_bytes": provisioned,
		"weir_broker_storage_used_bytes":        used,
		"weir_broker_storage_limit_bytes":       provisioned,
	} {
		if got, ok := find(samples, name, nil); !ok || int64(got) != want {
			t.Errorf("%s = %v (found %v), want %d", name, got, ok, want)
		}
	}
}

// checkReadable consumes topic from the start until every acknowledged
// record has been read back with its value.
func checkReadable(t *testing.T, ctx context.Context, b *brokertest.Broker, topic string, acked map[string][]byte) {
	t.Helper()
	cons := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	missing := make(map[string][]byte, len(acked))
	for k, v := range acked {
		missing[k] = v
	}
	await.For(t, 60*time.Second, "every acknowledged record to be read back", func() error {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		fs := cons.PollFetches(pctx)
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) {
				return fmt.Errorf("fetch %s/%d: %w", e.Topic, e.Partition, e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if want, ok := missing[string(r.Key)]; ok && bytes.Equal(want, r.Value) {
				delete(missing, string(r.Key))
			}
		})
		if len(missing) > 0 {
			return fmt.Errorf("%d of %d acknowledged records not read yet", len(missing), len(acked))
		}
		return nil
	})
}
