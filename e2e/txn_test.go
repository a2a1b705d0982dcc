package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// Transactions end to end with franz-go (docs/TRANSACTIONS.md).

// consumeToSentinels reads topic from the start with the given isolation
// level until every partition's record "end" (written last, outside any
// transaction) has been seen, and returns the values before it.
func consumeToSentinels(t *testing.T, cl *kgo.Client, topic string, partitions int) map[int32][]string {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	out := map[int32][]string{}
	ended := map[int32]bool{}
	for len(ended) < partitions {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: %v; sentinels seen %v", topic, ctx.Err(), ended)
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Errorf("consume %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == "end" {
				ended[r.Partition] = true
				return
			}
			if ended[r.Partition] {
				t.Errorf("partition %d: %q after the sentinel", r.Partition, r.Value)
			}
			out[r.Partition] = append(out[r.Partition], string(r.Value))
		})
	}
	return out
}

func writeSentinels(t *testing.T, cl *kgo.Client, topic string, partitions int) {
	t.Helper()
	for p := range partitions {
		produceSync(t, cl, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte("end")})
	}
}

// TestTransactionsReadCommitted commits and aborts transactions over three
// partitions: read_committed sees every committed record once, in order,
// and no aborted one; read_uncommitted sees them all.
func TestTransactionsReadCommitted(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	const topic, partitions, txns, perTxn = "txn-rc", 3, 24, 9
	createTopic(t, admin(t, b), topic, partitions, nil)

	p := b.Client(t, kgo.TransactionalID("txn-rc-producer"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(10*time.Second))
	ctx := testContext(t, 30*time.Second)
	want := map[int32][]string{}
	all := map[int32][]string{}
	committed, aborted := 0, 0
	for i := range txns {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		commit := i%3 != 2
		var recs []*kgo.Record
		for j := range perTxn {
			part := int32(j % partitions)
			v := fmt.Sprintf("%d-%d", i, j)
			recs = append(recs, &kgo.Record{Topic: topic, Partition: part, Value: []byte(v)})
			all[part] = append(all[part], v)
			if commit {
				want[part] = append(want[part], v)
			}
		}
		if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("transaction %d: produce: %v", i, err)
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("transaction %d: end (commit %v): %v", i, commit, err)
		}
		if commit {
			committed++
		} else {
			aborted++
		}
	}
	writeSentinels(t, b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), topic, partitions)

	// KIP-664: the transaction is listed and described.
	adm := admin(t, b)
	listed, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil || len(listed.TransactionalIDs()) != 1 || listed.TransactionalIDs()[0] != "txn-rc-producer" {
		t.Errorf("ListTransactions: %v %v", listed.TransactionalIDs(), err)
	}
	described, err := adm.DescribeTransactions(ctx, "txn-rc-producer")
	if d := described["txn-rc-producer"]; err != nil || d.Err != nil || d.State != "CompleteAbort" { // the last one (23) aborts
		t.Errorf("DescribeTransactions: %+v %v", d, err)
	}
	checkUnaddedPartitionRefused(t, b, topic)

	// The coordinator's figures at scrape time.
	_, body := httpGet(t, "http://"+b.AdminAddr+"/metrics")
	samples := parseMetrics(body)
	for name, want := range map[string]int{"weir_txn_coordinator_committed_total": committed, "weir_txn_coordinator_aborted_total": aborted} {
		if v, ok := find(samples, name, nil); !ok || v != float64(want) {
			t.Errorf("%s = %v (found %v), want %d", name, v, ok, want)
		}
	}
	if v, _ := find(samples, "weir_txn_coordinator_transactional_ids", map[string]string{"state": "CompleteAbort"}); v != 1 {
		t.Errorf("transactional ids in CompleteAbort: %v, want 1", v)
	}

	rc := consumeToSentinels(t, b.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted())), topic, partitions)
	ru := consumeToSentinels(t, b.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadUncommitted())), topic, partitions)
	n := 0
	for part := range int32(partitions) {
		if got, w := strings.Join(rc[part], ","), strings.Join(want[part], ","); got != w {
			t.Errorf("read_committed partition %d:\n got %s\nwant %s", part, got, w)
		}
		if got, w := strings.Join(ru[part], ","), strings.Join(all[part], ","); got != w {
			t.Errorf("read_uncommitted partition %d:\n got %s\nwant %s", part, got, w)
		}
		n += len(rc[part])
	}
	t.Logf("%d transactions committed, %d aborted; %d committed records read once by read_committed, %d by read_uncommitted",
		committed, aborted, n, committed*perTxn+aborted*perTxn)
}

// TestKillNineTransactionCoordinator copies a topic to another with
// franz-go's GroupTransactSession (two members, read_committed,
// consume-transform-produce) on three brokers, and kills the broker that
// coordinates a member's transactions with SIGKILL in the middle: the
// copy goes on after the failover, and the output read with
// read_committed holds every input record exactly once, in order per
// partition.
func TestKillNineTransactionCoordinator(t *testing.T) {
	t.Parallel()
	// A follower on the killed broker leaves the ISR soon, as in the other
	// kill tests, so acks=all appends (data, markers, offsets) go on.
	c := brokertest.StartCluster(t, 3, brokertest.Options{Props: map[string]string{"replica.lag.time.max.ms": "3000"}})
	const in, out, group, partitions, perPartition = "eos-in", "eos-out", "eos-copy", 3, 300
	adm := kadm.NewClient(c.Client(t, kgo.MetadataMinAge(10*time.Millisecond)))
	ctx := testContext(t, 60*time.Second)
	for _, topic := range []string{in, out} {
		if _, err := adm.CreateTopic(ctx, partitions, 3, nil, topic); err != nil {
			t.Fatalf("create %s: %v", topic, err)
		}
	}
	src := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p := range partitions {
		for i := range perPartition {
			recs = append(recs, &kgo.Record{Topic: in, Partition: int32(p), Value: []byte(fmt.Sprintf("%d-%d", p, i))})
		}
	}
	produceSync(t, src, recs...)

	var (
		mu           sync.Mutex
		commits      int
		aborts       int
		runCtx, stop = context.WithCancel(context.Background())
		wg           sync.WaitGroup
	)
	t.Cleanup(stop)
	newSession := func(m int) *kgo.GroupTransactSession {
		s, err := kgo.NewGroupTransactSession(
			kgo.SeedBrokers(c.Bootstrap()...),
			kgo.TransactionalID(fmt.Sprintf("eos-copy-%d", m)),
			kgo.TransactionTimeout(10*time.Second),
			kgo.ConsumerGroup(group), kgo.ConsumeTopics(in),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()), // stable offset fetches are always on in franz-go
			kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
			// The group's coordinator dies with the transaction
			// coordinator (__consumer_offsets-17 and
			// __transaction_state-38 share a leader: leaders are
			// placed round-robin and 17 ≡ 38 mod 3). A session closed
			// after a failed End may send its LeaveGroup while no
			// broker coordinates the group; its member then stays
			// until its session times out, and the rebalance the new
			// session starts waits for it (as in Kafka). With
			// franz-go's 45 s default that outlasts the 40 s wait
			// below and both members sit in JoinGroup; 10 s,
			// heartbeating every second, does not.
			kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(time.Second),
		)
		if err != nil {
			t.Error(err)
			return nil
		}
		return s
	}
	for m := range 2 {
		s := newSession(m)
		if s == nil {
			t.FailNow()
		}
		wg.Add(1)
		go func() { // owned by the test: stop ends it, wg waits for it
			defer wg.Done()
			defer func() { s.Close() }()
			for runCtx.Err() == nil {
				fetches := s.PollRecords(runCtx, 40)
				if runCtx.Err() != nil {
					return
				}
				if fetches.NumRecords() == 0 {
					continue
				}
				if err := s.Begin(); err != nil {
					t.Logf("member %d: begin: %v", m, err)
					continue
				}
				fetches.EachRecord(func(r *kgo.Record) {
					s.Produce(runCtx, &kgo.Record{Topic: out, Partition: r.Partition, Value: r.Value}, nil)
				})
				committed, err := s.End(runCtx, kgo.TryCommit)
				mu.Lock()
				if committed {
					commits++
				} else {
					aborts++
				}
				mu.Unlock()
				if err != nil && runCtx.Err() == nil {
					// The client gave up on the transaction (its
					// coordinator's broker died under the EndTxn): as
					// franz-go advises, start over with a new session,
					// whose InitProducerId fences and aborts the old one.
					t.Logf("member %d: end: %v; new session", m, err)
					s.Close()
					if s = newSession(m); s == nil {
						return
					}
				}
			}
		}()
	}

	progress := func() int64 {
		// A fresh client each time: a client caches the group's
		// coordinator, and after the kill that may be the dead broker.
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
		if err != nil {
			return -1 // the group's coordinator is moving
		}
		var n int64
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == in && o.Err == nil {
				n += o.At
			}
		})
		return n
	}
	const total = partitions * perPartition
	await.For(t, 30*time.Second, "a third of the copy committed", func() error {
		if n := progress(); n < total/3 {
			return fmt.Errorf("%d of %d committed", n, total)
		}
		return nil
	})
	// The coordinator of member 0's transactions dies.
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKey, req.CoordinatorType = "eos-copy-0", 1
	resp, err := req.RequestWith(ctx, c.Client(t))
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("find the transaction coordinator: %v %+v", err, resp)
	}
	victim := c.Broker(resp.NodeID)
	if victim == nil && len(resp.Coordinators) > 0 {
		victim = c.Broker(resp.Coordinators[0].NodeID)
	}
	victim.Kill()
	t.Logf("killed broker %d (transaction coordinator) at %d of %d committed", victim.NodeID, progress(), total)
	await.For(t, 40*time.Second, "the whole copy committed after the failover", func() error {
		if n := progress(); n < total {
			return fmt.Errorf("%d of %d committed", n, total)
		}
		return nil
	})
	stop()
	wg.Wait()
	victim.Restart(t)

	writeSentinels(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), out, partitions)
	got := consumeToSentinels(t, c.Client(t, kgo.ConsumeTopics(out), kgo.FetchIsolationLevel(kgo.ReadCommitted())), out, partitions)
	n := 0
	for p := range int32(partitions) {
		var want []string
		for i := range perPartition {
			want = append(want, fmt.Sprintf("%d-%d", p, i))
		}
		if g, w := strings.Join(got[p], ","), strings.Join(want, ","); g != w {
			t.Errorf("output partition %d (%d records):\n got %.300s\nwant %.300s", p, len(got[p]), g, w)
		}
		n += len(got[p])
	}
	mu.Lock()
	t.Logf("%d transactions committed, %d aborted or failed; %d output records read with read_committed, each input record once", commits, aborts, n)
	mu.Unlock()
}

// checkUnaddedPartitionRefused produces a transactional batch to a
// partition its producer never added to its transaction: the leader asks
// the coordinator (KIP-890) and refuses it with INVALID_TXN_STATE; a
// control batch from a client is refused too.
func checkUnaddedPartitionRefused(t *testing.T, b *brokertest.Broker, topic string) {
	t.Helper()
	ctx := testContext(t, 20*time.Second)
	cl := b.Client(t)
	id := "raw-txn"
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &id, 10000
	var ir *kmsg.InitProducerIDResponse
	await.For(t, 15*time.Second, "InitProducerId with a transactional id", func() error {
		var err error
		if ir, err = init.RequestWith(ctx, cl); err != nil {
			return err
		}
		return kerr.ErrorForCode(ir.ErrorCode)
	})
	for _, c := range []struct {
		attrs int16
		want  *kerr.Error
	}{{0x10, kerr.InvalidTxnState}, {0x30, kerr.InvalidTxnState}} {
		rec := kmsg.Record{Value: []byte("x")}
		body := rec.AppendTo(nil)
		rec.Length = int32(len(body) - 1)
		rb := kmsg.RecordBatch{
			PartitionLeaderEpoch: -1, Magic: 2, Attributes: c.attrs, FirstTimestamp: time.Now().UnixMilli(),
			MaxTimestamp: time.Now().UnixMilli(), ProducerID: ir.ProducerID, ProducerEpoch: ir.ProducerEpoch,
			NumRecords: 1, Records: rec.AppendTo(nil),
		}
		raw := rb.AppendTo(nil)
		binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
		binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
		pr := kmsg.NewPtrProduceRequest()
		pr.TransactionID, pr.Acks, pr.TimeoutMillis = &id, -1, 5000
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic = topic
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Partition, pp.Records = 0, raw
		pt.Partitions = append(pt.Partitions, pp)
		pr.Topics = append(pr.Topics, pt)
		resp, err := pr.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("produce: %v", err)
		}
		if got := resp.Topics[0].Partitions[0].ErrorCode; got != c.want.Code {
			t.Errorf("transactional produce (attributes %#x) to a partition not in the transaction: %v, want %v",
				c.attrs, kerr.ErrorForCode(got), c.want)
		}
	}
}

// TestPythonTransactions runs librdkafka's transactional producer
// (python3-confluent-kafka) in a consume-transform-produce loop with
// send_offsets_to_transaction, then an aborted transaction: read_committed
// sees every copied record once and never the aborted ones, which
// read_uncommitted sees.
func TestPythonTransactions(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "confluent_kafka")
	b := startBroker(t, nil)
	adm := admin(t, b)
	const in, out, partitions, count = "py-txn-in", "py-txn-out", 3, 300
	createTopic(t, adm, in, partitions, nil)
	createTopic(t, adm, out, partitions, nil)
	ctx := testContext(t, 90*time.Second)
	cmd := exec.CommandContext(ctx, py, "testdata/confluent_kafka_txn.py", b.Addr, in, out, strconv.Itoa(partitions), strconv.Itoa(count))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("confluent_kafka_txn.py: %v\nstderr:\n%s", err, stderr.String())
	}
	var got struct {
		Committed    map[string][]string `json:"committed"`
		Uncommitted  map[string][]string `json:"uncommitted"`
		Transactions int                 `json:"transactions"`
		Errors       []string            `json:"errors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode output %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
	}
	for _, e := range got.Errors {
		t.Errorf("client reported: %s", e)
	}
	n := 0
	for p := range partitions {
		var want []string
		for i := p; i < count; i += partitions {
			want = append(want, fmt.Sprintf("v%d", i))
		}
		key := strconv.Itoa(p)
		if g, w := strings.Join(got.Committed[key], ","), strings.Join(want, ","); g != w {
			t.Errorf("read_committed partition %d:\n got %.200s\nwant %.200s", p, g, w)
		}
		if g, w := strings.Join(got.Uncommitted[key], ","), strings.Join(append(want, "aborted"), ","); g != w {
			t.Errorf("read_uncommitted partition %d:\n got %.200s\nwant %.200s", p, g, w)
		}
		n += len(got.Committed[key])
	}
	t.Logf("librdkafka: %d transactions committed, 1 aborted; %d records read once with read_committed", got.Transactions, n)
}
