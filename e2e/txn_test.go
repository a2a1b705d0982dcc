package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os/exec"
	"slices"
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

// TestKillNineTransactionCoordinatorAndLeaders copies a topic to another
// with franz-go's GroupTransactSession (three members, read_committed,
// consume-transform-produce) on three brokers while the input is still
// being written, and kills with SIGKILL, one after the other, the broker
// coordinating a member's transactions, the leader of an output partition
// and the leader of an input partition, restarting each before the next:
// the copy goes on through every outage, and afterwards the output read
// with read_committed is, partition by partition, exactly the input: every
// input record once, in order.
func TestKillNineTransactionCoordinatorAndLeaders(t *testing.T) {
	t.Parallel()
	// A follower on the killed broker leaves the ISR soon, as in the other
	// kill tests, so acks=all appends (data, markers, offsets) go on.
	c := brokertest.StartCluster(t, 3, brokertest.Options{Props: map[string]string{"replica.lag.time.max.ms": "3000"}})
	const partitions, perPartition, members = 6, 200, 3
	e := &eosCopy{t: t, c: c, in: "eos-in", out: "eos-out", group: "eos-copy", partitions: partitions}
	e.adm = kadm.NewClient(c.Client(t, kgo.MetadataMinAge(10*time.Millisecond)))
	ctx := testContext(t, 90*time.Second)
	for _, topic := range []string{e.in, e.out} {
		if _, err := e.adm.CreateTopic(ctx, partitions, 3, nil, topic); err != nil {
			t.Fatalf("create %s: %v", topic, err)
		}
	}
	// The input is written in four quarters, one before the copy starts
	// and one during each outage, by an idempotent producer (acks=all).
	src := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1000))
	const total, quarter = partitions * perPartition, perPartition / 4
	writeQuarter := func(q int) {
		var recs []*kgo.Record
		for p := range partitions {
			for i := q * quarter; i < (q+1)*quarter; i++ {
				recs = append(recs, &kgo.Record{Topic: e.in, Partition: int32(p), Value: []byte(fmt.Sprintf("%d-%d", p, i))})
			}
		}
		produceSync(t, src, recs...)
	}
	writeQuarter(0)
	for m := range members {
		e.startMember(m)
	}
	e.awaitProgress(total/8, 30*time.Second, "an eighth of the copy committed")

	killed := map[int32]bool{}
	kill := func(b *brokertest.Broker, why string, q int) {
		at := e.progress()
		b.Kill()
		killed[b.NodeID] = true
		t.Logf("killed broker %d (%s) at %d of %d committed", b.NodeID, why, at, total)
		start := time.Now()
		writeQuarter(q)
		// The copy goes on without it: past everything written before the kill.
		e.awaitProgress(q*total/4+total/8, 40*time.Second, fmt.Sprintf("the copy going on without broker %d", b.NodeID))
		resumed := time.Since(start)
		b.Restart(t)
		if q < 3 { // the next kill must leave min.insync.replicas everywhere
			e.awaitFullISR(3, e.in, e.out, "__consumer_offsets", "__transaction_state")
		}
		t.Logf("broker %d: copy past the kill after %v, restarted (and back in every ISR before another kill) after %v", b.NodeID,
			resumed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}
	kill(e.txnCoordinator("eos-copy-0"), "transaction coordinator of eos-copy-0", 1)
	kill(e.leaderOf(e.out, killed), "leader of an output partition", 2)
	kill(e.leaderOf(e.in, killed), "leader of an input partition", 3)
	e.awaitProgress(total, 40*time.Second, "the whole copy committed")
	e.stopMembers()

	// The input itself: every record written once, in order (idempotence
	// across the input leader's kill).
	in := e.readCommitted(e.in)
	out := e.readCommitted(e.out)
	n := 0
	for p := range int32(partitions) {
		var want []string
		for i := range perPartition {
			want = append(want, fmt.Sprintf("%d-%d", p, i))
		}
		if g, w := strings.Join(in[p], ","), strings.Join(want, ","); g != w {
			t.Errorf("input partition %d (%d records):\n got %.300s\nwant %.300s", p, len(in[p]), g, w)
		}
		if g, w := strings.Join(out[p], ","), strings.Join(want, ","); g != w {
			t.Errorf("output partition %d (%d records):\n got %.300s\nwant %.300s", p, len(out[p]), g, w)
		}
		n += len(out[p])
	}
	e.checkDescribeProducersReplicas()
	e.mu.Lock()
	t.Logf("%d members, %d brokers killed; %d transactions committed, %d aborted or failed, %d sessions restarted; %d output records read with read_committed, each input record once, in order",
		members, len(killed), e.commits, e.aborts, e.restarts, n)
	e.mu.Unlock()
}

// eosCopy runs GroupTransactSession members copying in to out, partition
// for partition.
type eosCopy struct {
	t               *testing.T
	c               *brokertest.Cluster
	adm             *kadm.Client
	in, out, group  string
	partitions      int
	wg              sync.WaitGroup
	stop            context.CancelFunc
	runCtx          context.Context
	mu              sync.Mutex
	commits, aborts int
	restarts        int
}

func (e *eosCopy) newSession(m int) *kgo.GroupTransactSession {
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(e.c.Bootstrap()...),
		kgo.TransactionalID(fmt.Sprintf("%s-%d", e.group, m)),
		kgo.TransactionTimeout(10*time.Second),
		kgo.ConsumerGroup(e.group), kgo.ConsumeTopics(e.in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), // stable offset fetches are always on in franz-go
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		// A session closed after a failed End may send its LeaveGroup
		// while no broker coordinates the group (the group's
		// coordinator can die with the transaction coordinator); its
		// member then stays until its session times out, and the
		// rebalance the new session starts waits for it (as in Kafka).
		// With franz-go's 45 s default that outlasts the waits below;
		// 10 s, heartbeating every second, does not.
		kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(time.Second),
	)
	if err != nil {
		e.t.Error(err)
		return nil
	}
	return s
}

// startMember runs member m on a goroutine owned by the test (stopMembers
// ends and waits for it).
func (e *eosCopy) startMember(m int) {
	if e.runCtx == nil {
		e.runCtx, e.stop = context.WithCancel(context.Background())
		e.t.Cleanup(e.stopMembers)
	}
	s := e.newSession(m)
	if s == nil {
		e.t.FailNow()
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() { s.Close() }()
		for e.runCtx.Err() == nil {
			if s = e.copyOnce(m, s); s == nil {
				return
			}
		}
	}()
}

// copyOnce copies one poll's records in one transaction, returning the
// session to go on with: a new one when the client gave up on the
// transaction (its coordinator's broker died under the EndTxn; as
// franz-go advises, the new session's InitProducerId fences and aborts
// the old one).
func (e *eosCopy) copyOnce(m int, s *kgo.GroupTransactSession) *kgo.GroupTransactSession {
	ctx := e.runCtx
	fetches := s.PollRecords(ctx, 40)
	if ctx.Err() != nil || fetches.NumRecords() == 0 {
		return s
	}
	if err := s.Begin(); err != nil {
		e.t.Logf("member %d: begin: %v", m, err)
		return s
	}
	fetches.EachRecord(func(r *kgo.Record) {
		s.Produce(ctx, &kgo.Record{Topic: e.out, Partition: r.Partition, Value: r.Value}, nil)
	})
	committed, err := s.End(ctx, kgo.TryCommit)
	e.mu.Lock()
	if committed {
		e.commits++
	} else {
		e.aborts++
	}
	e.mu.Unlock()
	if err == nil || ctx.Err() != nil {
		return s
	}
	e.t.Logf("member %d: end: %v; new session", m, err)
	s.Close()
	e.mu.Lock()
	e.restarts++
	e.mu.Unlock()
	return e.newSession(m)
}

func (e *eosCopy) stopMembers() {
	if e.stop != nil {
		e.stop()
	}
	e.wg.Wait()
}

// progress is the sum of the group's committed offsets of the input, -1
// while its coordinator moves.
func (e *eosCopy) progress() int64 {
	// A fresh client each time: a client caches the group's
	// coordinator, and after a kill that may be the dead broker.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.c.Bootstrap()...))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, e.group)
	if err != nil {
		return -1
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == e.in && o.Err == nil {
			n += o.At
		}
	})
	return n
}

func (e *eosCopy) awaitProgress(want int, timeout time.Duration, what string) {
	e.t.Helper()
	await.For(e.t, timeout, what, func() error {
		if n := e.progress(); n < int64(want) {
			return fmt.Errorf("%d of %d committed", n, want)
		}
		return nil
	})
}

// txnCoordinator is the broker coordinating a transactional id.
func (e *eosCopy) txnCoordinator(id string) *brokertest.Broker {
	e.t.Helper()
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKey, req.CoordinatorType = id, 1
	resp, err := req.RequestWith(testContext(e.t, 10*time.Second), e.c.Client(e.t))
	if err != nil || resp.ErrorCode != 0 {
		e.t.Fatalf("find the transaction coordinator of %s: %v %+v", id, err, resp)
	}
	node := resp.NodeID
	if len(resp.Coordinators) > 0 {
		node = resp.Coordinators[0].NodeID
	}
	return e.c.Broker(node)
}

// leaderOf is the leader of one of topic's partitions, a broker not yet
// killed when one leads any.
func (e *eosCopy) leaderOf(topic string, killed map[int32]bool) *brokertest.Broker {
	e.t.Helper()
	md, err := e.adm.Metadata(testContext(e.t, 10*time.Second), topic)
	if err != nil {
		e.t.Fatalf("metadata of %s: %v", topic, err)
	}
	leader := int32(-1)
	for _, p := range md.Topics[topic].Partitions.Sorted() {
		if p.Leader >= 0 && (leader < 0 || killed[leader] && !killed[p.Leader]) {
			leader = p.Leader
		}
	}
	if leader < 0 {
		e.t.Fatalf("%s has no leader", topic)
	}
	return e.c.Broker(leader)
}

// awaitFullISR waits until every partition of the topics has n in-sync
// replicas, so the next kill leaves a quorum everywhere.
func (e *eosCopy) awaitFullISR(n int, topics ...string) {
	e.t.Helper()
	await.For(e.t, 60*time.Second, fmt.Sprintf("%d in-sync replicas everywhere", n), func() error {
		md, err := e.adm.Metadata(context.Background(), topics...)
		if err != nil {
			return err
		}
		for _, topic := range topics {
			td, ok := md.Topics[topic]
			if !ok || td.Err != nil || len(td.Partitions) == 0 {
				return fmt.Errorf("topic %s: %v", topic, td.Err)
			}
			for _, p := range td.Partitions {
				if len(p.ISR) != n || p.Leader < 0 {
					return fmt.Errorf("%s/%d leader %d ISR %v", topic, p.Partition, p.Leader, p.ISR)
				}
			}
		}
		return nil
	})
}

// checkDescribeProducersReplicas asks every broker for the producers of
// an input partition: followers answer too, as in Kafka, with the
// leader's producer state (it came with replication, across the kills);
// a broker without a replica answers NOT_LEADER_OR_FOLLOWER.
func (e *eosCopy) checkDescribeProducersReplicas() {
	e.t.Helper()
	ask := func(id int32, topic string) (kmsg.DescribeProducersResponseTopicPartition, error) {
		req := kmsg.NewPtrDescribeProducersRequest()
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{0}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(testContext(e.t, 10*time.Second), e.c.Client(e.t).Broker(int(id)))
		if err != nil {
			return kmsg.DescribeProducersResponseTopicPartition{}, err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return kmsg.DescribeProducersResponseTopicPartition{}, fmt.Errorf("answer %+v", resp)
		}
		return resp.Topics[0].Partitions[0], nil
	}
	await.For(e.t, 30*time.Second, "every replica describing the same producers", func() error {
		var first string
		for _, b := range e.c.Brokers {
			sp, err := ask(b.NodeID, e.in)
			if err != nil || sp.ErrorCode != 0 || len(sp.ActiveProducers) == 0 {
				return fmt.Errorf("broker %d: %+v %v", b.NodeID, sp, err)
			}
			slices.SortFunc(sp.ActiveProducers, func(a, b kmsg.DescribeProducersResponseTopicPartitionActiveProducer) int {
				return cmp.Compare(a.ProducerID, b.ProducerID)
			})
			got := fmt.Sprintf("%+v", sp.ActiveProducers)
			if first == "" {
				first = got
			} else if got != first {
				return fmt.Errorf("broker %d: %s, another broker %s", b.NodeID, got, first)
			}
		}
		return nil
	})
	if _, err := e.adm.CreateTopic(testContext(e.t, 20*time.Second), 1, 1, nil, "eos-single"); err != nil {
		e.t.Fatalf("create eos-single: %v", err)
	}
	var leader int32 = -1
	await.For(e.t, 20*time.Second, "eos-single's leader", func() error {
		l, _, err := partitionState(context.Background(), e.adm, "eos-single", 0)
		if err != nil || l < 0 {
			return fmt.Errorf("leader %d: %v", l, err)
		}
		leader = l
		return nil
	})
	other := e.c.Brokers[0].NodeID
	if other == leader {
		other = e.c.Brokers[1].NodeID
	}
	// Until broker other has the topic in its metadata it answers
	// UNKNOWN_TOPIC_OR_PARTITION, as Kafka's metadata cache would.
	await.For(e.t, 20*time.Second, fmt.Sprintf("NOT_LEADER_OR_FOLLOWER from broker %d, which has no replica of eos-single-0", other), func() error {
		if sp, err := ask(other, "eos-single"); err != nil || sp.ErrorCode != kerr.NotLeaderForPartition.Code {
			return fmt.Errorf("%+v %v", sp, err)
		}
		return nil
	})
}

// readCommitted reads topic with read_committed after writing a sentinel
// to each partition, and returns the values before the sentinels.
func (e *eosCopy) readCommitted(topic string) map[int32][]string {
	writeSentinels(e.t, e.c.Client(e.t, kgo.RecordPartitioner(kgo.ManualPartitioner())), topic, e.partitions)
	cl := e.c.Client(e.t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	return consumeToSentinels(e.t, cl, topic, e.partitions)
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

// TestAbortHangingTransaction finds an open transaction through
// DescribeProducers (kadm, KIP-664) and aborts it with `weir txn abort
// --start-offset`, as kafka-transactions.sh abort does: the producer's
// fields are Kafka's, the partition's last stable offset moves past the
// marker, and read_committed drops the aborted records.
func TestAbortHangingTransaction(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	const topic = "hang"
	adm := admin(t, b)
	createTopic(t, adm, topic, 2, nil)
	ctx := testContext(t, 60*time.Second)
	plain := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceSync(t, plain, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("a")}, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("b")})
	// A transaction left open (its timeout outlasts the test) from offset 2.
	before := time.Now().UnixMilli()
	txp := b.Client(t, kgo.TransactionalID("hanging"), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(5*time.Minute))
	if err := txp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"x", "y", "z"} {
		produceSync(t, txp, &kgo.Record{Topic: topic, Partition: 1, Value: []byte(v)})
	}
	after := time.Now().UnixMilli()

	described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{topic: {0: {}, 1: {}}})
	if err != nil {
		t.Fatalf("DescribeProducers: %v", err)
	}
	dp := described[topic].Partitions[1]
	if dp.Err != nil || len(dp.ActiveProducers) != 2 || len(described[topic].Partitions[0].ActiveProducers) != 0 {
		t.Fatalf("DescribeProducers: %+v", described)
	}
	var txnProducer, idempotent kadm.DescribedProducer
	for _, p := range dp.ActiveProducers {
		if p.CurrentTxnStartOffset >= 0 {
			txnProducer = p
		} else {
			idempotent = p
		}
	}
	if txnProducer.CurrentTxnStartOffset != 2 || txnProducer.LastSequence != 2 || txnProducer.CoordinatorEpoch != -1 ||
		txnProducer.LastTimestamp < before || txnProducer.LastTimestamp > after {
		t.Errorf("the open transaction's producer: %+v (produced between %d and %d)", txnProducer, before, after)
	}
	if idempotent.ProducerID < 0 || idempotent.LastSequence != 1 || idempotent.CoordinatorEpoch != -1 {
		t.Errorf("the idempotent producer: %+v", idempotent)
	}
	checkDescribeProducersErrors(t, b)
	if lso := committedEnd(t, adm, topic, 1); lso != 2 {
		t.Fatalf("last stable offset %d, want 2 (the open transaction's start)", lso)
	}

	bin := brokertest.Binary(t)
	type producerRow struct {
		ProducerID     int64 `json:"producer_id"`
		TxnStartOffset int64 `json:"current_txn_start_offset"`
	}
	var rows []producerRow
	listed := runWeir(t, bin, "txn", "producers", "--brokers", b.Addr, "--topic", topic, "--partition", "1", "-o", "json")
	if err := json.Unmarshal([]byte(listed), &rows); err != nil || len(rows) != 2 ||
		!slices.Contains(rows, producerRow{txnProducer.ProducerID, 2}) {
		t.Errorf("weir txn producers: %v\n%s", err, listed)
	}
	if out, code := runWeirCode(t, bin, "txn", "abort", "--brokers", b.Addr, "--topic", topic, "--partition", "1", "--start-offset", "3"); code == 0 ||
		!strings.Contains(out, "no open transaction starts at offset 3") {
		t.Errorf("abort at an offset no transaction starts at: exit %d\n%s", code, out)
	}
	out := runWeir(t, bin, "txn", "abort", "--brokers", b.Addr, "--topic", topic, "--partition", "1", "--start-offset", "2")
	if want := fmt.Sprintf("aborted the transaction of producer %d (epoch %d, coordinator epoch 0) on %s-1", txnProducer.ProducerID, txnProducer.ProducerEpoch, topic); !strings.Contains(out, want) {
		t.Errorf("abort printed %q, want %q", out, want)
	}
	if lso := committedEnd(t, adm, topic, 1); lso != 6 {
		t.Errorf("last stable offset after the abort %d, want 6 (past the marker)", lso)
	}
	described, err = adm.DescribeProducers(ctx, kadm.TopicsSet{topic: {1: {}}})
	if p := described[topic].Partitions[1].ActiveProducers[txnProducer.ProducerID]; err != nil || p.CurrentTxnStartOffset != -1 || p.CoordinatorEpoch != 0 {
		t.Errorf("after the abort: %+v %v", p, err)
	}
	writeSentinels(t, plain, topic, 2)
	got := consumeToSentinels(t, b.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted())), topic, 2)
	if g := strings.Join(got[1], ","); g != "a,b" {
		t.Errorf("read_committed partition 1: %s, want a,b", g)
	}
}

// committedEnd is a partition's end offset for read_committed: its last
// stable offset.
func committedEnd(t *testing.T, adm *kadm.Client, topic string, p int32) int64 {
	t.Helper()
	listed, err := adm.ListCommittedOffsets(testContext(t, 10*time.Second), topic)
	if err != nil {
		t.Fatalf("ListCommittedOffsets: %v", err)
	}
	o, ok := listed.Lookup(topic, p)
	if !ok || o.Err != nil {
		t.Fatalf("ListCommittedOffsets %s-%d: %+v", topic, p, o)
	}
	return o.Offset
}

// checkDescribeProducersErrors sends DescribeProducers straight to the
// broker for what it does not have: Kafka's error codes per partition.
func checkDescribeProducersErrors(t *testing.T, b *brokertest.Broker) {
	t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	for name, parts := range map[string][]int32{"hang": {9}, "nosuchtopic": {0}, "bad/name": {0}} {
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = name, parts
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(testContext(t, 10*time.Second), b.Client(t).Broker(int(b.NodeID)))
	if err != nil {
		t.Fatalf("DescribeProducers: %v", err)
	}
	want := map[string]int16{"hang": kerr.UnknownTopicOrPartition.Code, "nosuchtopic": kerr.UnknownTopicOrPartition.Code,
		"bad/name": kerr.InvalidTopicException.Code}
	for _, rt := range resp.Topics {
		if len(rt.Partitions) != 1 || rt.Partitions[0].ErrorCode != want[rt.Topic] {
			t.Errorf("DescribeProducers %s: %+v, want code %d", rt.Topic, rt.Partitions, want[rt.Topic])
		}
		delete(want, rt.Topic)
	}
	if len(want) > 0 {
		t.Errorf("no answer for %v", want)
	}
}
