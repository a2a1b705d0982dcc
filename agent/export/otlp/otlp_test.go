package otlp

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/weirhq/weir/agent/pipeline"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/internal/await"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The collector's receiver and grpc-go keep process-wide goroutines.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
	)
}

var testTime = time.Unix(1_700_000_000, 0)

// testSnapshot has two topics of two partitions, one group on each, and a
// host and broker section with known values.
func testSnapshot() *snapshot.Snapshot {
	s := &snapshot.Snapshot{Time: testTime, ClusterName: "east", BrokerID: 2,
		Cluster: &snapshot.Cluster{ClusterID: "c-1", Brokers: []snapshot.BrokerMeta{{ID: 1}, {ID: 2}, {ID: 3}}},
		Host: &snapshot.Host{CPU: snapshot.CPUPercent{Valid: true, User: 30, System: 10, Idle: 55, IOWait: 5},
			Memory: snapshot.Memory{TotalBytes: 1000, UsedBytes: 600, FreeBytes: 300, AvailableBytes: 400},
			Disks:  []snapshot.Disk{{MountPoint: "/data", TotalBytes: 100, UsedBytes: 25, AvailBytes: 75, UsedPercent: 25}}},
		Broker: &snapshot.Broker{BytesInPerSec: 2048, BytesOutPerSec: 1024, MessagesInPerSec: 20, UnderReplicatedPartitions: 1,
			PartitionCount: 4, LeaderCount: 2, ProduceTotalTimeMsMean: 3.5,
			Topics: []snapshot.TopicRates{{Topic: "orders", BytesInPerSec: 2000}, {Topic: "tmp", BytesInPerSec: 48}}},
		Agent: snapshot.AgentHealth{Exporters: []snapshot.ExporterHealth{{Name: "otlp", Dropped: 3}}},
	}
	for _, topic := range []string{"orders", "tmp"} {
		tp := snapshot.Topic{Name: topic}
		g := snapshot.Group{Name: topic + "-readers", Members: 2}
		for p := range int32(2) {
			tp.Partitions = append(tp.Partitions, snapshot.Partition{Partition: p, Leader: 2, Replicas: []int32{2, 3}, ISR: []int32{2}, StartOffset: 5, EndOffset: 100 + int64(p)})
			g.Partitions = append(g.Partitions, snapshot.GroupPartition{Topic: topic, Partition: p, Committed: 90, End: 100 + int64(p), Lag: 10 + int64(p), TimeLagMs: 1500})
		}
		s.Cluster.Topics = append(s.Cluster.Topics, tp)
		s.Groups = append(s.Groups, g)
	}
	return s
}

// receiver is the OpenTelemetry Collector's own OTLP receiver, in process.
type receiver struct {
	sink           *consumertest.MetricsSink
	grpcAddr, http string
}

func startReceiver(t *testing.T) *receiver { return startReceiverB(t) }

func startReceiverB(t testing.TB) *receiver {
	t.Helper()
	r := &receiver{sink: new(consumertest.MetricsSink), grpcAddr: freeAddr(t), http: freeAddr(t)}
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = r.grpcAddr
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = r.http
	rcv, err := f.CreateMetrics(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, r.sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	return r
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// point is one received data point, flattened.
type point struct {
	attrs map[string]any
	value float64
	unit  string
}

// flatten indexes everything received by metric name, and returns the
// resource attributes of the last resource.
func flatten(all []pmetric.Metrics) (map[string][]point, map[string]any) {
	out := map[string][]point{}
	var res map[string]any
	for _, md := range all {
		for _, rm := range md.ResourceMetrics().All() {
			res = rm.Resource().Attributes().AsRaw()
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					var dps pmetric.NumberDataPointSlice
					switch m.Type() {
					case pmetric.MetricTypeGauge:
						dps = m.Gauge().DataPoints()
					case pmetric.MetricTypeSum:
						dps = m.Sum().DataPoints()
					default:
						continue
					}
					for _, dp := range dps.All() {
						v := dp.DoubleValue()
						if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
							v = float64(dp.IntValue())
						}
						if dp.Timestamp() != pcommon.NewTimestampFromTime(testTime) {
							v = -999 // wrong time: fail any value check
						}
						out[m.Name()] = append(out[m.Name()], point{attrs: dp.Attributes().AsRaw(), value: v, unit: m.Unit()})
					}
				}
			}
		}
	}
	return out, res
}

// find returns the value of the point of name whose attributes include want.
func find(got map[string][]point, name string, want map[string]any) (float64, string, bool) {
	for _, p := range got[name] {
		ok := true
		for k, v := range want {
			if fmt.Sprint(p.attrs[k]) != fmt.Sprint(v) {
				ok = false
			}
		}
		if ok {
			return p.value, p.unit, true
		}
	}
	return 0, "", false
}

func TestExportThroughTheCollectorReceiver(t *testing.T) {
	r := startReceiver(t)
	for _, c := range []struct{ protocol, endpoint string }{
		{ProtocolGRPC, r.grpcAddr},
		{ProtocolHTTP, r.http},
		{ProtocolHTTP, "http://" + r.http}, // a URL without a path gets /v1/metrics
	} {
		t.Run(c.protocol+" "+c.endpoint, func(t *testing.T) {
			r.sink.Reset()
			e, err := New(context.Background(), Options{Endpoint: c.endpoint, Protocol: c.protocol, Insecure: true,
				Level: snapshot.LevelPerTopicPerPartition})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			if err := e.Export(context.Background(), testSnapshot()); err != nil {
				t.Fatal(err)
			}
			await.True(t, 10*time.Second, "the receiver to get the export", func() bool { return r.sink.DataPointCount() > 0 })
			checkReceived(t, r.sink.AllMetrics())
		})
	}
}

func checkReceived(t *testing.T, all []pmetric.Metrics) {
	t.Helper()
	got, res := flatten(all)
	wantRes := map[string]any{"service.name": "weir-agent", "kafka.cluster.name": "east", "kafka.broker.id": int64(2), "kafka.cluster.id": "c-1"}
	for k, v := range wantRes {
		if res[k] != v {
			t.Errorf("resource %s = %v, want %v (all: %v)", k, res[k], v, res)
		}
	}
	type a = map[string]any
	checks := []struct {
		name  string
		attrs a
		want  float64
		unit  string
	}{
		{"kafka.brokers", nil, 3, "{broker}"},
		{"kafka.topic.partitions", a{"topic": "orders"}, 2, "{partition}"},
		{"kafka.partition.current_offset", a{"topic": "tmp", "partition": 1}, 101, "1"},
		{"kafka.partition.oldest_offset", a{"topic": "tmp", "partition": 1}, 5, "1"},
		{"kafka.partition.replicas", a{"topic": "orders", "partition": 0}, 2, "{replica}"},
		{"kafka.partition.replicas_in_sync", a{"topic": "orders", "partition": 0}, 1, "{replica}"},
		{"kafka.consumer_group.lag", a{"group": "orders-readers", "topic": "orders", "partition": 1}, 11, "1"},
		{"kafka.consumer_group.lag_sum", a{"group": "orders-readers", "topic": "orders"}, 21, "1"},
		{"kafka.consumer_group.offset", a{"group": "tmp-readers", "topic": "tmp", "partition": 0}, 90, "1"},
		{"kafka.consumer_group.members", a{"group": "tmp-readers"}, 2, "{member}"},
		{"weir.consumer_group.max_lag", a{"group": "orders-readers", "topic": "orders"}, 11, "1"},
		{"weir.consumer_group.time_lag", a{"group": "orders-readers", "topic": "orders", "partition": 0}, 1.5, "s"},
		{"kafka.broker.bytes_in", nil, 2048, "By/s"},
		{"kafka.broker.bytes_out", nil, 1024, "By/s"},
		{"kafka.broker.messages_in", nil, 20, "{message}/s"},
		{"kafka.broker.under_replicated_partitions", nil, 1, "{partition}"},
		{"kafka.broker.produce.total_time.mean", nil, 3.5, "ms"},
		{"kafka.topic.bytes_in", a{"topic": "tmp"}, 48, "By/s"},
		{"system.cpu.utilization", a{"cpu.mode": "user"}, 0.30, "1"},
		{"system.cpu.utilization", a{"cpu.mode": "iowait"}, 0.05, "1"},
		{"system.memory.usage", a{"system.memory.state": "used"}, 600, "By"},
		{"system.filesystem.utilization", a{"system.filesystem.mountpoint": "/data"}, 0.25, "1"},
		{"weir.agent.exporter.dropped", a{"exporter": "otlp"}, 3, "{snapshot}"},
	}
	for _, c := range checks {
		v, unit, ok := find(got, c.name, c.attrs)
		if !ok {
			t.Errorf("%s%v: not received", c.name, c.attrs)
			continue
		}
		if diff := v - c.want; diff > 1e-9 || diff < -1e-9 || unit != c.unit {
			t.Errorf("%s%v = %v %s, want %v %s", c.name, c.attrs, v, unit, c.want, c.unit)
		}
	}
}

func TestLevelsAndFilters(t *testing.T) {
	count := func(e *Exporter) map[string]int {
		out := map[string]int{}
		for _, m := range e.Metrics(testSnapshot()).ScopeMetrics[0].Metrics {
			out[m.Name] = countPoints(m.Data)
		}
		return out
	}
	cases := []struct {
		level  snapshot.Level
		topics func(string) bool
		groups func(string) bool
		want   map[string]int
	}{
		{snapshot.LevelDefault, nil, nil, map[string]int{"kafka.brokers": 1, "kafka.topic.partitions": 0, "kafka.partition.current_offset": 0,
			"kafka.consumer_group.lag_sum": 2, "kafka.consumer_group.lag": 0, "kafka.broker.leaders": 0, "kafka.topic.bytes_in": 0, "system.cpu.utilization": 4}},
		{snapshot.LevelPerBroker, nil, nil, map[string]int{"kafka.broker.leaders": 1, "kafka.topic.bytes_in": 0}},
		{snapshot.LevelPerTopicPerBroker, nil, nil, map[string]int{"kafka.topic.partitions": 2, "kafka.topic.bytes_in": 2, "kafka.partition.replicas": 0}},
		{snapshot.LevelPerTopicPerPartition, nil, nil, map[string]int{"kafka.partition.replicas": 4, "kafka.consumer_group.lag": 4, "weir.consumer_group.time_lag": 4}},
		{snapshot.LevelPerTopicPerPartition, func(s string) bool { return s == "orders" }, func(g string) bool { return g != "orders-readers" },
			map[string]int{"kafka.partition.replicas": 2, "kafka.topic.bytes_in": 1, "kafka.consumer_group.lag": 0, "kafka.consumer_group.members": 1}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d-%v", i, c.level), func(t *testing.T) {
			e := &Exporter{opts: Options{Level: c.level, Topics: c.topics, Groups: c.groups}}
			if e.opts.Topics == nil {
				e.opts.Topics = func(string) bool { return true }
			}
			if e.opts.Groups == nil {
				e.opts.Groups = func(string) bool { return true }
			}
			got := count(e)
			for name, n := range c.want {
				if got[name] != n {
					t.Errorf("%s: %d points, want %d", name, got[name], n)
				}
			}
		})
	}
}

func TestEnvironmentConfiguresTheExporter(t *testing.T) {
	r := startReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+r.http)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2000")
	e, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if e.Protocol() != ProtocolHTTP {
		t.Fatalf("protocol %q from the environment, want http", e.Protocol())
	}
	if err := e.Export(context.Background(), testSnapshot()); err != nil {
		t.Fatal(err)
	}
	await.True(t, 10*time.Second, "the export", func() bool { return r.sink.DataPointCount() > 0 })

	// The config file's section overrides the environment.
	r.sink.Reset()
	e2, err := New(context.Background(), Options{Endpoint: r.grpcAddr, Protocol: ProtocolGRPC, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close(context.Background())
	if err := e2.Export(context.Background(), testSnapshot()); err != nil {
		t.Fatal(err)
	}
	await.True(t, 10*time.Second, "the export over gRPC", func() bool { return r.sink.DataPointCount() > 0 })
}

func TestInterval(t *testing.T) {
	r := startReceiver(t)
	e, err := New(context.Background(), Options{Endpoint: r.grpcAddr, Insecure: true, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	for i := range 3 {
		s := testSnapshot()
		s.Time = testTime.Add(time.Duration(i) * 30 * time.Second)
		if err := e.Export(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	await.True(t, 10*time.Second, "two exports", func() bool { return len(r.sink.AllMetrics()) == 2 })
}

// blackHole accepts connections and never answers: the worst collector.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() { // owned by the cleanup below
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// recorder counts what a healthy sink exported.
type recorder struct {
	mu sync.Mutex
	n  int
}

func (r *recorder) Name() string { return "ok" }
func (r *recorder) Export(context.Context, *snapshot.Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return nil
}
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// TestDeadCollectorNeverBlocksCollection: with the collector refusing
// connections or hanging, publishing never waits, the healthy sink gets
// every snapshot, and the OTLP sink's failures and drops are counted while
// it holds at most its queue.
func TestDeadCollectorNeverBlocksCollection(t *testing.T) {
	for _, c := range []struct{ name, protocol, endpoint string }{
		{"grpc refused", ProtocolGRPC, freeAddr(t)},
		{"grpc hanging", ProtocolGRPC, blackHole(t)},
		{"http refused", ProtocolHTTP, freeAddr(t)},
		{"http hanging", ProtocolHTTP, blackHole(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := New(context.Background(), Options{Endpoint: c.endpoint, Protocol: c.protocol, Insecure: true})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			ok := &recorder{}
			p := pipeline.New([]snapshot.Exporter{e, ok}, pipeline.Options{ExportTimeout: 100 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { p.Run(ctx); close(done) }()
			const n = 30
			for i := range n {
				start := time.Now()
				p.Publish(testSnapshot())
				if d := time.Since(start); d > 50*time.Millisecond {
					t.Fatalf("Publish took %v", d)
				}
				await.True(t, 10*time.Second, "the healthy sink", func() bool { return ok.count() == i+1 })
			}
			await.True(t, 10*time.Second, "every OTLP snapshot failed or dropped", func() bool {
				h := p.Health()[0]
				return h.Errors+h.Dropped == n && h.Queued == 0
			})
			h := p.Health()[0]
			if h.Exported != 0 || h.Errors == 0 || h.LastError == "" {
				t.Fatalf("OTLP health %+v", h)
			}
			cancel()
			<-done
		})
	}
}

// countPoints counts an aggregation's points.
func countPoints(a any) int {
	switch d := a.(type) {
	case metricdata.Gauge[float64]:
		return len(d.DataPoints)
	case metricdata.Gauge[int64]:
		return len(d.DataPoints)
	case metricdata.Sum[float64]:
		return len(d.DataPoints)
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	}
	return -1
}
