package prometheus

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/agent/source/brokeradmin"
)

const brokerPage = `# TYPE kafka_server_brokertopicmetrics_bytesin_total counter
kafka_server_brokertopicmetrics_bytesin_total{topic="orders"} 100
kafka_server_brokertopicmetrics_bytesin_total{topic="tmp"} 5
# TYPE kafka_log_log_size gauge
kafka_log_log_size{partition="0",topic="orders"} 10
kafka_log_log_size{partition="0",topic="tmp"} 1
# TYPE kafka_server_replicamanager_underreplicatedpartitions gauge
kafka_server_replicamanager_underreplicatedpartitions 0
# TYPE kafka_network_requestmetrics_requests_total counter
kafka_network_requestmetrics_requests_total{request="Produce",version="9"} 3
# TYPE go_goroutines gauge
go_goroutines 12
`

// testSnapshot has two topics of three partitions and one group on each.
func testSnapshot(t *testing.T) *snapshot.Snapshot {
	fams, err := brokeradmin.Parse(strings.NewReader(brokerPage))
	if err != nil {
		t.Fatal(err)
	}
	var rates brokeradmin.Rates
	s := &snapshot.Snapshot{Broker: rates.Convert(fams, testTime), Cluster: &snapshot.Cluster{Brokers: []snapshot.BrokerMeta{{ID: 1}}}}
	for _, topic := range []string{"orders", "tmp"} {
		tp := snapshot.Topic{Name: topic}
		g := snapshot.Group{Name: topic + "-readers", Members: 2}
		for p := range int32(3) {
			tp.Partitions = append(tp.Partitions, snapshot.Partition{Partition: p, Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1}, EndOffset: 100})
			g.Partitions = append(g.Partitions, snapshot.GroupPartition{Topic: topic, Partition: p, Committed: 90, End: 100, Lag: 10, TimeLagMs: 1500})
		}
		s.Cluster.Topics = append(s.Cluster.Topics, tp)
		s.Groups = append(s.Groups, g)
	}
	s.Host = &snapshot.Host{CPUTimes: []snapshot.CPUTimes{{CPU: "0", User: 1}}, Memory: snapshot.Memory{TotalBytes: 8}}
	return s
}

func scrape(t *testing.T, e *Exporter) map[string]int {
	t.Helper()
	rec := httptest.NewRecorder()
	e.BrokerHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	counts := map[string]int{}
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		counts[name]++
	}
	return counts
}

func TestLevelsAndFilters(t *testing.T) {
	type want map[string]int
	cases := []struct {
		level  snapshot.Level
		topics func(string) bool
		want   want
	}{
		{snapshot.LevelDefault, nil, want{
			"kafka_brokers": 1, "kafka_topic_partitions": 0, "kafka_topic_partition_current_offset": 0,
			"kafka_consumergroup_lag_sum": 2, "kafka_consumergroup_lag": 0, "kafka_consumergroup_members": 2,
			"weir_consumergroup_max_time_lag_seconds": 2, "weir_consumergroup_time_lag_seconds": 0,
			"kafka_server_brokertopicmetrics_bytesin_total":         1, // summed over topics
			"kafka_server_replicamanager_underreplicatedpartitions": 1,
			"kafka_network_requestmetrics_requests_total":           0, "kafka_log_log_size": 0, "go_goroutines": 0,
		}},
		{snapshot.LevelPerBroker, nil, want{"kafka_network_requestmetrics_requests_total": 1, "kafka_server_brokertopicmetrics_bytesin_total": 1, "kafka_topic_partitions": 0}},
		{snapshot.LevelPerTopicPerBroker, nil, want{"kafka_topic_partitions": 2, "kafka_server_brokertopicmetrics_bytesin_total": 2, "kafka_log_log_size": 0, "kafka_consumergroup_lag": 0}},
		{snapshot.LevelPerTopicPerPartition, nil, want{
			"kafka_topic_partition_current_offset": 6, "kafka_topic_partition_under_replicated_partition": 6,
			"kafka_consumergroup_lag": 6, "kafka_consumergroup_current_offset": 6, "weir_consumergroup_time_lag_seconds": 6,
			"kafka_log_log_size": 2,
		}},
		{snapshot.LevelPerTopicPerPartition, func(s string) bool { return s != "tmp" }, want{
			"kafka_topic_partitions": 1, "kafka_topic_partition_current_offset": 3, "kafka_consumergroup_lag": 3,
			"kafka_consumergroup_lag_sum": 1, "kafka_log_log_size": 1, "kafka_server_brokertopicmetrics_bytesin_total": 1,
		}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v", c.level), func(t *testing.T) {
			e := New(Options{Level: c.level, Topics: c.topics})
			if err := e.Export(context.Background(), testSnapshot(t)); err != nil {
				t.Fatal(err)
			}
			got := scrape(t, e)
			for name, n := range c.want {
				if got[name] != n {
					t.Errorf("%s: %d series, want %d", name, got[name], n)
				}
			}
		})
	}
}

func TestDefaultLevelSumsTopics(t *testing.T) {
	e := New(Options{Level: snapshot.LevelDefault})
	_ = e.Export(context.Background(), testSnapshot(t))
	rec := httptest.NewRecorder()
	e.BrokerHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "\nkafka_server_brokertopicmetrics_bytesin_total 105\n") {
		t.Fatalf("no all-topics bytes in series of 105:\n%s", rec.Body)
	}
}

func TestGroupFilterAndNode(t *testing.T) {
	e := New(Options{Level: snapshot.LevelPerTopicPerPartition, Groups: func(g string) bool { return g == "orders-readers" }})
	_ = e.Export(context.Background(), testSnapshot(t))
	if got := scrape(t, e)["kafka_consumergroup_members"]; got != 1 {
		t.Fatalf("group filter: %d groups", got)
	}
	fams, err := e.nodeGatherer.Gather()
	n := 0
	for _, f := range fams {
		if f.GetName() == "node_cpu_seconds_total" || f.GetName() == "node_memory_MemTotal_bytes" {
			n += len(f.GetMetric())
		}
	}
	if err != nil || n != 9 {
		t.Fatalf("node series: %d, %v; want 8 cpu modes and MemTotal", n, err)
	}
}

func TestNoSnapshotYet(t *testing.T) {
	e := New(Options{})
	if got := scrape(t, e); got["weir_agent_up"] != 1 || len(got) != 1 {
		t.Fatalf("before the first snapshot: %v", got)
	}
}

var testTime = time.Unix(1_700_000_000, 0)

// TestStorageInfoAndDefaultCuts: the storage pair only when the broker
// reported sizes (the autoscaler falls back to the filesystem without it),
// weir_agent_info at every level, and DEFAULT's cut of TotalTimeMs.
func TestStorageInfoAndDefaultCuts(t *testing.T) {
	s := testSnapshot(t)
	s.BrokerID, s.ClusterName = 3, "east"
	s.Storage = []snapshot.BrokerStorage{{BrokerID: 3, LogDirs: []snapshot.LogDirStorage{{Dir: "/d", TotalBytes: 1000, UsableBytes: 600}}}}
	fams, err := brokeradmin.Parse(strings.NewReader(brokerPage + `# TYPE kafka_network_requestmetrics_totaltimems summary
kafka_network_requestmetrics_totaltimems_sum{request="Produce"} 1
kafka_network_requestmetrics_totaltimems_count{request="Produce"} 1
kafka_network_requestmetrics_totaltimems_sum{request="Metadata"} 1
kafka_network_requestmetrics_totaltimems_count{request="Metadata"} 1
# TYPE go_gc_heap_live_bytes gauge
go_gc_heap_live_bytes 5
`))
	if err != nil {
		t.Fatal(err)
	}
	var rates brokeradmin.Rates
	s.Broker = rates.Convert(fams, testTime)
	e := New(Options{Level: snapshot.LevelDefault})
	_ = e.Export(context.Background(), s)
	rec := httptest.NewRecorder()
	e.BrokerHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"\nweir_broker_storage_used_bytes 400\n", "\nweir_broker_storage_provisioned_bytes 1000\n",
		"\nweir_broker_storage_used_percent 40\n", `weir_agent_info{broker_id="3",cluster="east"} 1`,
		`kafka_network_requestmetrics_totaltimems_count{request="Produce"} 1`, "\ngo_gc_heap_live_bytes 5\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
	if strings.Contains(body, `request="Metadata"`) || strings.Contains(body, "go_goroutines") {
		t.Errorf("DEFAULT exports Metadata's total time or the broker's goroutines:\n%s", body)
	}
	s.Storage[0].LogDirs[0].TotalBytes = -1 // Kafka before 3.3
	_ = e.Export(context.Background(), s)
	if got := scrape(t, e); got["weir_broker_storage_used_bytes"] != 0 || got["weir_broker_storage_provisioned_bytes"] != 0 {
		t.Errorf("storage pair without sizes: %v", got)
	}
}

// TestNodeFilesystemsOnce: the root and application-log filesystems join
// the log dirs' ones, each mount point once.
func TestNodeFilesystemsOnce(t *testing.T) {
	s := testSnapshot(t)
	s.Host.Disks = []snapshot.Disk{{MountPoint: "/", LogDirs: []string{"/data"}, TotalBytes: 10}}
	s.Host.RootDisk = &snapshot.Disk{MountPoint: "/", Path: "/", TotalBytes: 10}
	s.Host.AppLogDisk = &snapshot.Disk{MountPoint: "/var/log", Path: "/var/log/kafka", TotalBytes: 10}
	e := New(Options{})
	_ = e.Export(context.Background(), s)
	fams, err := e.nodeGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "node_filesystem_size_bytes" && len(f.GetMetric()) != 2 {
			t.Fatalf("%d filesystems, want / and /var/log", len(f.GetMetric()))
		}
	}
}
