package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestControlPlaneOperations drives `weir up`'s control plane the way an
// operator does, under a continuous idempotent acks=all producer and a
// group consumer: grow 3 -> 4 (broker 4 ends up holding replicas), reboot
// broker 1 (rolling: back in sync before the operation completes), shrink
// 4 -> 3 (broker 4 emptied, stopped, then unregistered). Bad requests are refused with
// the rule and change nothing; an update while another runs is refused
// naming it. Then weir up is killed -9 in the middle of a reboot and
// started again: the operation is UPDATE_FAILED with the reason, and the
// cluster ACTIVE. No acknowledged record is lost, no produce fails.
func TestControlPlaneOperations(t *testing.T) {
	t.Parallel()
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "cp")
	base := freeRange(t, 4, 0)
	adminBase := freeRange(t, 4, base)
	agentBase := freeRange(t, 8, adminBase)
	collectorPort := freeRange(t, 1, agentBase)
	controlPort := freeRange(t, 1, collectorPort)
	args := []string{"--brokers", "3", "--dir", dir, "--agents", "--no-monitoring", "--base-port", fmt.Sprint(base),
		"--admin-base-port", fmt.Sprint(adminBase), "--agent-base-port", fmt.Sprint(agentBase),
		"--collector-port", fmt.Sprint(collectorPort), "--control-plane-port", fmt.Sprint(controlPort)}
	up := startUp(t, bin, args...)
	e := up.waitEndpoints(t, dir)
	cp := cluster.NewClient(e.ControlPlane)
	ctx := testContext(t, 5*time.Minute)

	seeds := strings.Split(e.Bootstrap, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(10*time.Millisecond)) // fresh metadata for kadm
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	createWithAssignment(t, cl, "cp", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 3, 2}, {2, 1, 3}, {3, 2, 1}})
	pcl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(500))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pcl.Close)
	load := startNumberedProducer(t, pcl, "cp", 6)
	cons := startGroupConsumer(t, seeds, "cp", "cp-group")

	op := runOp(t, cp, func() (string, error) {
		info, err := cp.Describe(ctx)
		if err != nil {
			return "", err
		}
		return cp.UpdateBrokerCount(ctx, 4, info.CurrentVersion)
	})
	if n := replicasOn(t, adm, 4); n == 0 {
		t.Errorf("after growing to 4 brokers broker 4 holds no replica (%s)", op.ARN)
	}
	runOp(t, cp, func() (string, error) { return cp.RebootBroker(ctx, []string{"1"}) })
	// A key the broker reads only at start: a rolling restart applies it.
	op = runOp(t, cp, func() (string, error) { return cp.UpdateConfiguration(ctx, "num.partitions=4\n", "") })
	if len(op.Steps) < 1+3*3 {
		t.Errorf("a static configuration change took %d steps, want the config write and three broker restarts", len(op.Steps))
	}
	// An upgrade onto another binary (a copy: what matters is that every
	// process restarts onto it, one broker at a time).
	next := filepath.Join(t.TempDir(), "weir-next")
	copyFile(t, bin, next)
	runOp(t, cp, func() (string, error) { return cp.Upgrade(ctx, next, "") })
	if info, err := cp.Describe(ctx); err != nil || info.ConfigurationRevision != 1 || info.Configuration["num.partitions"] != "4" {
		t.Errorf("after the configuration change: %+v %v", info, err)
	}

	// Refusals: below the voters, a stale version, an unknown broker, and
	// an update while one runs.
	for _, bad := range []func() error{
		func() error { _, err := cp.UpdateBrokerCount(ctx, 2, ""); return err },
		func() error { _, err := cp.UpdateBrokerCount(ctx, 3, "K999"); return err },
		func() error { _, err := cp.RebootBroker(ctx, []string{"9"}); return err },
	} {
		if err := bad(); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("a bad request: %v, want a 400 saying why", err)
		}
	}
	arn, err := cp.RebootBroker(ctx, []string{"2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.UpdateBrokerCount(ctx, 3, ""); err == nil || !strings.Contains(err.Error(), arn) {
		t.Errorf("an update during a reboot: %v, want a refusal naming %s", err, arn)
	}
	waitOp(t, cp, arn)

	op = runOp(t, cp, func() (string, error) {
		info, err := cp.Describe(ctx)
		if err != nil {
			return "", err
		}
		return cp.UpdateBrokerCount(ctx, 3, info.CurrentVersion)
	})
	if n := replicasOn(t, adm, 4); n != 0 {
		t.Errorf("after shrinking to 3 brokers broker 4 holds %d replicas", n)
	}
	// Broker 4 is unregistered, not left fenced: the cluster lists three,
	// and the quorum no longer knows it.
	if last := op.Steps[len(op.Steps)-1]; last.Name != "unregister brokers 4" {
		t.Errorf("the shrink's last step is %q, want unregister brokers 4", last.Name)
	}
	if err := wantBrokers(adm, 1, 2, 3); err != nil {
		t.Errorf("after shrinking to 3 brokers: %v", err)
	}
	if code := unregisterBroker(t, cl, 1, 4); code != kerr.BrokerIDNotRegistered.Code {
		t.Errorf("after shrinking to 3 brokers, UnregisterBroker 4: %v, want BROKER_ID_NOT_REGISTERED", kerr.ErrorForCode(code))
	}
	if an, err := ccclient.New(fmt.Sprintf("127.0.0.1:%d", collectorPort)).Anomalies(ctx); err != nil {
		t.Errorf("the collector's anomaly state: %v", err)
	} else {
		for _, a := range an.RecentBrokerFailures {
			if slices.Contains(a.Brokers, 4) {
				t.Errorf("after the shrink the collector reports broker 4 failed: %+v", a)
			}
		}
	}
	ops, err := cp.Operations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		t.Logf("%s %s took %s", o.Type, o.State, o.End.Sub(o.Created).Round(100*time.Millisecond))
	}
	if len(ops) != 6 {
		t.Errorf("%d operations listed, want 6", len(ops))
	}

	load.stop(t)
	if n := load.failures(); n > 0 {
		t.Errorf("%d produce errors during the operations", n)
	}
	waitEndOffsetsCoverAcks(t, adm, load, "cp", 6)
	got := consumeAllSeeds(t, seeds, "cp")
	checkAcked(t, load, got)
	t.Logf("acked %d records; the group consumer's longest stall %v", load.ackedCount(), cons.stop(t))

	// kill -9 weir up during a rolling reboot, then start it again.
	arn, err = cp.RebootBroker(ctx, []string{"1", "2", "3"})
	if err != nil {
		t.Fatal(err)
	}
	await.For(t, 30*time.Second, "the reboot under way", func() error {
		o, err := cp.Operation(ctx, arn)
		if err == nil && len(o.Steps) == 0 {
			err = errors.New("no step yet")
		}
		return err
	})
	if err := up.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-up.exited
	up2 := startUp(t, bin, args...)
	e = up2.waitEndpoints(t, dir)
	cp = cluster.NewClient(e.ControlPlane)
	o, err := cp.Operation(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if o.State != cluster.OpFailed || o.Error == nil || !strings.Contains(o.Error.String, "weir up stopped") {
		t.Errorf("the operation cut off by kill -9: %s %+v, want %s with the reason", o.State, o.Error, cluster.OpFailed)
	}
	info, err := cp.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != cluster.StateActive || info.NumberOfBrokerNodes != 3 {
		t.Errorf("after the restart: %s with %d brokers, want ACTIVE with 3", info.State, info.NumberOfBrokerNodes)
	}
}

// runOp starts an operation and waits for it to complete.
func runOp(t *testing.T, cp *cluster.Client, start func() (string, error)) cluster.Operation {
	t.Helper()
	arn, err := start()
	if err != nil {
		t.Fatal(err)
	}
	return waitOp(t, cp, arn)
}

func waitOp(t *testing.T, cp *cluster.Client, arn string) cluster.Operation {
	t.Helper()
	ctx := testContext(t, 4*time.Minute)
	op, err := cp.Wait(ctx, arn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if op.State != cluster.OpComplete {
		t.Fatalf("operation %s %s: %+v", op.Type, op.State, op.Error)
	}
	return op
}

// groupConsumer consumes in a group and records its longest stall.
type groupConsumer struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	last   time.Time
	worst  time.Duration
}

func startGroupConsumer(t *testing.T, seeds []string, topic, group string) *groupConsumer {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &groupConsumer{cancel: cancel, done: make(chan struct{}), last: time.Now()}
	go func() { // owned by g: stop cancels and waits
		defer close(g.done)
		defer cl.Close()
		for ctx.Err() == nil {
			if fs := cl.PollFetches(ctx); fs.NumRecords() > 0 {
				g.mu.Lock()
				now := time.Now()
				g.worst, g.last = max(g.worst, now.Sub(g.last)), now
				g.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { g.stop(t) })
	return g
}

func (g *groupConsumer) stop(t *testing.T) time.Duration {
	g.cancel()
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.worst
}

// consumeAllSeeds reads every partition of topic to its end.
func consumeAllSeeds(t *testing.T, seeds []string, topic string) map[int32][]*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// A new leader answers OFFSET_NOT_AVAILABLE until its high watermark
	// covers its epoch (KIP-207): ask again, never skip the partition.
	want := map[int32]int64{}
	await.For(t, 30*time.Second, "every partition's end offset", func() error {
		ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return err
		}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Offset > 0 {
				want[o.Partition] = o.Offset
			}
		})
		return nil
	})
	ctx := testContext(t, time.Minute)
	out := map[int32][]*kgo.Record{}
	for !reachedEnds(out, want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { out[r.Partition] = append(out[r.Partition], r) })
	}
	return out
}

func reachedEnds(got map[int32][]*kgo.Record, want map[int32]int64) bool {
	for p, end := range want {
		recs := got[p]
		if len(recs) == 0 || recs[len(recs)-1].Offset+1 < end {
			return false
		}
	}
	return true
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestClusterDelete: `weir cluster delete` is refused without --yes; with
// it the cluster goes DELETING, weir up stops its brokers, removes the
// cluster's files (a file of the operator's is left) and exits 0.
func TestClusterDelete(t *testing.T) {
	t.Parallel()
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "del")
	up := startUp(t, bin, "--brokers", "1", "--dir", dir, "--base-port", fmt.Sprint(freeRange(t, 1, 0)),
		"--admin-base-port", fmt.Sprint(freeRange(t, 1, 0)))
	e := up.waitEndpoints(t, dir)
	mine := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(mine, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "cluster", "delete", "--dir", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "run again with --yes") {
		t.Fatalf("delete without --yes: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "cluster", "delete", "--yes", "--control-plane", e.ControlPlane).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "DELETING") {
		t.Fatalf("delete --yes: %v\n%s", err, out)
	}
	select {
	case <-up.exited:
	case <-time.After(time.Minute):
		t.Fatal("weir up did not exit after the delete")
	}
	if up.waitErr != nil {
		t.Fatalf("weir up exited with %v after the delete", up.waitErr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "notes.txt" {
		t.Errorf("after the delete %s holds %v (%v), want only the operator's notes.txt", dir, entries, err)
	}
	if !strings.Contains(up.stderr(), "deleted") {
		t.Errorf("weir up did not say the cluster was deleted:\n%s", up.stderr())
	}
}

// TestHealingThroughWeirUp: a broker that stops answering (SIGSTOP: the
// supervisor sees a live process and does not restart it) is fenced; the
// collector's self-healing moves its replicas to the live brokers, and
// meanwhile the control plane shows the cluster HEALING with a
// SELF_HEALING operation, which completes when the fix does (the cluster
// ACTIVE again). No acknowledged record is lost.
func TestHealingThroughWeirUp(t *testing.T) {
	t.Parallel()
	_, e, cp := startAgentsUp(t, 4)
	ctx := testContext(t, 5*time.Minute)
	seeds := strings.Split(e.Bootstrap, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	createWithAssignment(t, cl, "heal", [][]int32{{4, 1, 2}, {1, 4, 3}, {2, 3, 4}, {3, 1, 2}})
	load := startPacedProducer(t, cl, "heal", 4, 100, 1000)
	await.For(t, time.Minute, "acknowledged records", func() error {
		if load.ackedCount() < 500 {
			return fmt.Errorf("%d acked", load.ackedCount())
		}
		return nil
	})

	victim := e.Brokers[3]
	if err := syscall.Kill(victim.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(victim.PID, syscall.SIGCONT) })
	var healing cluster.Operation
	await.For(t, 2*time.Minute, "the cluster HEALING with a SELF_HEALING operation", func() error {
		info, err := cp.Describe(ctx)
		if err != nil {
			return err
		}
		o, err := latestOp(ctx, cp, cluster.OpSelfHealing)
		if err != nil {
			return fmt.Errorf("%w (cluster %s)", err, info.State)
		}
		if info.State != cluster.StateHealing && o.State == cluster.OpInProgress {
			return fmt.Errorf("a SELF_HEALING operation runs but the cluster is %s", info.State)
		}
		healing = o
		return nil
	})
	healed := waitOp(t, cp, healing.ARN)
	t.Logf("healed in %s: %s", healed.End.Sub(healed.Created).Round(time.Second), healed.Steps[0].Name)
	if n := replicasOn(t, adm, 4); n != 0 {
		t.Errorf("after healing the stopped broker still holds %d replicas", n)
	}
	if info, err := cp.Describe(ctx); err != nil || info.State != cluster.StateActive {
		t.Errorf("after healing: %v %v, want ACTIVE", info.State, err)
	}
	load.stop(t)
	waitEndOffsetsCoverAcks(t, adm, load, "heal", 4)
	checkAcked(t, load, consumeAllSeeds(t, seeds, "heal"))
}

// TestFullDiskHealsThroughWeirUp: four brokers with 64 MiB of provisioned
// storage each; broker 4 holds a replica of every partition of a topic
// filled past 80 % of its storage (Cruise Control's
// disk.capacity.threshold) while the others stay under half. The
// collector's disk anomaly (a full disk, judged against the provisioned
// size the agents report) heals it by moving replicas off broker 4: the
// control plane shows HEALING and a SELF_HEALING operation, and broker 4
// ends under the threshold.
func TestFullDiskHealsThroughWeirUp(t *testing.T) {
	t.Parallel()
	_, e, cp := startAgentsUp(t, 4, "--storage", "64MiB", "--config-override", "log.segment.bytes=2097152")
	ctx := testContext(t, 5*time.Minute)
	seeds := strings.Split(e.Bootstrap, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(100*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // the records repeat: compressed, they would fill nothing
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	// Rack-aware (broker 4 is in rack-1 with broker 1): broker 4 holds
	// every partition, brokers 2 and 3 half each, broker 1 none.
	createWithAssignment(t, cl, "fill", [][]int32{{4, 2}, {4, 3}, {4, 2}, {4, 3}})
	pad := make([]byte, 64<<10)
	rand.Read(pad)
	var failed atomic.Int64
	for i := range 55 * 16 { // 55 MiB: 86 % of broker 4's 64 MiB, 43 % of brokers 2's and 3's
		cl.Produce(ctx, &kgo.Record{Topic: "fill", Partition: int32(i % 4), Value: pad}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil || failed.Load() > 0 {
		t.Fatalf("filling: %v, %d records failed", err, failed.Load())
	}
	filled := time.Now()
	var healing cluster.Operation
	await.For(t, 3*time.Minute, "a SELF_HEALING operation for the full disk", func() error {
		o, err := latestOp(ctx, cp, cluster.OpSelfHealing)
		if err != nil {
			return err
		}
		healing = o
		return nil
	})
	healed := waitOp(t, cp, healing.ARN)
	t.Logf("%s %s after the fill; healing took %s", healed.Steps[0].Name, healed.Created.Sub(filled).Round(time.Second),
		healed.End.Sub(healed.Created).Round(time.Second))
	if !strings.Contains(healed.Steps[0].Name, "DISK_FAILURE") {
		t.Errorf("the healing was %q, want the disk anomaly", healed.Steps[0].Name)
	}
	use, err := storageUse(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	if u := use[4]; float64(u[0]) > 0.8*float64(u[1]) {
		t.Errorf("broker 4 uses %d of %d bytes after healing, want under 80 %%", u[0], u[1])
	}
	t.Logf("after healing: %v (used, provisioned per broker); broker 4 holds %d replicas", use, replicasOn(t, adm, 4))
}
