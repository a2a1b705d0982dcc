package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// The replicated cluster's promises, proven with real broker processes:
// no acknowledged record is lost through leader, controller and random
// broker kills; consumers never see an offset go backwards or a record
// that later disappears; a stopped follower leaves the ISR and rejoins.

// clusterAdmin is a kadm client on the cluster with fresh metadata.
func clusterAdmin(t testing.TB, c *brokertest.Cluster) *kadm.Client {
	return kadm.NewClient(c.Client(t, kgo.MetadataMinAge(10*time.Millisecond)))
}

// partitionState returns a partition's leader and ISR as the cluster
// reports them.
func partitionState(ctx context.Context, adm *kadm.Client, topic string, p int32) (int32, []int32, error) {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return -1, nil, err
	}
	t, ok := md.Topics[topic]
	if !ok || t.Err != nil {
		return -1, nil, fmt.Errorf("topic %s: %v", topic, t.Err)
	}
	pd, ok := t.Partitions[p]
	if !ok {
		return -1, nil, fmt.Errorf("no partition %d", p)
	}
	return pd.Leader, pd.ISR, pd.Err
}

// waitFullISR waits until every partition of topic has an ISR of n.
func waitFullISR(t *testing.T, adm *kadm.Client, topic string, partitions int32, n int) {
	t.Helper()
	await.For(t, 60*time.Second, fmt.Sprintf("%s to have %d in sync replicas everywhere", topic, n), func() error {
		for p := int32(0); p < partitions; p++ {
			_, isr, err := partitionState(context.Background(), adm, topic, p)
			if err != nil {
				return err
			}
			if len(isr) != n {
				return fmt.Errorf("partition %d ISR %v", p, isr)
			}
		}
		return nil
	})
}

// watchingConsumer reads the topic continuously (read up to the high
// watermark, as every consumer does) and remembers what it saw, failing
// if an offset goes backwards within a partition.
type watchingConsumer struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	seen   map[int32]map[int64]string
	last   map[int32]int64
	errs   []string
}

func startWatchingConsumer(t *testing.T, c *brokertest.Cluster, topic string) *watchingConsumer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchingConsumer{cancel: cancel, done: make(chan struct{}), seen: map[int32]map[int64]string{}, last: map[int32]int64{}}
	cl := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.FetchMaxWait(200*time.Millisecond))
	go func() { // owned by w: stop cancels and waits
		defer close(w.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				w.mu.Lock()
				defer w.mu.Unlock()
				if prev, ok := w.last[r.Partition]; ok && r.Offset <= prev {
					w.errs = append(w.errs, fmt.Sprintf("partition %d: offset %d after %d", r.Partition, r.Offset, prev))
				}
				w.last[r.Partition] = r.Offset
				if w.seen[r.Partition] == nil {
					w.seen[r.Partition] = map[int64]string{}
				}
				w.seen[r.Partition][r.Offset] = string(r.Value)
			})
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *watchingConsumer) stop() {
	w.cancel()
	<-w.done
}

// check compares what the consumer saw with the final log: every record
// it was served must still be there, at the same offset, with the same
// value (a record that later disappeared would be missing or different).
func (w *watchingConsumer) check(t *testing.T, final map[int32][]*kgo.Record) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.errs {
		t.Error("consumer saw an offset go backwards: " + e)
	}
	total := 0
	for p, seen := range w.seen {
		byOffset := map[int64]string{}
		for _, r := range final[p] {
			byOffset[r.Offset] = string(r.Value)
		}
		for off, v := range seen {
			total++
			if got, ok := byOffset[off]; !ok || got != v {
				t.Errorf("partition %d offset %d: consumer saw %q, the log now has %q (present: %v)", p, off, v, got, ok)
			}
		}
	}
	t.Logf("consumer saw %d records while brokers were killed; all are still in the log", total)
}

// consumeAllCluster reads every partition of topic to its end.
func consumeAllCluster(t *testing.T, c *brokertest.Cluster, topic string) map[int32][]*kgo.Record {
	t.Helper()
	adm := clusterAdmin(t, c)
	// A leader elected moments ago answers OFFSET_NOT_AVAILABLE until its
	// high watermark reaches its epoch's start (KIP-207): ask again.
	var ends kadm.ListedOffsets
	await.For(t, 15*time.Second, "the end offsets of "+topic, func() error {
		var err error
		if ends, err = adm.ListEndOffsets(context.Background(), topic); err != nil {
			return err
		}
		return ends.Error()
	})
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	cl := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testContext(t, 60*time.Second)
	out := map[int32][]*kgo.Record{}
	done := map[int32]bool{}
	for len(done) < len(want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			if r.Offset >= want[r.Partition]-1 {
				done[r.Partition] = true
			}
		})
	}
	return out
}

// TestClusterFailoverLosesNoAckedRecord kills the partition leader, the
// active controller, a random broker and the leader again (runFailover);
// TestSecureClusterFailoverLosesNoAckedRecord runs the same core on a
// secure cluster.
func TestClusterFailoverLosesNoAckedRecord(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	runFailover(t, c, failoverPlan{Victims: []string{"leader", "controller", "random", "leader"}, PerRound: 1500, AfterKill: 300, Final: 1000})
}

// failoverPlan is one run of runFailover: the brokers to kill -9 in
// turn (pickVictim's kinds) and how many acks to wait for before each
// kill, after it (with the victim down) and after the last restart.
type failoverPlan struct {
	Victims                    []string
	PerRound, AfterKill, Final int
}

// failoverResult is what runFailover counted.
type failoverResult struct {
	Kills int
	Tally ackTally
}

// runFailover is the chaos test's core, shared by the PLAINTEXT and the
// secure cluster: an idempotent acks=all producer and a watching
// consumer run while the plan's brokers are killed with SIGKILL and
// restarted one at a time; then every acknowledged record must be in the
// log once, at its acked offset, in send order (checkAcked), the consumer
// must never have seen an offset go back (watchingConsumer.check), and
// every replica must be back in the ISR.
func runFailover(t *testing.T, c *brokertest.Cluster, plan failoverPlan) failoverResult {
	t.Helper()
	adm := clusterAdmin(t, c)
	const topic, partitions = "failover", 3
	if _, err := adm.CreateTopic(context.Background(), partitions, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, topic); err != nil {
		t.Fatal(err)
	}
	waitFullISR(t, adm, topic, partitions, 3)

	p := startNumberedProducer(t, c.Client(t,
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
		kgo.MetadataMinAge(50*time.Millisecond),
		kgo.MaxBufferedRecords(2000),
	), topic, partitions)
	w := startWatchingConsumer(t, c, topic)

	rng := rand.New(rand.NewPCG(1, 2))
	for round, kind := range plan.Victims {
		target := p.ackedCount() + plan.PerRound
		await.For(t, 60*time.Second, fmt.Sprintf("round %d: %d acked records", round, target), func() error {
			if n := p.ackedCount(); n < target {
				return fmt.Errorf("%d acked, %d produce errors", n, p.errorCount())
			}
			return nil
		})
		victim := pickVictim(t, adm, c, kind, topic, rng)
		b := c.Broker(victim)
		killedAt, acked := time.Now(), p.ackedCount()
		b.Kill()
		await.For(t, 60*time.Second, fmt.Sprintf("round %d: produce to go on after killing %s broker %d", round, kind, victim), func() error {
			if n := p.ackedCount(); n < acked+plan.AfterKill {
				return fmt.Errorf("%d acked since the kill", n-acked)
			}
			return nil
		})
		t.Logf("round %d: killed the %s (broker %d) with %d acked; %d more acks (any partition) within %v", round, kind, victim, acked, plan.AfterKill, time.Since(killedAt).Round(10*time.Millisecond))
		b.Restart(t)
		waitFullISR(t, adm, topic, partitions, 3)
	}
	target := p.ackedCount() + plan.Final
	await.For(t, 60*time.Second, "the producer to go on after the last restart", func() error {
		if n := p.ackedCount(); n < target {
			return fmt.Errorf("%d acked, want %d", n, target)
		}
		return nil
	})
	p.stop(t)
	w.stop()

	final := consumeAllCluster(t, c, topic)
	tally := checkAcked(t, p, final)
	w.check(t, final)
	// Every replica is back in the ISR: it fetched up to the leader's log
	// end after truncating by epoch (replica contents are compared by the
	// acked-record and consumer checks above, served by whichever leads).
	for part := int32(0); part < partitions; part++ {
		if _, isr, err := partitionState(context.Background(), adm, topic, part); err != nil || len(isr) != 3 {
			t.Errorf("partition %d ISR %v (%v) at the end", part, isr, err)
		}
	}
	return failoverResult{Kills: len(plan.Victims), Tally: tally}
}

// pickVictim names the broker to kill: the leader of partition 0, the
// active controller, or any broker.
func pickVictim(t *testing.T, adm *kadm.Client, c *brokertest.Cluster, kind, topic string, rng *rand.Rand) int32 {
	t.Helper()
	switch kind {
	case "leader":
		leader, _, err := partitionState(context.Background(), adm, topic, 0)
		if err != nil || leader < 0 {
			t.Fatalf("leader of %s-0: %d %v", topic, leader, err)
		}
		return leader
	case "controller":
		md, err := adm.BrokerMetadata(context.Background())
		if err != nil || md.Controller < 0 {
			t.Fatalf("controller: %v", err)
		}
		return md.Controller
	}
	return c.Brokers[rng.IntN(len(c.Brokers))].NodeID
}

func TestClusterPausedFollowerLeavesAndRejoinsISR(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{Props: map[string]string{"replica.lag.time.max.ms": "3000"}})
	adm := clusterAdmin(t, c)
	const topic = "isr"
	// The harder case, every time: the follower to stop is the active
	// controller, so the partition leader's ISR change and every broker's
	// heartbeats must move to a new controller meanwhile.
	md, err := adm.BrokerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	follower := md.Controller
	var others []int32
	for _, b := range c.Brokers {
		if b.NodeID != follower {
			others = append(others, b.NodeID)
		}
	}
	createWithAssignment(t, c.Client(t), topic, [][]int32{{others[0], follower, others[1]}})
	waitFullISR(t, adm, topic, 1, 3)
	leader, _, err := partitionState(context.Background(), adm, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if leader == follower {
		t.Fatalf("the controller %d leads the partition; the assignment put %d first", follower, others[0])
	}
	// A stopped broker still accepts connections and never answers: the
	// client gives up on a request to it after a second (franz-go's
	// default is about 10 s, as long as the whole wait below).
	pr := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RequestTimeoutOverhead(time.Second), kgo.MetadataMinAge(100*time.Millisecond))
	c.Broker(follower).Pause()
	paused := true
	defer func() {
		if paused {
			c.Broker(follower).Resume()
		}
	}()
	await.For(t, 30*time.Second, fmt.Sprintf("stopped follower %d to leave the ISR", follower), func() error {
		// acks=all produces keep flowing once the ISR shrinks (min.insync.replicas=2).
		pr.ProduceSync(testContext(t, 2*time.Second), &kgo.Record{Value: []byte("while-stopped")})
		_, isr, err := partitionState(context.Background(), adm, topic, 0)
		if err != nil {
			return err
		}
		if slices.Contains(isr, follower) {
			return fmt.Errorf("ISR %v", isr)
		}
		return nil
	})
	await.For(t, 30*time.Second, "an acks=all produce to succeed with the follower out of the ISR", func() error {
		return pr.ProduceSync(testContext(t, 3*time.Second), &kgo.Record{Value: []byte("after-shrink")}).FirstErr()
	})
	c.Broker(follower).Resume()
	paused = false
	waitFullISR(t, adm, topic, 1, 3)
	// The leader counts the changes it asked for (Kafka's
	// IsrShrinksPerSec and IsrExpandsPerSec), a moment after the ISR
	// shows in metadata. The rejoin is always its own; the removal is
	// its own only when its lag check beat the controller fencing the
	// stopped broker (the controller's removal is counted nowhere).
	await.For(t, 10*time.Second, fmt.Sprintf("leader %d to count the expansion", leader), func() error {
		g := scrapeGauges(t, c.Broker(leader), "kafka_server_replicamanager_isrshrinks_total", "kafka_server_replicamanager_isrexpands_total")
		if g[0] != 0 && g[0] != 1 || g[1] != 1 {
			return fmt.Errorf("isrshrinks_total %v, isrexpands_total %v, want 0 or 1, and 1", g[0], g[1])
		}
		return nil
	})
	t.Logf("follower %d (the controller) left the ISR while stopped and rejoined after SIGCONT", follower)
}

func TestClusterKcatAndKafkaPythonRF3(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	const topic = "clients-rf3"
	if _, err := adm.CreateTopic(context.Background(), 3, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	waitFullISR(t, adm, topic, 3, 3)
	bootstrap := c.Bootstrap()[0] + "," + c.Bootstrap()[1]
	kcat := lookTool(t, "kcat")
	var in bytes.Buffer
	const n = 600
	for i := range n {
		fmt.Fprintf(&in, "key-%d:lz4-%d\n", i, i)
	}
	runKcat(t, kcat, &in, "-P", "-b", bootstrap, "-t", topic, "-K:", "-X", "acks=all", "-z", "lz4")
	out := runKcat(t, kcat, nil, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-f", "%p %o %k:%s\n")
	checkKcatLines(t, "lz4", n, out)

	py := pythonWith(t, "kafka")
	const pyTopic, pyPartitions, pyCount = "clients-rf3-python", 3, 300
	if _, err := adm.CreateTopic(context.Background(), pyPartitions, 3, nil, pyTopic); err != nil {
		t.Fatal(err)
	}
	waitFullISR(t, adm, pyTopic, pyPartitions, 3)
	cmd := exec.CommandContext(testContext(t, 2*time.Minute), py, "testdata/kafka_python_roundtrip.py", bootstrap, pyTopic,
		strconv.Itoa(pyPartitions), strconv.Itoa(pyCount))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kafka-python on the RF=3 cluster: %v\nstderr:\n%s", err, stderr.String())
	}
	var got pythonResult
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode output %q: %v", stdout.String(), err)
	}
	got.check(t, pyPartitions, pyCount)
}
