package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestCollectorRebalances is the collector's proof on real processes: four
// brokers of which three hold every replica and all the load (real
// producers), a real agent beside each broker sampling into
// __weir_metrics, and a real `weir collector`. Under a continuous
// idempotent acks=all producer and a group consumer: add_broker moves
// replicas onto broker 4 only; remove_broker empties it again, and a
// collector killed with -9 in the middle finishes the execution after its
// restart, leaving no throttle behind; demote_broker moves leadership off
// broker 1; rebalance leaves the distribution goals satisfied. No
// acknowledged record is lost, no produce fails, the consumer never stalls
// for long.
func TestCollectorRebalances(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	on123 := [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 3, 2}, {2, 1, 3}, {3, 2, 1}}
	createWithAssignment(t, cl, "__weir_metrics", on123[:3])
	createWithAssignment(t, cl, "load", append(on123, on123...))
	createWithAssignment(t, cl, "orders", on123[:3])
	waitFullISR(t, adm, "load", 12, 3)
	fillTopic(t, c, "load", 24<<20)

	for _, b := range c.Brokers {
		startAgent(t, "cluster_name: e2e\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: %s\nlog_dirs: [%s]\nsamples: {}\n",
			b.NodeID, strings.Join(c.Bootstrap(), ", "), b.AdminAddr, b.DataDir)
	}
	col := startCollector(t, c)
	api := ccclient.New(col.addr)
	await.For(t, 90*time.Second, "a first valid model (a proposal)", func() error {
		var o ccclient.Optimization
		return api.Do(context.Background(), "GET", "proposals", nil, &o)
	})

	var before ccclient.BrokerStats
	if err := api.Do(context.Background(), "GET", "load", nil, &before); err != nil {
		t.Fatal(err)
	}
	for _, b := range before.Brokers {
		t.Logf("broker %d before: %.1f MB on disk (%.4f%%), %d replicas, %d leaders, cpu %.1f%%", b.Broker, b.DiskMB, b.DiskPct, b.Replicas, b.Leaders, b.CPUPct)
	}

	load := startNumberedProducer(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(500)), "orders", 3)
	cons := startGroupConsumer(t, c.Bootstrap(), "orders", "collector-e2e")

	// add_broker: replicas move onto broker 4 and nowhere else.
	o := execute(t, api, "add_broker", url.Values{"brokerid": {"4"}})
	for _, p := range o.Proposals {
		for _, b := range p.NewReplicas {
			if !slices.Contains(p.OldReplicas, b) && b != 4 {
				t.Errorf("add_broker: %s gains a replica on broker %d: %v -> %v", p.TopicPartition, b, p.OldReplicas, p.NewReplicas)
			}
		}
	}
	waitIdle(t, api, adm)
	loadOn4 := countPartitions(t, adm, func(p kadm.PartitionDetail) bool { return p.Topic == "load" && slices.Contains(p.Replicas, 4) })
	if loadOn4 == 0 {
		t.Fatalf("after add_broker broker 4 holds none of the data-heavy topic's replicas (proposal: %d moves)", len(o.Proposals))
	}
	t.Logf("add_broker: %d moves, broker 4 now holds %d replicas, %d of them of the topic with the data", len(o.Proposals), replicasOn(t, adm, 4), loadOn4)

	// remove_broker, with the collector killed -9 in the middle: a slow,
	// throttled execution, then a restart that finds it and finishes it.
	execute(t, api, "remove_broker", url.Values{"brokerid": {"4"}, "replication_throttle": {"1048576"},
		"concurrent_partition_movements_per_broker": {"1"}})
	await.For(t, 30*time.Second, "a reassignment in flight", func() error {
		n, err := reassigning(adm)
		if err == nil && n == 0 {
			err = fmt.Errorf("none yet")
		}
		return err
	})
	col.kill(t)
	col.start(t)
	waitIdle(t, api, adm)
	var st ccclient.State
	if err := api.Do(context.Background(), "GET", "state", url.Values{"substates": {"executor"}}, &st); err != nil {
		t.Fatal(err)
	}
	t.Logf("after the restart: %s", st.Executor.LastResult)
	if n := replicasOn(t, adm, 4); n > 0 {
		// The restart finished what was in flight and started nothing
		// new: the state says so, and asking again finishes the job.
		if !strings.Contains(st.Executor.LastResult, "interrupted by a collector restart") {
			t.Fatalf("broker 4 still holds %d replicas and the executor's state does not say why: %q", n, st.Executor.LastResult)
		}
		execute(t, api, "remove_broker", url.Values{"brokerid": {"4"}})
		waitIdle(t, api, adm)
	}
	if n := replicasOn(t, adm, 4); n != 0 {
		t.Fatalf("after remove_broker broker 4 still holds %d replicas", n)
	}

	// demote_broker: broker 1 leads nothing it has another in-sync replica for.
	execute(t, api, "demote_broker", url.Values{"brokerid": {"1"}})
	waitIdle(t, api, adm)
	if n := leadersOn(t, adm, 1); n != 0 {
		t.Errorf("after demote_broker broker 1 still leads %d partitions", n)
	}

	// rebalance: afterwards a fresh proposal finds the distribution goals
	// satisfied (nothing left to move for them).
	execute(t, api, "rebalance", nil)
	waitIdle(t, api, adm)
	var after ccclient.Optimization
	if err := api.Do(context.Background(), "GET", "proposals", url.Values{"ignore_proposal_cache": {"true"}}, &after); err != nil {
		t.Fatal(err)
	}
	for _, g := range after.GoalSummary {
		t.Logf("after rebalance: %s %s (balancedness %.1f)", g.Goal, g.Status, g.BalancednessBefore)
		// Disk and replica counts do not move with the traffic's noise:
		// the rebalance must have left them within their thresholds.
		stable := g.Goal == "DiskUsageDistributionGoal" || g.Goal == "ReplicaDistributionGoal"
		if (g.Hard || stable) && g.Status == "VIOLATED" {
			t.Errorf("after rebalance %s is violated", g.Goal)
		}
	}
	t.Logf("after rebalance: balancedness %.1f, a new proposal would make %d replica moves", after.Summary.BalancednessBefore, after.Summary.NumReplicaMovements)

	load.stop(t)
	if n := load.failures(); n > 0 {
		t.Errorf("%d produce errors during the executions", n)
	}
	waitEndOffsetsCoverAcks(t, adm, load, "orders", 3)
	checkAcked(t, load, consumeAllCluster(t, c, "orders"))
	stall := cons.stop(t)
	t.Logf("acked %d records; the consumer's longest stall was %v", load.ackedCount(), stall)
	if stall > 15*time.Second {
		t.Errorf("the group consumer stalled for %v", stall)
	}
}

// execute asks an endpoint to execute (dryrun=false, verbose) and returns
// its proposal.
func execute(t *testing.T, api *ccclient.Client, endpoint string, q url.Values) ccclient.Optimization {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("dryrun", "false")
	q.Set("verbose", "true")
	var o ccclient.Optimization
	// 503 means the model lacks valid windows for now (the moves just made
	// can leave a window without samples); the message says how long.
	await.For(t, time.Minute, endpoint, func() error {
		err := api.Do(context.Background(), "POST", endpoint, q, &o)
		var ae *ccclient.Error
		if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
			return err
		}
		if err != nil {
			t.Fatalf("%s: %v", endpoint, err)
		}
		return nil
	})
	return o
}

// waitIdle waits until the executor is idle and no reassignment is in
// flight, and checks that no replication throttle is left behind.
func waitIdle(t *testing.T, api *ccclient.Client, adm *kadm.Client) {
	t.Helper()
	await.For(t, 3*time.Minute, "the execution to finish", func() error {
		var st ccclient.State
		if err := api.Do(context.Background(), "GET", "state", url.Values{"substates": {"executor"}}, &st); err != nil {
			return err
		}
		if !st.Executor.Idle() {
			return fmt.Errorf("executor %s: %d/%d partitions", st.Executor.State, st.Executor.FinishedPartitions, st.Executor.TotalPartitions)
		}
		n, err := reassigning(adm)
		if err == nil && n > 0 {
			err = fmt.Errorf("%d reassignments in flight", n)
		}
		return err
	})
	// Config changes reach every broker through the metadata log a moment
	// after they are made; wait for the throttles to be gone everywhere.
	await.For(t, 15*time.Second, "no replication throttle left behind", func() error {
		if left := throttlesLeft(t, adm); len(left) > 0 {
			return fmt.Errorf("throttles left behind: %v", left)
		}
		return nil
	})
}

// reassigning counts the reassignments in flight in every topic (kadm
// lists none for an empty set, so the set names them all).
func reassigning(adm *kadm.Client) (int, error) {
	md, err := adm.Metadata(context.Background())
	if err != nil {
		return 0, err
	}
	listed, err := adm.ListPartitionReassignments(context.Background(), md.Topics.TopicsSet())
	n := 0
	for _, ps := range listed {
		n += len(ps)
	}
	return n, err
}

// throttlesLeft lists every replication throttle config still set.
func throttlesLeft(t *testing.T, adm *kadm.Client) []string {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	var left []string
	bcs, err := adm.DescribeBrokerConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tcs, err := adm.DescribeTopicConfigs(ctx, topics.Names()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range append(bcs, tcs...) {
		for _, cfg := range rc.Configs {
			dynamic := cfg.Source == kmsg.ConfigSourceDynamicTopicConfig || cfg.Source == kmsg.ConfigSourceDynamicBrokerConfig
			if dynamic && strings.Contains(cfg.Key, "replication.throttled") && cfg.Value != nil && *cfg.Value != "" {
				left = append(left, fmt.Sprintf("%s %s=%s", rc.Name, cfg.Key, *cfg.Value))
			}
		}
	}
	return left
}

func replicasOn(t *testing.T, adm *kadm.Client, broker int32) int {
	return countPartitions(t, adm, func(p kadm.PartitionDetail) bool { return slices.Contains(p.Replicas, broker) })
}

func leadersOn(t *testing.T, adm *kadm.Client, broker int32) int {
	return countPartitions(t, adm, func(p kadm.PartitionDetail) bool {
		return p.Leader == broker && slices.ContainsFunc(p.ISR, func(r int32) bool { return r != broker })
	})
}

func countPartitions(t *testing.T, adm *kadm.Client, f func(kadm.PartitionDetail) bool) int {
	t.Helper()
	md, err := adm.Metadata(testContext(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, td := range md.Topics {
		for _, p := range td.Partitions {
			if f(p) {
				n++
			}
		}
	}
	return n
}

// fillTopic writes about size bytes of 1 KiB records over the topic's
// partitions, unevenly: partition p gets (p+1) shares.
func fillTopic(t *testing.T, c *brokertest.Cluster, topic string, size int) {
	t.Helper()
	pr := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	value := make([]byte, 1024)
	shares := 0
	for p := range 12 {
		shares += p + 1
	}
	for p := range 12 {
		for range size / 1024 * (p + 1) / shares {
			pr.Produce(context.Background(), &kgo.Record{Partition: int32(p), Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("filling %s: %v", topic, err)
				}
			})
		}
	}
	if err := pr.Flush(testContext(t, 2*time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// collectorProc is a running `weir collector` that a test can kill -9 and
// start again on the same address and data directory.
type collectorProc struct {
	addr, dir string
	args      []string
	cmd       *exec.Cmd
	exited    chan struct{}
	logs      *syncBuffer
}

// startCollector runs a collector with small windows over c; sets are
// more config keys (key=value).
func startCollector(t *testing.T, c *brokertest.Cluster, sets ...string) *collectorProc {
	t.Helper()
	p := &collectorProc{addr: freePort(t), dir: t.TempDir(), logs: &syncBuffer{}}
	p.args = []string{"collector", "--brokers", strings.Join(c.Bootstrap(), ","), "--listen", p.addr,
		"--data-dir", p.dir, "--log-level", "debug",
		// Small windows so the model forms in seconds; samples every 1 s.
		"--set", "partition.metrics.window.ms=2000", "--set", "broker.metrics.window.ms=2000",
		"--set", "num.partition.metrics.windows=5", "--set", "num.broker.metrics.windows=5",
		"--set", "metadata.max.age.ms=1000", "--set", "execution.progress.check.interval.ms=250",
		"--set", "proposal.expiration.ms=2000", "--set", "webserver.request.maxBlockTimeMs=2000"}
	for _, kv := range sets {
		p.args = append(p.args, "--set", kv)
	}
	p.start(t)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("weir collector output:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *collectorProc) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(brokertest.Binary(t), p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.exited = make(chan struct{})
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := p.exited
	go func() { // owned by p: kill and stop wait on exited
		p.cmd.Wait()
		close(exited)
	}()
	await.For(t, 20*time.Second, "the collector to serve", func() error {
		select {
		case <-exited:
			t.Fatalf("weir collector exited:\n%s", p.logs.String())
		default:
		}
		_, err := agentHTTPGet("http://" + p.addr + "/healthz")
		return err
	})
}

func (p *collectorProc) kill(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.logs.Write([]byte("----- killed with SIGKILL -----\n"))
}

func (p *collectorProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}
