package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// groupProps keep group tests quick: a short initial rebalance delay and
// fewer __consumer_offsets partitions.
var groupProps = map[string]string{
	"group.initial.rebalance.delay.ms": "100",
	"offsets.topic.num.partitions":     "10",
}

// produceN writes n records "v-0".."v-(n-1)" round-robin over topic.
func produceN(t *testing.T, b *brokertest.Broker, topic string, from, n int) {
	t.Helper()
	cl := b.Client(t, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte("v-" + strconv.Itoa(i))})
	}
	produceSync(t, cl, recs...)
}

// groupConsume joins group with a franz-go consumer, reads exactly n
// records, commits them, and leaves. It returns the values read.
func groupConsume(t *testing.T, b *brokertest.Broker, group, topic string, n int, opts ...kgo.Opt) []string {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testContext(t, 60*time.Second)
	var got []string
	for len(got) < n {
		fs := cl.PollRecords(ctx, n-len(got))
		if ctx.Err() != nil {
			t.Fatalf("group %s: read %d of %d: %v", group, len(got), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Errorf("consume %s/%d: %v", topic, p, err) })
		var recs []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r); got = append(got, string(r.Value)) })
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	return got
}

// checkExactlyOnce checks the values v-0..v-(n-1) each appear once.
func checkExactlyOnce(t *testing.T, n int, got []string) {
	t.Helper()
	seen := map[string]int{}
	for _, v := range got {
		seen[v]++
	}
	for i := range n {
		if c := seen["v-"+strconv.Itoa(i)]; c != 1 {
			t.Errorf("v-%d read %d times", i, c)
		}
	}
	if len(got) != n {
		t.Errorf("read %d records, want %d", len(got), n)
	}
}

// TestFranzGoGroupContinuesFromCommit: an eager (range) and a
// cooperative-sticky group each read part of a topic, commit, leave; a new
// consumer in the same group reads the rest, nothing skipped or repeated.
func TestFranzGoGroupContinuesFromCommit(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupProps)
	adm := admin(t, b)
	for _, c := range []struct {
		name string
		opt  kgo.Opt
	}{
		{"eager-range", kgo.Balancers(kgo.RangeBalancer())},
		{"cooperative-sticky", kgo.Balancers(kgo.CooperativeStickyBalancer())},
	} {
		t.Run(c.name, func(t *testing.T) {
			topic := "franz-" + c.name
			createTopic(t, adm, topic, 3, nil)
			produceN(t, b, topic, 0, 90)
			first := groupConsume(t, b, c.name, topic, 40, c.opt)
			second := groupConsume(t, b, c.name, topic, 50, c.opt)
			checkExactlyOnce(t, 90, append(first, second...))
		})
	}
}

// TestThreeMembersShareAndRebalance: three consumers split six partitions
// (each owned once); when one leaves, the others take its partitions.
func TestThreeMembersShareAndRebalance(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupProps)
	adm := admin(t, b)
	const topic, group = "three", "three-members"
	createTopic(t, adm, topic, 6, nil)

	var mu sync.Mutex
	owned := map[int]map[int32]bool{}
	clients := make([]*kgo.Client, 3)
	for i := range clients {
		owned[i] = map[int32]bool{}
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.RebalanceTimeout(10*time.Second),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range m[topic] {
					owned[i][p] = true
				}
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range m[topic] {
					delete(owned[i], p)
				}
			}),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range m[topic] {
					delete(owned[i], p)
				}
			}))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = cl
		t.Cleanup(cl.Close)
	}
	polling, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Add(1)
		go func() { // poll so the clients run their group loops
			defer wg.Done()
			for polling.Err() == nil {
				cl.PollFetches(polling)
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()

	split := func(members []int) error {
		mu.Lock()
		defer mu.Unlock()
		count := map[int32]int{}
		for _, i := range members {
			if len(owned[i]) == 0 {
				return fmt.Errorf("member %d owns nothing: %v", i, owned)
			}
			for p := range owned[i] {
				count[p]++
			}
		}
		for p := int32(0); p < 6; p++ {
			if count[p] != 1 {
				return fmt.Errorf("partition %d owned %d times: %v", p, count[p], owned)
			}
		}
		return nil
	}
	await.For(t, 30*time.Second, "three members to split six partitions", func() error { return split([]int{0, 1, 2}) })
	clients[2].Close()
	mu.Lock()
	owned[2] = map[int32]bool{}
	mu.Unlock()
	await.For(t, 15*time.Second, "two members to take over the leaver's partitions", func() error { return split([]int{0, 1}) })

	described, err := adm.DescribeGroups(testContext(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	if d := described[group]; d.State != "Stable" || len(d.Members) != 2 {
		t.Errorf("describe after the leave: state %s, %d members", d.State, len(d.Members))
	}
}

// TestGroupOffsetsSurviveRestart: committed offsets are reloaded from
// __consumer_offsets after a clean stop and after kill -9.
func TestGroupOffsetsSurviveRestart(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupProps)
	createTopic(t, admin(t, b), "durable", 3, nil)
	produceN(t, b, "durable", 0, 30)
	groupConsume(t, b, "durable-group", "durable", 12)
	want := fetchCommitted(t, b, "durable-group")
	if sum(want) != 12 {
		t.Fatalf("committed %v, want 12 records' worth", want)
	}
	for _, stop := range []struct {
		name string
		f    func()
	}{{"stop", b.Stop}, {"kill -9", b.Kill}} {
		stop.f()
		b.Restart(t)
		var got map[int32]int64
		await.For(t, 20*time.Second, "offsets after "+stop.name, func() error {
			got = fetchCommittedErr(b, "durable-group")
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("after %s: %v, want %v", stop.name, got, want)
			}
			return nil
		})
	}
	rest := groupConsume(t, b, "durable-group", "durable", 18)
	if len(rest) != 18 {
		t.Fatalf("read %d after restarts", len(rest))
	}
}

func sum(m map[int32]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

func fetchCommitted(t *testing.T, b *brokertest.Broker, group string) map[int32]int64 {
	t.Helper()
	var got map[int32]int64
	await.For(t, 20*time.Second, "OffsetFetch "+group, func() error {
		got = fetchCommittedErr(b, group)
		if got == nil {
			return fmt.Errorf("no answer")
		}
		return nil
	})
	return got
}

func fetchCommittedErr(b *brokertest.Broker, group string) map[int32]int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		return nil
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil || resp.Error() != nil {
		return nil
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) { out[o.Partition] = o.At })
	return out
}

// TestConsumerOffsetsReadableLikeBurrow reads __consumer_offsets with a
// plain consumer and decodes Kafka's key and value schemas, as Burrow
// does.
func TestConsumerOffsetsReadableLikeBurrow(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupProps)
	createTopic(t, admin(t, b), "burrowed", 1, nil)
	produceN(t, b, "burrowed", 0, 5)
	groupConsume(t, b, "burrow-group", "burrowed", 5)

	cl := b.Client(t, kgo.ConsumeTopics("__consumer_offsets"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testContext(t, 30*time.Second)
	var sawOffset, sawGroup bool
	for !sawOffset || !sawGroup {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("offset record seen %v, group record seen %v: %v", sawOffset, sawGroup, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			switch int16(r.Key[0])<<8 | int16(r.Key[1]) {
			case 0, 1:
				var k kmsg.OffsetCommitKey
				var v kmsg.OffsetCommitValue
				if err := k.ReadFrom(r.Key); err != nil {
					t.Errorf("offset key: %v", err)
					return
				}
				if r.Value == nil || k.Group != "burrow-group" {
					return
				}
				if err := v.ReadFrom(r.Value); err != nil {
					t.Errorf("offset value: %v", err)
					return
				}
				if k.Topic == "burrowed" && v.Offset == 5 && v.CommitTimestamp > 0 {
					sawOffset = true
				}
			case 2:
				var k kmsg.GroupMetadataKey
				var v kmsg.GroupMetadataValue
				if err := k.ReadFrom(r.Key); err != nil || r.Value == nil {
					return
				}
				if err := v.ReadFrom(r.Value); err != nil {
					t.Errorf("group metadata value: %v", err)
					return
				}
				if k.Group == "burrow-group" && v.ProtocolType == "consumer" && v.Generation > 0 {
					sawGroup = true
				}
			}
		})
	}
}

// TestKcatGroupContinuesFromCommit: kcat -G (librdkafka's balanced
// consumer) reads part of a topic and commits; a second run continues from
// the commit with nothing skipped or repeated.
func TestKcatGroupContinuesFromCommit(t *testing.T) {
	t.Parallel()
	kcat := lookTool(t, "kcat")
	b := startBroker(t, groupProps)
	createTopic(t, admin(t, b), "kcat-group", 2, nil)
	produceN(t, b, "kcat-group", 0, 40)
	first := kcatGroupRead(t, kcat, b, 40)
	produceN(t, b, "kcat-group", 40, 20)
	second := kcatGroupRead(t, kcat, b, 20)
	checkExactlyOnce(t, 60, append(first, second...))
}

// kcatGroupRead runs kcat -G until it printed n lines, then stops it
// with SIGTERM (kcat commits its offsets on the way out).
func kcatGroupRead(t *testing.T, kcat string, b *brokertest.Broker, n int) []string {
	t.Helper()
	ctx := testContext(t, 60*time.Second)
	cmd := exec.CommandContext(ctx, kcat, "-b", b.Addr, "-G", "kcat-g", "-X", "auto.offset.reset=earliest",
		"-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", "-f", "%s\n", "-u", "kcat-group")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got []string
	sc := bufio.NewScanner(out)
	for len(got) < n && sc.Scan() {
		got = append(got, sc.Text())
	}
	if len(got) < n {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("kcat printed %d of %d lines; stderr:\n%s", len(got), n, stderr.String())
	}
	// Wait until the commit of everything read is visible, then stop.
	await.For(t, 20*time.Second, "kcat's commit", func() error {
		c := fetchCommittedErr(b, "kcat-g")
		if sum(c) < int64(countSoFar(t, b)) {
			return fmt.Errorf("committed %v", c)
		}
		return nil
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return got
}

func countSoFar(t *testing.T, b *brokertest.Broker) int64 {
	var n int64
	for _, end := range endOffsets(t, admin(t, b), "kcat-group") {
		n += end
	}
	return n
}

// TestKafkaPythonGroupCommit: kafka-python's KafkaConsumer with a group
// commits manually after part of a topic; a new consumer continues there.
func TestKafkaPythonGroupCommit(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "kafka")
	b := startBroker(t, groupProps)
	createTopic(t, admin(t, b), "py-group", 2, nil)
	produceN(t, b, "py-group", 0, 50)
	run := func(n int) []string {
		ctx := testContext(t, 60*time.Second)
		cmd := exec.CommandContext(ctx, py, "testdata/kafka_python_group.py", b.Addr, "py-group", "py-g", strconv.Itoa(n))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kafka_python_group.py: %v\nstderr:\n%s", err, stderr.String())
		}
		var got []string
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("decode %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
		}
		return got
	}
	first := run(20)
	second := run(30)
	checkExactlyOnce(t, 50, append(first, second...))
	if !strings.HasPrefix(first[0], "v-") {
		t.Fatalf("unexpected values %v", first)
	}
}
