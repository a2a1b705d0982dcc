package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestSelfHealingBrokerFailure is the collector's self-healing on real
// processes, with its default thresholds (broker.failure.alert.threshold.ms
// 2 s, broker.failure.self.healing.threshold.ms 5 s): four brokers, an
// agent beside each, a `weir collector`.
//
//   - Broker 4 killed with -9 and restarted as soon as the collector has
//     seen it dead: the broker failure clears before the healing threshold,
//     nothing is executed and no replica moves.
//   - Broker 4 killed with -9 and kept down: the collector detects it,
//     starts a fix, and every partition returns to full replication (three
//     in-sync replicas) on brokers 1–3. The seconds from the kill to full
//     replication are the figure the issue asks for.
func TestSelfHealingBrokerFailure(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	// Racks are rack-0,1,2,0 (brokers 1–4): every set below is rack aware,
	// so the goal-violation detector has nothing to do.
	createWithAssignment(t, cl, "__weir_metrics", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	heal := [][]int32{{4, 2, 3}, {2, 3, 4}, {3, 4, 2}, {1, 2, 3}, {4, 3, 2}, {2, 4, 3}, {3, 1, 2}, {4, 2, 3}}
	createWithAssignment(t, cl, "heal", heal)
	waitFullISR(t, adm, "heal", int32(len(heal)), 3)
	fillHealTopic(t, c, "heal", len(heal), 8<<20)

	for _, b := range c.Brokers {
		startAgent(t, "cluster_name: e2e\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: %s\nlog_dirs: [%s]\nsamples: {}\n",
			b.NodeID, strings.Join(c.Bootstrap(), ", "), b.AdminAddr, b.DataDir)
	}
	col := startHealingCollector(t, c)
	await.For(t, 90*time.Second, "a first valid model (a proposal)", func() error {
		return col.get("proposals", nil)
	})
	before := assignment(t, adm)

	// A broker back before the healing threshold costs nothing.
	b4 := c.Broker(4)
	b4.Kill()
	await.For(t, 15*time.Second, "the collector to see broker 4 dead", func() error {
		st := col.anomalies(t)
		if len(st.RecentBrokerFailures) == 0 {
			return fmt.Errorf("no broker failure yet")
		}
		return nil
	})
	b4.Restart(t)
	await.For(t, 30*time.Second, "the broker failure to clear", func() error {
		st := col.anomalies(t)
		if f := st.RecentBrokerFailures[0]; f.ResolvedMs == 0 {
			return fmt.Errorf("broker failure %s still open: %s (%s)", f.AnomalyID, f.Status, f.Note)
		}
		return nil
	})
	st := col.anomalies(t)
	f := st.RecentBrokerFailures[0]
	t.Logf("restarted within the threshold: %s %s: %s (%s)", f.AnomalyID, f.Status, f.Description, f.Note)
	if f.Status != "IGNORED" || f.Attempts != 0 || st.Metrics.NumSelfHealingStarted != 0 {
		t.Fatalf("a broker back before the threshold was healed: %+v, %d fixes started", f, st.Metrics.NumSelfHealingStarted)
	}
	var ex struct {
		Executor struct {
			Total int    `json:"numTotalPartitionMovements"`
			Last  string `json:"lastUserTaskId"`
		} `json:"ExecutorState"`
	}
	if err := col.getJSON("state", map[string]string{"substates": "executor"}, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Executor.Total != 0 || ex.Executor.Last != "" {
		t.Fatalf("an execution ran for a broker back in time: %+v", ex.Executor)
	}
	if after := assignment(t, adm); !maps2Equal(before, after) {
		t.Fatalf("replicas moved although broker 4 came back:\nbefore %v\nafter  %v", before, after)
	}
	waitFullISR(t, adm, "heal", int32(len(heal)), 3)

	// A broker that stays down is replaced: its replicas re-created on the others.
	killed := time.Now()
	b4.Kill()
	await.For(t, 60*time.Second, "every partition fully replicated on brokers 1-3", func() error {
		return fullyReplicatedWithout(adm, 4)
	})
	took := time.Since(killed)
	st = col.anomalies(t)
	f = st.RecentBrokerFailures[0]
	t.Logf("kill -9 of broker 4 to every partition fully replicated on brokers 1-3: %.1f s", took.Seconds())
	t.Logf("anomaly %s %s (attempts %d, fix started %.1f s after detection): %s; %s", f.AnomalyID, f.Status, f.Attempts,
		float64(f.FixStartedMs-f.DetectionMs)/1000, f.Description, f.Note)
	if f.Status != "FIX_STARTED" || f.Attempts != 1 || st.Metrics.NumSelfHealingStarted != 1 {
		t.Errorf("broker failure not healed once: %+v (%d fixes started)", f, st.Metrics.NumSelfHealingStarted)
	}
	body, err := agentHTTPGet("http://" + col.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `weir_collector_self_healing_started_total{type="BROKER_FAILURE"} 1`) {
		t.Errorf("/metrics does not count the fix:\n%s", grepLines(body, "self_healing"))
	}

	// The history survives a kill -9 of the collector (data.dir's
	// anomalies.json), and so does self-healing switched off through the
	// admin endpoint.
	if err := ccclient.New(col.addr).SetSelfHealing(context.Background(), nil, []string{"BROKER_FAILURE"}); err != nil {
		t.Fatal(err)
	}
	restart := time.Now()
	col.kill(t)
	col.start(t)
	again := col.anomalies(t)
	if len(again.RecentBrokerFailures) == 0 {
		t.Fatal("no broker failure kept across the kill -9 of the collector")
	}
	t.Logf("collector killed -9 and serving again in %.2f s; %d broker failures kept, the newest %s %s (%s)", time.Since(restart).Seconds(),
		len(again.RecentBrokerFailures), again.RecentBrokerFailures[0].AnomalyID, again.RecentBrokerFailures[0].Status, again.RecentBrokerFailures[0].Note)
	if !sameHistory(st.RecentBrokerFailures, again.RecentBrokerFailures) {
		t.Errorf("broker failures before the kill:\n%+v\nafter the restart:\n%+v", st.RecentBrokerFailures, again.RecentBrokerFailures)
	}
	if slices.Contains(again.SelfHealingEnabled, "BROKER_FAILURE") {
		t.Errorf("BROKER_FAILURE healing is on again after the restart: %v", again.SelfHealingEnabled)
	}
	// A fix still running at the kill is settled once the executor has
	// recovered: adopted (its moves still in flight) or ended at the restart.
	if f := again.RecentBrokerFailures[0]; f.InterruptedMs != 0 {
		await.For(t, 15*time.Second, "the interrupted fix settled", func() error {
			f = col.anomalies(t).RecentBrokerFailures[0]
			if strings.Contains(f.Note, "waiting for the executor") {
				return fmt.Errorf("%s: %s", f.AnomalyID, f.Note)
			}
			return nil
		})
		t.Logf("%s after the executor recovered: %s (%s)", f.AnomalyID, f.Status, f.Note)
	}
}

// sameHistory reports whether b lists a's anomalies with the same ids,
// detection times, fix starts and attempts (statuses and notes may move
// on: a fix running at the kill is marked interrupted).
func sameHistory(a, b []ccAnomalyEntry) bool {
	return slices.EqualFunc(a, b, func(x, y ccAnomalyEntry) bool {
		return x.AnomalyID == y.AnomalyID && x.DetectionMs == y.DetectionMs && x.FixStartedMs == y.FixStartedMs && x.Attempts == y.Attempts
	})
}

// TestSelfHealingFullDisk: broker 4's disk is 10 MB (capacity.json) and
// its replicas hold 12 MB: a DISK_FAILURE, healed by moving replicas off
// it (DiskCapacityGoal) until it is under disk.capacity.threshold (80 %).
func TestSelfHealingFullDisk(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	createWithAssignment(t, cl, "__weir_metrics", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	full := [][]int32{{4, 2, 3}, {2, 3, 4}, {3, 4, 2}, {4, 3, 2}, {2, 4, 3}, {3, 2, 4}}
	createWithAssignment(t, cl, "full", full)
	waitFullISR(t, adm, "full", int32(len(full)), 3)
	fillHealTopic(t, c, "full", len(full), 12<<20)
	capacity := filepath.Join(t.TempDir(), "capacity.json")
	if err := os.WriteFile(capacity, []byte(`{"brokerCapacities":[
  {"brokerId": "-1", "capacity": {"DISK": "100000", "CPU": "100", "NW_IN": "125000", "NW_OUT": "125000"}, "doc": "default"},
  {"brokerId": "4", "capacity": {"DISK": "10", "CPU": "100", "NW_IN": "125000", "NW_OUT": "125000"}, "doc": "a small disk"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range c.Brokers {
		startAgent(t, "cluster_name: e2e\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: %s\nlog_dirs: [%s]\nsamples: {}\n",
			b.NodeID, strings.Join(c.Bootstrap(), ", "), b.AdminAddr, b.DataDir)
	}
	col := startHealingCollector(t, c, "capacity.config.file="+capacity)
	start := time.Now()
	await.For(t, 90*time.Second, "the full disk detected, healed and cleared", func() error {
		st := col.anomalies(t)
		if _, ok := healed(st.RecentDiskFailures); !ok {
			return fmt.Errorf("no disk failure healed and cleared yet: %+v", st.RecentDiskFailures)
		}
		return nil
	})
	f, _ := healed(col.anomalies(t).RecentDiskFailures)
	t.Logf("%s %s: %s; %s; cleared %.1f s after detection (%.1f s after the collector started)", f.AnomalyID, f.Status,
		f.Description, f.Note, float64(f.ResolvedMs-f.DetectionMs)/1000, time.Since(start).Seconds())
	if f.Status != "FIX_STARTED" || !strings.Contains(f.Description, "broker 4") {
		t.Errorf("disk failure: %+v", f)
	}
	// The admin client's metadata may be a few seconds behind the
	// collector's: wait for it to show the moves.
	await.For(t, 15*time.Second, "broker 4 under its disk threshold", func() error {
		on4 := 0
		for _, replicas := range assignment(t, adm) {
			if slices.Contains(replicas, 4) {
				on4++
			}
		}
		if on4 > 3 { // 2 MB each: at most 8 MB of 10
			return fmt.Errorf("broker 4 still holds %d of the 2 MB partitions", on4)
		}
		return nil
	})
}

// healed is the first anomaly of the list whose fix started and that
// cleared.
func healed(list []ccAnomalyEntry) (ccAnomalyEntry, bool) {
	for _, a := range list {
		if a.Attempts > 0 && a.ResolvedMs != 0 {
			return a, true
		}
	}
	return ccAnomalyEntry{}, false
}

// fillHealTopic writes about size bytes of 1 KiB records, evenly over the
// partitions.
func fillHealTopic(t *testing.T, c *brokertest.Cluster, topic string, partitions, size int) {
	t.Helper()
	pr := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	value := make([]byte, 1024)
	for p := range partitions {
		for range size / 1024 / partitions {
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

// assignment is every partition's replica list.
func assignment(t *testing.T, adm *kadm.Client) map[string][]int32 {
	t.Helper()
	md, err := adm.Metadata(testContext(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int32{}
	for _, td := range md.Topics {
		for _, p := range td.Partitions {
			out[fmt.Sprintf("%s-%d", td.Topic, p.Partition)] = p.Replicas
		}
	}
	return out
}

func maps2Equal(a, b map[string][]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// fullyReplicatedWithout checks every partition has three replicas, none
// on the broker, all in sync.
func fullyReplicatedWithout(adm *kadm.Client, broker int32) error {
	md, err := adm.Metadata(context.Background())
	if err != nil {
		return err
	}
	for _, td := range md.Topics {
		for _, p := range td.Partitions {
			switch {
			case slices.Contains(p.Replicas, broker):
				return fmt.Errorf("%s-%d still has a replica on broker %d: %v", td.Topic, p.Partition, broker, p.Replicas)
			case len(p.Replicas) != 3 || len(p.ISR) != 3:
				return fmt.Errorf("%s-%d: replicas %v, ISR %v", td.Topic, p.Partition, p.Replicas, p.ISR)
			}
		}
	}
	return nil
}

func grepLines(body, s string) string {
	var out []string
	for l := range strings.SplitSeq(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// healingCollector is a `weir collector` with small windows and the
// anomaly detector's defaults (startCollector's process).
type healingCollector struct{ *collectorProc }

func startHealingCollector(t *testing.T, c *brokertest.Cluster, sets ...string) *healingCollector {
	t.Helper()
	return &healingCollector{startCollector(t, c, sets...)}
}

func (p *healingCollector) get(endpoint string, q map[string]string) error {
	return p.getJSON(endpoint, q, nil)
}

func (p *healingCollector) getJSON(endpoint string, q map[string]string, v any) error {
	url := "http://" + p.addr + "/kafkacruisecontrol/" + endpoint + "?json=true"
	for k, val := range q {
		url += "&" + k + "=" + val
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", endpoint, resp.Status)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// ccAnomalyState is the part of Cruise Control's AnomalyDetectorState the
// test reads.
type ccAnomalyState struct {
	SelfHealingEnabled   []string         `json:"selfHealingEnabled"`
	RecentBrokerFailures []ccAnomalyEntry `json:"recentBrokerFailures"`
	RecentDiskFailures   []ccAnomalyEntry `json:"recentDiskFailures"`
	Ongoing              string           `json:"ongoingSelfHealingAnomaly"`
	Metrics              struct {
		NumSelfHealingStarted int     `json:"numSelfHealingStarted"`
		MeanTimeToStartFixMs  float64 `json:"meanTimeToStartFixMs"`
	} `json:"metrics"`
}

type ccAnomalyEntry struct {
	AnomalyID     string           `json:"anomalyId"`
	DetectionMs   int64            `json:"detectionMs"`
	Status        string           `json:"status"`
	Description   string           `json:"description"`
	Note          string           `json:"note"`
	Attempts      int              `json:"attempts"`
	FixStartedMs  int64            `json:"fixStartedMs"`
	ResolvedMs    int64            `json:"resolvedMs"`
	InterruptedMs int64            `json:"interruptedMs"`
	Failed        map[string]int64 `json:"failedBrokersByTimeMs"`
}

func (p *healingCollector) anomalies(t *testing.T) ccAnomalyState {
	t.Helper()
	var st struct {
		A ccAnomalyState `json:"AnomalyDetectorState"`
	}
	if err := p.getJSON("state", map[string]string{"substates": "anomaly_detector"}, &st); err != nil {
		t.Fatal(err)
	}
	return st.A
}
