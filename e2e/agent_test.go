package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/agent/source/brokeradmin"
	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestAgentPrometheus runs the whole open-monitoring path: a real broker, a
// real `weir agent` process beside it, and a real Prometheus server scraping
// the agent's two endpoints every second; then it asks Prometheus, over its
// HTTP API, for the broker's bytes in, its under-replicated partitions, the
// node series and a consumer group's lag (a franz-go group consumer against
// the broker's group coordinator).
//
// The same agent also runs the push exporters: load samples to
// __weir_metrics on the broker (read back and decoded), and OTLP and
// CloudWatch aimed at dead endpoints, which fail, are counted, and hold up
// nothing else.
func TestAgentPrometheus(t *testing.T) {
	t.Parallel()
	promBin := lookProm(t)
	ctx := testContext(t, 90*time.Second)

	b := startBroker(t, nil)
	const topic = "agent-e2e"
	adm := admin(t, b)
	createTopic(t, adm, topic, 2, nil)
	prod := b.Client(t, kgo.DefaultProduceTopic(topic))
	for i := range 40 {
		produceSync(t, prod, &kgo.Record{Value: []byte(fmt.Sprintf("record-%03d", i))})
	}
	// A group that commits, stops consuming and lags.
	createTopic(t, adm, "orders", 1, nil)
	const consumed, extra = 60, 25
	produceTo(t, b.Addr, "orders", consumed)
	consumeAndCommit(t, ctx, b.Addr, "orders", "e2e-readers", consumed)
	produceTo(t, b.Addr, "orders", extra) // the group has stopped: it now lags by extra

	dead := freePort(t) // nothing listens here
	agent := startAgent(t, "cluster_name: e2e\nbroker_id: 1\nbrokers: [%s]\nbroker_admin_url: %s\nlog_dirs: [%s]\n"+
		"otlp: {endpoint: %q, insecure: true, timeout: 200ms}\ncloudwatch: {endpoint: \"http://%s\", region: eu-west-1}\nsamples: {}\n",
		b.Addr, b.AdminAddr, b.DataDir, dead, dead)
	prom := startPrometheus(t, promBin, map[string][]string{"weir-broker": {agent.broker, agent.node}})

	wantBytesIn := brokerCounter(t, b, "kafka_server_brokertopicmetrics_bytesin_total", topic)
	if wantBytesIn <= 0 {
		t.Fatalf("the broker counted %v bytes in for %s", wantBytesIn, topic)
	}
	const job = `job="weir-broker"`
	checks := []struct {
		query string
		want  float64
	}{
		{fmt.Sprintf(`kafka_server_brokertopicmetrics_bytesin_total{%s,topic=%q}`, job, topic), wantBytesIn},
		{`kafka_server_replicamanager_underreplicatedpartitions{` + job + `}`, 0},
		{fmt.Sprintf(`sum(kafka_topic_partition_current_offset{%s,topic=%q})`, job, topic), 40},
		{`weir_agent_up{` + job + `}`, 1},
		{`count(node_memory_MemTotal_bytes{` + job + `} > 0)`, 1},
		{`kafka_consumergroup_current_offset{` + job + `,consumergroup="e2e-readers",topic="orders",partition="0"}`, consumed},
		{`kafka_topic_partition_current_offset{` + job + `,topic="orders",partition="0"}`, consumed + extra},
		{`kafka_consumergroup_lag{` + job + `,consumergroup="e2e-readers",topic="orders",partition="0"}`, extra},
		{`kafka_consumergroup_lag_sum{` + job + `,consumergroup="e2e-readers",topic="orders"}`, extra},
		{`kafka_consumergroup_members{` + job + `,consumergroup="e2e-readers"}`, 0},
		// The dead sinks fail every export; the samples sink does not.
		{`clamp_max(weir_agent_exporter_errors_total{` + job + `,exporter="otlp"}, 1)`, 1},
		{`clamp_max(weir_agent_exporter_errors_total{` + job + `,exporter="cloudwatch"}, 1)`, 1},
		{`weir_agent_exporter_errors_total{` + job + `,exporter="samples"}`, 0},
	}
	for _, c := range checks {
		await.For(t, 45*time.Second, c.query+" = "+strconv.FormatFloat(c.want, 'f', -1, 64), func() error {
			got, err := prom.query(c.query)
			if err != nil {
				return err
			}
			if got != c.want {
				return fmt.Errorf("Prometheus says %v", got)
			}
			return nil
		})
	}
	// The time lag needs two collections of history; it exists and is positive.
	await.For(t, 30*time.Second, "a time lag for the lagging group", func() error {
		got, err := prom.query(`weir_consumergroup_time_lag_seconds{` + job + `,consumergroup="e2e-readers"}`)
		if err == nil && got <= 0 {
			err = fmt.Errorf("time lag %v s", got)
		}
		return err
	})
	checkSamples(t, ctx, b, topic)
	agent.stop(t)
}

// checkSamples reads the agent's load samples back from __weir_metrics and
// decodes them with agent/samples: a broker sample for broker 1 and a
// partition sample for each partition of topic, with their size on disk.
func checkSamples(t *testing.T, ctx context.Context, b *brokertest.Broker, topic string) {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(samples.DefaultTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var broker *samples.BrokerLoad
	parts := map[int32]*samples.PartitionLoad{}
	for broker == nil || len(parts) < 2 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("load samples: broker %v, %d partitions of %s: %v", broker, len(parts), topic, ctx.Err())
		}
		for _, r := range fs.Records() {
			s, err := samples.Decode(r.Value)
			if err != nil {
				t.Fatalf("decoding the sample keyed %q: %v", r.Key, err)
			}
			switch {
			case s.Broker != nil:
				broker = s.Broker
			case s.Partition.Topic == topic:
				parts[s.Partition.Partition] = s.Partition
			}
		}
	}
	if broker.BrokerID != 1 || broker.ClusterName != "e2e" || broker.DiskCapacityBytes <= 0 {
		t.Errorf("broker sample %+v", broker)
	}
	var size int64 // the producer's sticky partitioner may have filled one partition
	for p, pl := range parts {
		if pl.Leader != 1 || pl.SizeBytes == nil || pl.BytesInPerSec == nil {
			t.Errorf("%s-%d sample %+v", topic, p, pl)
			continue
		}
		size += *pl.SizeBytes
	}
	if size <= 0 {
		t.Errorf("the samples of %s say it holds %d bytes", topic, size)
	}
}

func lookProm(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("WEIR_PROMETHEUS"), "/usr/bin/prometheus"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return lookTool(t, "prometheus")
}

// agentProc is one running `weir agent`.
type agentProc struct {
	broker, node string // the Prometheus endpoints, host:port
	cmd          *exec.Cmd
	exited       chan struct{}
	err          error
	logs         *syncBuffer
	once         sync.Once
}

// startAgent writes the config (header plus a 1 s interval, the finest
// level and the Prometheus section on free ports) and starts the agent,
// waiting until its broker endpoint serves a collected snapshot.
func startAgent(t *testing.T, header string, args ...any) *agentProc {
	t.Helper()
	a := &agentProc{broker: freePort(t), node: freePort(t), exited: make(chan struct{}), logs: &syncBuffer{}}
	cfg := fmt.Sprintf(header, args...) + fmt.Sprintf(
		"interval: 1s\nlevel: PER_TOPIC_PER_PARTITION\nprometheus:\n  broker_listen: %q\n  node_listen: %q\n", a.broker, a.node)
	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command(brokertest.Binary(t), "agent", "--config", path, "--log-level", "debug")
	a.cmd.Stdout, a.cmd.Stderr = a.logs, a.logs
	// Static credentials keep the AWS SDK off the instance-metadata address.
	a.cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=e2e", "AWS_SECRET_ACCESS_KEY=e2e")
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // owned by a: every path waits on a.exited
		a.err = a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.stop(t)
		if t.Failed() {
			t.Logf("weir agent output (%s):\n%s", a.broker, a.logs.String())
		}
	})
	await.For(t, 20*time.Second, "the agent to serve a snapshot", func() error {
		select {
		case <-a.exited:
			t.Fatalf("weir agent exited: %v\n%s", a.err, a.logs.String())
		default:
		}
		body, err := agentHTTPGet("http://" + a.broker + "/metrics")
		if err == nil && !strings.Contains(body, "weir_agent_up 1") {
			err = fmt.Errorf("no weir_agent_up 1 yet")
		}
		return err
	})
	return a
}

// stop sends SIGTERM and expects a clean exit within 10 s.
func (a *agentProc) stop(t *testing.T) {
	a.once.Do(func() {
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.exited:
			if a.err != nil {
				t.Errorf("weir agent exited uncleanly after SIGTERM: %v\n%s", a.err, a.logs.String())
			}
		case <-time.After(10 * time.Second):
			_ = a.cmd.Process.Kill()
			<-a.exited
			t.Errorf("weir agent did not stop within 10s of SIGTERM")
		}
	})
}

// promServer is a running Prometheus.
type promServer struct{ addr string }

// startPrometheus runs prometheus scraping each job's targets every second.
func startPrometheus(t *testing.T, bin string, jobs map[string][]string) *promServer {
	t.Helper()
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
	for job, targets := range jobs {
		quoted := make([]string, len(targets))
		for i, target := range targets {
			quoted[i] = strconv.Quote(target)
		}
		fmt.Fprintf(&cfg, "  - job_name: %q\n    static_configs:\n      - targets: [%s]\n", job, strings.Join(quoted, ", "))
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &promServer{addr: freePort(t)}
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { // owned by the cleanup below, which waits on exited
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	await.For(t, 30*time.Second, "prometheus to be ready", func() error {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		_, err := agentHTTPGet("http://" + p.addr + "/-/ready")
		return err
	})
	return p
}

// query runs an instant query that must return exactly one sample.
func (p *promServer) query(q string) (float64, error) {
	body, err := agentHTTPGet("http://" + p.addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	var resp struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return 0, fmt.Errorf("decode %s: %w", body, err)
	}
	if resp.Status != "success" {
		return 0, fmt.Errorf("query failed: %s", resp.Error)
	}
	if n := len(resp.Data.Result); n != 1 {
		return 0, fmt.Errorf("%d series, want 1", n)
	}
	s, _ := resp.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// brokerCounter reads one series of the broker's own /metrics.
func brokerCounter(t *testing.T, b *brokertest.Broker, name, topic string) float64 {
	t.Helper()
	body, err := agentHTTPGet("http://" + b.AdminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	fams, err := brokeradmin.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "topic" && l.GetValue() == topic {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("broker /metrics has no %s{topic=%q}", name, topic)
	return 0
}

func produceTo(t *testing.T, seed, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seed), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range n {
		produceSync(t, cl, &kgo.Record{Value: []byte(strconv.Itoa(i))})
	}
}

// consumeAndCommit joins group, reads n records, commits them and leaves.
func consumeAndCommit(t *testing.T, ctx context.Context, seed, topic, group string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seed), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records: %v", got, n, ctx.Err())
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// freePort is a loopback host:port free a moment ago, below the ephemeral
// range (brokertest.FreeRange).
func freePort(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", brokertest.FreeRange(t, 1))
}

func agentHTTPGet(u string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s %s", u, resp.Status, sb.String())
	}
	return sb.String(), nil
}

// syncBuffer collects a child process's output.
type syncBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}
