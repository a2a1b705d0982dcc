package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/internal/await"
)

// startAutoscaledUp runs weir up with agents, the collector and the
// autoscaler with the policy text, on ports of its own.
func startAutoscaledUp(t *testing.T, policy string, extra ...string) (*upProcess, cluster.Endpoints, *cluster.Client) {
	t.Helper()
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return startAgentsUp(t, 3, append([]string{"--autoscaler-policy", pol}, extra...)...)
}

// startAgentsUp runs weir up with n brokers (room for a fourth), agents
// and the collector, without the monitoring stack, on ports of its own;
// on failure it logs the autoscaler's and the collector's logs.
func startAgentsUp(t *testing.T, n int, extra ...string) (*upProcess, cluster.Endpoints, *cluster.Client) {
	t.Helper()
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "up")
	ports := max(n, 4)
	args := append([]string{"--brokers", fmt.Sprint(n), "--dir", dir, "--agents", "--no-monitoring",
		"--base-port", fmt.Sprint(freeRange(t, ports, 0)), "--admin-base-port", fmt.Sprint(freeRange(t, ports, 0)),
		"--agent-base-port", fmt.Sprint(freeRange(t, 2*ports, 0))}, extra...)
	up := startUp(t, bin, args...)
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"autoscaler/autoscaler.log", "collector/collector.log"} {
				data, _ := os.ReadFile(filepath.Join(dir, f))
				t.Logf("%s:\n%s", f, tail(string(data), 6000))
			}
		}
	})
	e := up.waitEndpoints(t, dir)
	if slices.Contains(extra, "--autoscaler-policy") && e.Autoscaler == nil {
		t.Fatalf("endpoints.json names no autoscaler: %+v", e)
	}
	return up, e, cluster.NewClient(e.ControlPlane)
}

// startPacedProducer is a numbered producer (values are record numbers,
// checked by checkAcked) that sends perSecond records of about size bytes
// (a header carries the padding), round robin over the partitions.
func startPacedProducer(t *testing.T, cl *kgo.Client, topic string, partitions, size, perSecond int) *numberedProducer {
	ctx, cancel := context.WithCancel(context.Background())
	p := &numberedProducer{cl: cl, cancel: cancel, done: make(chan struct{}), acked: map[int]int64{}, errors: map[string]int{}}
	pad := make([]byte, size)
	rand.Read(pad)
	go func() { // owned by p: stop cancels ctx and waits for done
		defer close(p.done)
		tick := time.NewTicker(time.Second / time.Duration(perSecond)) // the pace, not a wait for an event
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			r := &kgo.Record{Topic: topic, Partition: int32(i % partitions), Value: []byte(strconv.Itoa(i)),
				Headers: []kgo.RecordHeader{{Key: "pad", Value: pad}}}
			cl.Produce(ctx, r, p.onAck(i))
		}
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// storageUse returns each broker's used and provisioned bytes as the
// control plane describes them.
func storageUse(ctx context.Context, cp *cluster.Client) (map[int][2]int64, error) {
	info, err := cp.Describe(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int][2]int64{}
	for _, b := range info.Brokers {
		if b.StorageBytes < 0 {
			return nil, fmt.Errorf("broker %d did not report its storage", b.ID)
		}
		out[b.ID] = [2]int64{b.StorageBytes, b.ProvisionedBytes}
	}
	return out, nil
}

func autoscalerMetric(base, prefix string) (string, error) {
	resp, err := http.Get(strings.TrimSuffix(base, "/v1/") + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l, nil
		}
	}
	return "", fmt.Errorf("no %s in the autoscaler's metrics", prefix)
}

// TestAutoscalerGrowsStorage is issue 10's storage proof on weir up with
// 64 MiB of provisioned storage per broker and a policy of 50 %, 32 MiB
// steps, at most 96 MiB: a paced acks=all producer crosses the target; the
// autoscaler grows every broker by the step (an UPDATE_BROKER_STORAGE
// operation) before any produce fails, and utilization falls back under
// the target. At the maximum, produce at full speed ends with the
// retriable KAFKA_STORAGE_ERROR, the autoscaler holds with
// MAXIMUM_REACHED, no acknowledged record is lost, and deleting a topic
// frees the space: produce resumes.
func TestAutoscalerGrowsStorage(t *testing.T) {
	t.Parallel()
	_, e, cp := startAutoscaledUp(t, `
storage:
  target_utilization: 50
  max_size: 96MiB
  scale_out_step: 32MiB
  cooldown: 0s
`, "--storage", "64MiB", "--config-override", "log.segment.bytes=2097152", "--config-override", "log.segment.delete.delay.ms=1000")
	ctx := testContext(t, 6*time.Minute)
	seeds := strings.Split(e.Bootstrap, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	for _, topic := range []string{"fill", "orders"} {
		if _, err := adm.CreateTopic(ctx, 3, 3, nil, topic); err != nil {
			t.Fatal(err)
		}
	}

	// Fill to about 40 % (26 MiB of 64 on every broker), fast.
	pad := make([]byte, 64<<10)
	rand.Read(pad)
	for i := range 26 * 16 {
		cl.Produce(ctx, &kgo.Record{Topic: "fill", Partition: int32(i % 3), Value: pad}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Cross the target at 512 KiB/s: from 50 % to full takes a minute,
	// the autoscaler sees the crossing within an agent interval (5 s) and
	// its own (10 s).
	start := time.Now()
	load := startPacedProducer(t, cl, "orders", 3, 8<<10, 64)
	var peak float64
	var op cluster.Operation
	await.For(t, 3*time.Minute, "an UPDATE_BROKER_STORAGE operation that completes", func() error {
		if use, err := storageUse(ctx, cp); err == nil {
			for _, u := range use {
				peak = max(peak, 100*float64(u[0])/float64(u[1]))
			}
		}
		ops, err := cp.Operations(ctx)
		if err != nil {
			return err
		}
		for _, o := range ops {
			if o.Type == cluster.OpUpdateStorage && o.State == cluster.OpComplete {
				op = o
				return nil
			}
			if o.Type == cluster.OpUpdateStorage && o.State == cluster.OpFailed {
				t.Fatalf("the storage operation failed: %+v", o.Error)
			}
		}
		return errors.New("none yet")
	})
	t.Logf("storage grew %s after the paced producer started; highest utilization seen before: %.1f%%; steps: %d",
		time.Since(start).Round(time.Second), peak, len(op.Steps))
	use, err := storageUse(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	for id, u := range use {
		if u[1] != 96<<20 {
			t.Errorf("broker %d has %d bytes provisioned after the grow, want 96 MiB", id, u[1])
		}
		if pct := 100 * float64(u[0]) / float64(u[1]); pct >= 50 {
			t.Errorf("broker %d at %.1f%% after the grow, want under the 50%% target", id, pct)
		}
	}
	load.stop(t)
	if n := load.failures(); n > 0 {
		t.Fatalf("%d produce errors before the grow", n)
	}

	// At the maximum: full speed until the brokers refuse.
	full, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(4), kgo.ProducerBatchCompression(kgo.NoCompression())) // give up with the broker's error
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(full.Close)
	flood := startPacedProducer(t, full, "orders", 3, 32<<10, 200) // 6.4 MiB/s
	await.For(t, 2*time.Minute, "produce refused with KAFKA_STORAGE_ERROR", func() error {
		flood.mu.Lock()
		defer flood.mu.Unlock()
		for msg := range flood.errors {
			if strings.Contains(msg, kerr.KafkaStorageError.Message) {
				return nil
			}
		}
		return fmt.Errorf("errors so far: %v", flood.errors)
	})
	flood.stop(t)
	await.For(t, time.Minute, "the autoscaler holding at the maximum", func() error {
		l, err := autoscalerMetric(e.Autoscaler.API, `weir_autoscaler_blocked{kind="storage",reason="MAXIMUM_REACHED"}`)
		if err == nil && !strings.HasSuffix(l, " 1") {
			err = fmt.Errorf("%s", l)
		}
		return err
	})
	waitEndOffsetsCoverAcks(t, adm, flood, "orders", 3)
	got := consumeAllSeeds(t, seeds, "orders")
	checkAckedAll(t, []*numberedProducer{load, flood}, got)

	// Deleting a topic frees its bytes: produce resumes without a restart.
	if _, err := adm.DeleteTopic(ctx, "fill"); err != nil {
		t.Fatal(err)
	}
	await.For(t, time.Minute, "produce accepted after deleting a topic", func() error {
		return full.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: 0, Value: []byte("after")}).FirstErr()
	})
}

// checkAckedAll checks the records of several numbered producers that
// wrote to one topic, one after the other: every acknowledged record of
// each is read back at its offset (their numbers restart, so the records
// are told apart by their offsets).
func checkAckedAll(t *testing.T, ps []*numberedProducer, got map[int32][]*kgo.Record) {
	t.Helper()
	at := map[int32]map[int64]string{}
	for part, recs := range got {
		at[part] = map[int64]string{}
		for _, r := range recs {
			at[part][r.Offset] = string(r.Value)
		}
	}
	total := 0
	for _, p := range ps {
		p.mu.Lock()
		for i, off := range p.acked {
			part := int32(i % 3)
			if v, ok := at[part][off]; !ok || v != strconv.Itoa(i) {
				t.Errorf("acknowledged record %d at partition %d offset %d: read %q (present %v)", i, part, off, v, ok)
			}
			total++
		}
		p.mu.Unlock()
	}
	t.Logf("%d acknowledged records read back", total)
}

// TestAutoscalerScalesBrokers is issue 10's broker-count proof: a policy
// of 3 to 4 brokers on bytes in per broker (128 KiB/s, a 30 s window and
// a 30 s scale-in stabilization). A 1 MiB/s load sustains 3 times the
// target: the autoscaler asks for a 4th broker (the control plane starts
// it and the collector moves replicas onto it); once the load stops,
// every broker is calm and it goes back to 3 (the collector empties
// broker 4 first). A light idempotent acks=all producer and a group
// consumer run throughout: no produce error, no acknowledged record lost.
func TestAutoscalerScalesBrokers(t *testing.T) {
	t.Parallel()
	_, e, cp := startAutoscaledUp(t, `
brokers:
  min_brokers: 3
  max_brokers: 4
  window: 30s
  scale_down_stabilization: 30s
  scale_out_cooldown: 0s
  scale_in_cooldown: 30s
  targets:
    network_in_per_second: 128KiB
`)
	ctx := testContext(t, 10*time.Minute)
	seeds := strings.Split(e.Bootstrap, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	createWithAssignment(t, cl, "scale", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 3, 2}, {2, 1, 3}, {3, 2, 1}})
	createWithAssignment(t, cl, "bulk", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	light := startPacedProducer(t, cl, "scale", 6, 100, 100) // 10 KB/s: calm
	cons := startGroupConsumer(t, seeds, "scale", "scale-group")

	bulk, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bulk.Close)
	start := time.Now()
	heavy := startPacedProducer(t, bulk, "bulk", 3, 16<<10, 64) // 1 MiB/s: 340 KiB/s per broker
	var grow cluster.Operation
	await.For(t, 5*time.Minute, "an UPDATE_BROKER_COUNT to 4 that completes", func() error {
		o, err := latestOp(ctx, cp, cluster.OpUpdateBrokerCount)
		if err != nil {
			ends, _ := adm.ListEndOffsets(ctx, "bulk")
			var n int64
			ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
			heavy.mu.Lock()
			acked, errs := len(heavy.acked), heavy.errors
			heavy.mu.Unlock()
			return fmt.Errorf("%w; bulk holds %d records (%d acked, errors %v) after %s; the autoscaler's last evaluation:\n%s",
				err, n, acked, errs, time.Since(start).Round(time.Second), lastReport(e))
		}
		if o.Target.NumberOfBrokerNodes != 4 || o.State != cluster.OpComplete {
			return fmt.Errorf("%s to %d: %s", o.Type, o.Target.NumberOfBrokerNodes, o.State)
		}
		grow = o
		return nil
	})
	carrying := time.Since(start)
	if n := replicasOn(t, adm, 4); n == 0 {
		t.Errorf("after the scale-out broker 4 holds no replica (%s)", grow.ARN)
	}
	t.Logf("scale-out: %s from the load's start (the window is 30 s) to broker 4 carrying %d replicas; the operation took %s",
		carrying.Round(time.Second), replicasOn(t, adm, 4), grow.End.Sub(grow.Created).Round(time.Second))

	heavy.stop(t)
	stopped := time.Now()
	var shrink cluster.Operation
	await.For(t, 5*time.Minute, "an UPDATE_BROKER_COUNT back to 3 that completes", func() error {
		o, err := latestOp(ctx, cp, cluster.OpUpdateBrokerCount)
		if err != nil {
			return err
		}
		if o.Target.NumberOfBrokerNodes != 3 || o.State != cluster.OpComplete {
			return fmt.Errorf("%s to %d: %s", o.Type, o.Target.NumberOfBrokerNodes, o.State)
		}
		shrink = o
		return nil
	})
	t.Logf("scale-in: %s after the load stopped; the operation took %s", time.Since(stopped).Round(time.Second),
		shrink.End.Sub(shrink.Created).Round(time.Second))
	if n := replicasOn(t, adm, 4); n != 0 {
		t.Errorf("after the scale-in broker 4 holds %d replicas", n)
	}

	light.stop(t)
	for name, p := range map[string]*numberedProducer{"light": light, "heavy": heavy} {
		if n := p.failures(); n > 0 {
			t.Errorf("%d %s produce errors during the scaling", n, name)
		}
	}
	waitEndOffsetsCoverAcks(t, adm, light, "scale", 6)
	checkAcked(t, light, consumeAllSeeds(t, seeds, "scale"))
	t.Logf("acked %d records; the group consumer's longest stall %v", light.ackedCount(), cons.stop(t))
}

// lastReport is the autoscaler's last evaluation, as text.
func lastReport(e cluster.Endpoints) string {
	resp, err := http.Get(e.Autoscaler.API + "last?format=text")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// latestOp is the newest operation of a type.
func latestOp(ctx context.Context, cp *cluster.Client, typ string) (cluster.Operation, error) {
	ops, err := cp.Operations(ctx)
	if err != nil {
		return cluster.Operation{}, err
	}
	for _, o := range ops { // newest first
		if o.Type == typ {
			return o, nil
		}
	}
	return cluster.Operation{}, fmt.Errorf("no %s operation yet", typ)
}
