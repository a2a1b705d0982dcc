package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent"
	agentconfig "github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/internal/await"
)

// The cluster tests are an external test package: brokertest imports
// cluster, which imports the collector, which imports this package.

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

// windowStart is the start of the window before the one t is in, k back.
func windowStart(t time.Time, length time.Duration, k int64) time.Time {
	i := t.UnixMilli()/length.Milliseconds() - k
	return time.UnixMilli(i * length.Milliseconds())
}

func TestMain(m *testing.M) { brokertest.Main(m) }

// clusterConfig keeps 6 windows of 3 s, so samples written into the three
// windows before now stay in the kept ones for the test's length.
func clusterConfig() monitor.Config {
	c := monitor.DefaultConfig()
	c.PartitionWindow, c.NumPartitionWindows = 3*time.Second, 6
	c.BrokerWindow, c.NumBrokerWindows = 3*time.Second, 6
	c.MetadataRefresh = 200 * time.Millisecond
	c.ClusterName = "test"
	return c
}

// runMonitor starts a monitor's Run, stopped and waited for by t.Cleanup.
func runMonitor(t *testing.T, cl *kgo.Client, cfg monitor.Config, reg ...prometheus.Registerer) *monitor.Monitor {
	t.Helper()
	var r prometheus.Registerer
	if len(reg) > 0 {
		r = reg[0]
	}
	m, err := monitor.New(cl, cfg, nil, r)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by the test: waited for in Cleanup
		defer wg.Done()
		if err := m.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return m
}

// TestClusterModel writes samples as the agents would into a real
// three-broker cluster's __weir_metrics, sees a valid model form, and sees
// a second monitor (a restarted collector) rebuild the same model from the
// topic.
func TestClusterModel(t *testing.T) {
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	for _, topic := range []struct {
		name       string
		partitions int32
	}{{"orders", 6}, {samples.DefaultTopic, 2}} {
		if _, err := adm.CreateTopic(ctx, topic.partitions, 3, nil, topic.name); err != nil {
			t.Fatalf("creating %s: %v", topic.name, err)
		}
	}
	fillOrders(ctx, t, c)

	// Before the agents create their topic: LOADING, and the error says why.
	missing := clusterConfig()
	missing.Topic = "__not_yet"
	waiting := runMonitor(t, cl, missing)
	await.For(t, 10*time.Second, "the missing topic reported", func() error {
		st := waiting.State(time.Now())
		if st.State != monitor.StateLoading || !strings.Contains(st.Error, "listing the samples topic's offsets: __not_yet") {
			return fmt.Errorf("state %+v", st)
		}
		var ne *monitor.NotEnoughDataError
		if _, err := waiting.Model(time.Now()); !errors.As(err, &ne) {
			return fmt.Errorf("model: %v", err)
		}
		return nil
	})

	cfg := clusterConfig()
	produceSamples(ctx, t, cl, cfg)

	m := runMonitor(t, cl, cfg)
	var first *model.Cluster
	await.For(t, 30*time.Second, "a valid model", func() error {
		var err error
		first, err = m.Model(time.Now())
		if err == nil && partition(first, "orders", 0).Load.Size == 0 {
			err = fmt.Errorf("orders-0's size not read from the log dirs yet")
		}
		return err
	})
	checkModel(t, first)
	if st := m.State(time.Now()); st.State != monitor.StateRunning || st.SamplesAccepted != 3*(3+6) || st.SamplesRejected != 0 || st.Error != "" {
		t.Errorf("state %+v", st)
	}

	// A restarted collector reads the windows back from the topic.
	again := runMonitor(t, cl, cfg)
	await.For(t, 30*time.Second, "the same model after a restart", func() error {
		now := time.Now()
		a, err := m.Model(now)
		if err != nil {
			return err
		}
		b, err := again.Model(now)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(a, b) {
			return fmt.Errorf("models differ:\n%+v\n%+v", a, b)
		}
		return nil
	})
}

// fillOrders writes a record into every orders partition, so each has a
// size on disk.
func fillOrders(ctx context.Context, t *testing.T, c *brokertest.Cluster) {
	t.Helper()
	p := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range int32(6) {
		if err := p.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: i, Value: []byte("an order")}).FirstErr(); err != nil {
			t.Fatalf("producing to orders-%d: %v", i, err)
		}
	}
}

// produceSamples writes, into each of the three windows before now, a
// broker sample per broker (50% of 2 cores, rack) and a sample per orders
// partition from its leader: bytes in 100·(p+1), no size for orders-0
// (an agent without an admin endpoint).
func produceSamples(ctx context.Context, t *testing.T, cl *kgo.Client, cfg monitor.Config) {
	t.Helper()
	md, err := kadm.NewClient(cl).Metadata(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var recs []*kgo.Record
	for k := int64(3); k > 0; k-- {
		at := windowStart(now, cfg.PartitionWindow, k).Add(500 * time.Millisecond)
		for id := int32(1); id <= 3; id++ {
			rack := fmt.Sprintf("rack-%d", id-1)
			v, err := samples.EncodeBroker(&samples.BrokerLoad{Time: at, ClusterName: "test", BrokerID: id, Interval: 5 * time.Second,
				CPUPercent: f64(50), CPUCores: 2, DiskCapacityBytes: 1e12, Rack: &rack})
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: samples.DefaultTopic, Key: []byte(fmt.Sprint(id)), Value: v, Timestamp: at})
		}
		for _, p := range md.Topics["orders"].Partitions.Sorted() {
			pl := &samples.PartitionLoad{Time: at, ClusterName: "test", BrokerID: p.Leader, Topic: "orders", Partition: p.Partition,
				Leader: p.Leader, Replicas: p.Replicas, BytesInPerSec: f64(100 * float64(p.Partition+1)), BytesOutPerSec: f64(50),
				BytesApportioned: true, MessagesInPerSec: 1}
			if p.Partition > 0 {
				pl.SizeBytes = i64(1000)
			}
			v, err := samples.EncodePartition(pl)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: samples.DefaultTopic, Key: []byte(fmt.Sprintf("orders-%d", p.Partition)), Value: v, Timestamp: at})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing samples: %v", err)
	}
}

func checkModel(t *testing.T, c *model.Cluster) {
	t.Helper()
	if len(c.Brokers) != 3 || c.Windows != 3 || c.ValidPartitionRatio != 1 {
		t.Fatalf("%d brokers, %d windows, ratio %v", len(c.Brokers), c.Windows, c.ValidPartitionRatio)
	}
	for i, b := range c.Brokers {
		if b.State != model.Alive || b.Rack != fmt.Sprintf("rack-%d", i) || b.CapacitySource != monitor.SourceAgent ||
			b.Capacity != (model.Load{2, 125e6, 125e6, 1e12}) || b.Host == "" {
			t.Errorf("broker %+v", b)
		}
	}
	var cpu float64
	for p := range int32(6) {
		l := partition(c, "orders", p).Load
		if l.BytesIn != 100*float64(p+1) || l.BytesOut != 50 || l.LeaderCPU <= 0 || l.FollowerCPU <= 0 || (p > 0 && l.Size != 1000) {
			t.Errorf("orders-%d load %+v", p, l)
		}
		cpu += l.LeaderCPU + 2*l.FollowerCPU
	}
	// Each broker uses 1 core, all of it on orders' replicas.
	if cpu < 2.99 || cpu > 3.01 {
		t.Errorf("the replicas' CPU adds up to %v cores, want 3", cpu)
	}
}

func partition(c *model.Cluster, topic string, p int32) *model.Partition {
	for i := range c.Partitions {
		if q := &c.Partitions[i]; q.Topic == topic && q.Partition == p {
			return q
		}
	}
	return &model.Partition{}
}

// TestRealAgents runs three real agents (agent.Agent with the samples
// exporter, every 250 ms) beside a 3-broker cluster and sees the monitor
// form a model with the agents' capacity.
func TestRealAgents(t *testing.T) {
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	cl := c.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 3, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	for _, b := range c.Brokers {
		cfg, err := agentconfig.Parse([]byte(fmt.Sprintf("cluster_name: agents\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: %s\nbroker_config: %q\ninterval: 250ms\nsamples: {}\n",
			b.NodeID, strings.Join(c.Bootstrap(), ", "), b.AdminAddr, b.ConfigPath)))
		if err != nil {
			t.Fatal(err)
		}
		p := samples.NewProducer(c.Client(t), samples.Options{Topic: cfg.Samples.Topic, Interval: cfg.Interval})
		a, err := agent.New(cfg, c.Client(t), []snapshot.Exporter{p}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { // owned by the test: waited for in Cleanup
			defer wg.Done()
			a.Run(ctx)
		}()
	}
	cfg := monitor.DefaultConfig()
	cfg.PartitionWindow, cfg.NumPartitionWindows, cfg.BrokerWindow, cfg.NumBrokerWindows = time.Second, 4, time.Second, 4
	cfg.MetadataRefresh, cfg.ClusterName = 200*time.Millisecond, "agents"
	reg := prometheus.NewRegistry()
	m := runMonitor(t, cl, cfg, reg)
	await.For(t, 30*time.Second, "a model from the agents' samples", func() error {
		mc, err := m.Model(time.Now())
		if err != nil {
			return err
		}
		for _, b := range mc.Brokers {
			if b.CapacitySource != monitor.SourceAgent || b.Capacity[model.CPU] <= 0 || b.Capacity[model.Disk] <= 0 ||
				b.Capacity[model.NetworkIn] != cfg.DefaultNetworkCapacity { // loopback listeners: no link speed
				return fmt.Errorf("broker %+v", b)
			}
		}
		// The monitor's first metadata may predate orders: the test's
		// client answers metadata from its cache for MetadataMinAge (5 s).
		if st := m.State(time.Now()); st.SamplesAccepted == 0 || st.TotalNumPartitions != 3 || st.NumValidPartitions != 3 {
			return fmt.Errorf("state %+v", st)
		}
		return nil
	})
	// Samples written before the monitor started may have aged out of the
	// windows by the time it reads them (too_old); nothing else is rejected.
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			if f.GetName() == "weir_collector_samples_total" && mt.GetLabel()[1].GetValue() == "rejected" &&
				mt.GetLabel()[0].GetValue() != "too_old" && mt.GetCounter().GetValue() > 0 {
				t.Errorf("rejected: %v", mt)
			}
		}
	}
}
