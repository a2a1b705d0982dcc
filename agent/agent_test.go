package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/agent/export/cloudwatch"
	"github.com/weirhq/weir/agent/export/prometheus"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

func TestMain(m *testing.M) { brokertest.Main(m) }

// TestBrokerMetricsMoveUnderLoad runs the agent beside a real broker:
// after acks=all produces and a consumer's fetches, the broker-side
// figures the agent reads (request phases, idle shares, client
// connections, heap, storage over DescribeLogDirs) are there and sane, in
// the snapshot, in CloudWatch's metrics and on the Prometheus endpoint.
func TestBrokerMetricsMoveUnderLoad(t *testing.T) {
	b := brokertest.Start(t, brokertest.Options{})
	cfg, err := config.Parse(fmt.Appendf(nil, "cluster_name: live\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: %s\nlog_dirs: [%q]\nlevel: PER_BROKER\napp_log_dir: %q\n",
		b.NodeID, b.Addr, b.AdminAddr, b.DataDir, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	cl := b.Client(t)
	prom := prometheus.New(prometheus.Options{Level: cfg.Level})
	a, err := New(cfg, cl, []snapshot.Exporter{prom}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if s := a.Collect(ctx); len(s.Errors) > 0 {
		t.Fatalf("first collection: %v", s.Errors)
	}
	load(ctx, t, b)
	s := a.Collect(ctx)
	if len(s.Errors) > 0 || s.Broker == nil {
		t.Fatalf("second collection: %v", s.Errors)
	}
	checkBroker(t, s.Broker)
	checkStorage(t, s)
	checkCloudWatch(t, s)
	if err := prom.Export(ctx, s); err != nil {
		t.Fatal(err)
	}
	checkPrometheus(t, prom, b.NodeID)
}

// load produces 200 records with acks=all and reads them back with a
// consumer of its own (a connection the broker counts as a client's).
func load(ctx context.Context, t *testing.T, b *brokertest.Broker) {
	t.Helper()
	const topic, n = "load", 200
	cl := b.Client(t, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	consumer := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	await.True(t, 30*time.Second, "consuming what was produced", func() bool {
		fs := consumer.PollRecords(ctx, n)
		got += fs.NumRecords()
		return got >= n
	})
}

func percent(v float64) bool { return v >= 0 && v <= 100 }

func checkBroker(t *testing.T, br *snapshot.Broker) {
	t.Helper()
	p := br.Requests["Produce"]
	if p.Count < 200 || p.TotalMs <= 0 || p.LocalMs < 0 || p.RemoteMs < 0 || p.LocalMs+p.RemoteMs > p.TotalMs+1e-6 ||
		br.ProduceTotalTimeMsMean != p.TotalMs {
		t.Errorf("produce phases %+v (ProduceTotalTimeMsMean %v)", p, br.ProduceTotalTimeMsMean)
	}
	if fc := br.Requests["FetchConsumer"]; fc.Count < 1 || fc.TotalMs <= 0 {
		t.Errorf("consumer fetch phases %+v", fc)
	}
	if !br.RequestStatsValid || br.RequestBytesMean <= 0 || br.RequestTimeMsMean <= 0 || br.ProduceRequestBytesPerSec <= 0 {
		t.Errorf("request stats: bytes mean %v, time %v, produce bytes/s %v", br.RequestBytesMean, br.RequestTimeMsMean, br.ProduceRequestBytesPerSec)
	}
	if !br.RequestHandlerIdleValid || !percent(br.RequestHandlerIdlePercent) || !br.NetworkProcessorIdleValid ||
		!percent(br.NetworkProcessorIdlePercent) || br.NetworkProcessorIdlePercent == 100 {
		t.Errorf("idle: request handlers %v (valid %v), network processors %v (valid %v)", br.RequestHandlerIdlePercent,
			br.RequestHandlerIdleValid, br.NetworkProcessorIdlePercent, br.NetworkProcessorIdleValid)
	}
	if !br.ClientConnectionValid || br.ClientConnectionCount < 2 || br.ClientConnectionCount > br.ConnectionCount {
		t.Errorf("client connections %v of %v", br.ClientConnectionCount, br.ConnectionCount)
	}
	if !br.HeapValid || br.HeapLiveBytes <= 0 || !br.ReplicationValid || !br.ConversionsValid || br.BytesInPerSec <= 0 {
		t.Errorf("heap %v, replication %v, conversions %v, bytes in %v", br.HeapLiveBytes, br.ReplicationValid, br.ConversionsValid, br.BytesInPerSec)
	}
}

func checkStorage(t *testing.T, s *snapshot.Snapshot) {
	t.Helper()
	own, ok := s.OwnStorage()
	pct, known := own.UsedPercent()
	if !ok || !known || own.ProvisionedBytes() <= 0 || own.UsedBytes() <= 0 || !percent(pct) {
		t.Errorf("storage %+v: used %d of %d (%v %%)", own, own.UsedBytes(), own.ProvisionedBytes(), pct)
	}
	if h := s.Host; h == nil || h.RootDisk == nil || h.AppLogDisk == nil || !h.NetInterval.Valid {
		t.Errorf("host %+v", h)
	}
}

func checkCloudWatch(t *testing.T, s *snapshot.Snapshot) {
	t.Helper()
	got := map[string]float64{}
	for _, d := range cloudwatch.Metrics(s, cloudwatch.Options{Level: snapshot.LevelPerBroker}) {
		if len(d.Dimensions) >= 2 { // the broker's own
			got[*d.MetricName] = *d.Value
		}
	}
	for _, name := range []string{"RequestHandlerAvgIdlePercent", "NetworkProcessorAvgIdlePercent", "KafkaDataLogsDiskUsed", "HeapMemoryAfterGC", "RootDiskUsed"} {
		if v, ok := got[name]; !ok || !percent(v) {
			t.Errorf("%s = %v (sent %v), want 0–100", name, v, ok)
		}
	}
	for _, name := range []string{"ProduceTotalTimeMsMean", "ProduceLocalTimeMsMean", "FetchConsumerTotalTimeMsMean", "RequestTime", "RequestBytesMean", "ClientConnectionCount"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v, want above 0", name, got[name])
		}
	}
}

func checkPrometheus(t *testing.T, prom *prometheus.Exporter, id int32) {
	t.Helper()
	rec := httptest.NewRecorder()
	prom.BrokerHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string) (float64, bool) {
		f := fams[name]
		if f == nil || len(f.GetMetric()) == 0 {
			return 0, false
		}
		m := f.GetMetric()[0]
		return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue(), true
	}
	for _, name := range []string{"kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent", "kafka_network_socketserver_networkprocessoravgidlepercent"} {
		if v, ok := value(name); !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v (present %v), want 0–1", name, v, ok)
		}
	}
	for _, name := range []string{"weir_broker_storage_used_bytes", "weir_broker_storage_provisioned_bytes", "kafka_server_replicamanager_leadercount", "go_gc_heap_live_bytes"} {
		if v, ok := value(name); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want above 0", name, v, ok)
		}
	}
	if f := fams["kafka_network_requestmetrics_localtimems"]; f == nil || len(f.GetMetric()) == 0 {
		t.Error("no local time series")
	}
	info := fams["weir_agent_info"]
	if info == nil || !strings.Contains(info.String(), fmt.Sprintf(`value:"%d"`, id)) || !strings.Contains(info.String(), `value:"live"`) {
		t.Errorf("weir_agent_info: %v", info)
	}
}
