package agent

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/weirhq/weir/agent/export/cloudwatch"
	"github.com/weirhq/weir/agent/export/prometheus"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/agent/source/brokeradmin"
	"github.com/weirhq/weir/broker/metrics"
)

// mskMetric is one of MSK's CloudWatch metrics as the agent emits it: the
// level MSK introduces it at (or Weir sends it from), its unit and
// dimensions, and the Prometheus series that carries the same figure on
// the agent's endpoints ("" when there is none).
type mskMetric struct {
	level snapshot.Level
	name  string
	unit  string
	dims  string // dimension names joined by ","
	prom  string
}

const (
	dimsCluster  = "Cluster Name"
	dimsBroker   = "Cluster Name,Broker ID"
	dimsTopic    = "Cluster Name,Broker ID,Topic"
	dimsGroup    = "Cluster Name,Consumer Group,Topic"
	dimsGroupPtn = "Cluster Name,Consumer Group,Topic,Partition"
)

// mskMetrics is every MSK metric of every level that Weir emits
// (docs/AGENT.md has the table, and the ones that do not apply).
var mskMetrics = []mskMetric{
	{snapshot.LevelDefault, "ActiveControllerCount", "Count", dimsCluster, "kafka_controller_kafkacontroller_activecontrollercount"},
	{snapshot.LevelDefault, "GlobalTopicCount", "Count", dimsCluster, "kafka_controller_kafkacontroller_globaltopiccount"},
	{snapshot.LevelDefault, "GlobalPartitionCount", "Count", dimsCluster, "kafka_controller_kafkacontroller_globalpartitioncount"},
	{snapshot.LevelDefault, "OfflinePartitionsCount", "Count", dimsCluster, "kafka_controller_kafkacontroller_offlinepartitionscount"},
	{snapshot.LevelDefault, "KafkaDataLogsDiskUsed", "Percent", dimsCluster, "weir_broker_storage_used_percent"},
	{snapshot.LevelDefault, "BytesInPerSec", "Bytes/Second", dimsBroker, "kafka_server_brokertopicmetrics_bytesin_total"},
	{snapshot.LevelDefault, "BytesOutPerSec", "Bytes/Second", dimsBroker, "kafka_server_brokertopicmetrics_bytesout_total"},
	{snapshot.LevelDefault, "MessagesInPerSec", "Count/Second", dimsBroker, "kafka_server_brokertopicmetrics_messagesin_total"},
	{snapshot.LevelDefault, "ClientConnectionCount", "Count", dimsBroker + ",Client Authentication", "weir_broker_client_connection_count"},
	{snapshot.LevelDefault, "ConnectionCount", "Count", dimsBroker, "kafka_server_socketservermetrics_connection_count"},
	{snapshot.LevelDefault, "CpuIdle", "Percent", dimsBroker, "node_cpu_seconds_total"},
	{snapshot.LevelDefault, "CpuIoWait", "Percent", dimsBroker, "node_cpu_seconds_total"},
	{snapshot.LevelDefault, "CpuSystem", "Percent", dimsBroker, "node_cpu_seconds_total"},
	{snapshot.LevelDefault, "CpuUser", "Percent", dimsBroker, "node_cpu_seconds_total"},
	{snapshot.LevelDefault, "KafkaAppLogsDiskUsed", "Percent", dimsBroker, "node_filesystem_avail_bytes"},
	{snapshot.LevelDefault, "KafkaDataLogsDiskUsed", "Percent", dimsBroker, "weir_broker_storage_used_percent"},
	{snapshot.LevelDefault, "LeaderCount", "Count", dimsBroker, "kafka_server_replicamanager_leadercount"},
	{snapshot.LevelDefault, "MemoryBuffered", "Bytes", dimsBroker, "node_memory_Buffers_bytes"},
	{snapshot.LevelDefault, "MemoryCached", "Bytes", dimsBroker, "node_memory_Cached_bytes"},
	{snapshot.LevelDefault, "MemoryFree", "Bytes", dimsBroker, "node_memory_MemFree_bytes"},
	{snapshot.LevelDefault, "MemoryUsed", "Bytes", dimsBroker, "node_memory_MemAvailable_bytes"},
	{snapshot.LevelDefault, "HeapMemoryAfterGC", "Percent", dimsBroker, "go_gc_heap_live_bytes"},
	{snapshot.LevelDefault, "NetworkRxBytes", "Bytes", dimsBroker, "node_network_receive_bytes_total"},
	{snapshot.LevelDefault, "NetworkTxBytes", "Bytes", dimsBroker, "node_network_transmit_bytes_total"},
	{snapshot.LevelDefault, "NetworkRxPackets", "Count", dimsBroker, "node_network_receive_packets_total"},
	{snapshot.LevelDefault, "NetworkTxPackets", "Count", dimsBroker, "node_network_transmit_packets_total"},
	{snapshot.LevelDefault, "NetworkRxErrors", "Count", dimsBroker, "node_network_receive_errs_total"},
	{snapshot.LevelDefault, "NetworkTxErrors", "Count", dimsBroker, "node_network_transmit_errs_total"},
	{snapshot.LevelDefault, "NetworkRxDropped", "Count", dimsBroker, "node_network_receive_drop_total"},
	{snapshot.LevelDefault, "NetworkTxDropped", "Count", dimsBroker, "node_network_transmit_drop_total"},
	{snapshot.LevelDefault, "PartitionCount", "Count", dimsBroker, "kafka_server_replicamanager_partitioncount"},
	{snapshot.LevelDefault, "ProduceTotalTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_totaltimems"},
	{snapshot.LevelDefault, "FetchConsumerTotalTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_totaltimems"},
	{snapshot.LevelDefault, "RequestBytesMean", "Bytes", dimsBroker, "kafka_network_requestmetrics_requestbytes"},
	{snapshot.LevelDefault, "RequestTime", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_localtimems"},
	{snapshot.LevelDefault, "RootDiskUsed", "Percent", dimsBroker, "node_filesystem_size_bytes"},
	{snapshot.LevelDefault, "SwapFree", "Bytes", dimsBroker, "node_memory_SwapFree_bytes"},
	{snapshot.LevelDefault, "SwapUsed", "Bytes", dimsBroker, "node_memory_SwapTotal_bytes"},
	{snapshot.LevelDefault, "UnderMinIsrPartitionCount", "Count", dimsBroker, "kafka_server_replicamanager_underminisrpartitioncount"},
	{snapshot.LevelDefault, "UnderReplicatedPartitions", "Count", dimsBroker, "kafka_server_replicamanager_underreplicatedpartitions"},
	{snapshot.LevelDefault, "UserPartitionExists", "Count", dimsBroker, ""},
	{snapshot.LevelDefault, "SumOffsetLag", "Count", dimsGroup, "kafka_consumergroup_lag_sum"},
	{snapshot.LevelDefault, "MaxOffsetLag", "Count", dimsGroup, "weir_consumergroup_max_lag"},
	{snapshot.LevelDefault, "EstimatedMaxTimeLag", "Seconds", dimsGroup, "weir_consumergroup_max_time_lag_seconds"},

	{snapshot.LevelPerBroker, "ConnectionCloseRate", "Count/Second", dimsBroker, "kafka_server_socketservermetrics_connection_close_total"},
	{snapshot.LevelPerBroker, "ConnectionCreationRate", "Count/Second", dimsBroker, "kafka_server_socketservermetrics_connection_creation_total"},
	{snapshot.LevelPerBroker, "FetchConsumerLocalTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_localtimems"},
	{snapshot.LevelPerBroker, "FetchConsumerRequestQueueTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_requestqueuetimems"},
	{snapshot.LevelPerBroker, "FetchConsumerResponseQueueTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_responsequeuetimems"},
	{snapshot.LevelPerBroker, "FetchConsumerResponseSendTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_responsesendtimems"},
	{snapshot.LevelPerBroker, "FetchFollowerLocalTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_localtimems"},
	{snapshot.LevelPerBroker, "FetchFollowerRequestQueueTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_requestqueuetimems"},
	{snapshot.LevelPerBroker, "FetchFollowerResponseQueueTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_responsequeuetimems"},
	{snapshot.LevelPerBroker, "FetchFollowerResponseSendTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_responsesendtimems"},
	{snapshot.LevelPerBroker, "FetchFollowerTotalTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_totaltimems"},
	{snapshot.LevelPerBroker, "FetchMessageConversionsPerSec", "Count/Second", dimsBroker, "kafka_server_brokertopicmetrics_fetchmessageconversions_total"},
	{snapshot.LevelPerBroker, "FetchThrottleByteRate", "Bytes/Second", dimsBroker, "kafka_server_brokertopicmetrics_bytesout_total"},
	{snapshot.LevelPerBroker, "FetchThrottleQueueSize", "Count", dimsBroker, "kafka_server_quota_queue_size"},
	{snapshot.LevelPerBroker, "FetchThrottleTime", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_throttletimems"},
	{snapshot.LevelPerBroker, "NetworkProcessorAvgIdlePercent", "Percent", dimsBroker, "kafka_network_socketserver_networkprocessoravgidlepercent"},
	{snapshot.LevelPerBroker, "ProduceLocalTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_localtimems"},
	{snapshot.LevelPerBroker, "ProduceMessageConversionsPerSec", "Count/Second", dimsBroker, "kafka_server_brokertopicmetrics_producemessageconversions_total"},
	{snapshot.LevelPerBroker, "ProduceMessageConversionsTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_messageconversionstimems"},
	{snapshot.LevelPerBroker, "ProduceRequestQueueTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_requestqueuetimems"},
	{snapshot.LevelPerBroker, "ProduceResponseQueueTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_responsequeuetimems"},
	{snapshot.LevelPerBroker, "ProduceResponseSendTimeMsMean", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_responsesendtimems"},
	{snapshot.LevelPerBroker, "ProduceThrottleByteRate", "Bytes/Second", dimsBroker, "kafka_network_requestmetrics_requestbytes"},
	{snapshot.LevelPerBroker, "ProduceThrottleQueueSize", "Count", dimsBroker, "kafka_server_quota_queue_size"},
	{snapshot.LevelPerBroker, "ProduceThrottleTime", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_throttletimems"},
	{snapshot.LevelPerBroker, "ReplicationBytesInPerSec", "Bytes/Second", dimsBroker, "kafka_server_brokertopicmetrics_replicationbytesin_total"},
	{snapshot.LevelPerBroker, "ReplicationBytesOutPerSec", "Bytes/Second", dimsBroker, "kafka_server_brokertopicmetrics_replicationbytesout_total"},
	{snapshot.LevelPerBroker, "RequestExemptFromThrottleTime", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_localtimems"},
	{snapshot.LevelPerBroker, "RequestHandlerAvgIdlePercent", "Percent", dimsBroker, "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent"},
	{snapshot.LevelPerBroker, "RequestThrottleQueueSize", "Count", dimsBroker, "kafka_server_quota_queue_size"},
	{snapshot.LevelPerBroker, "RequestThrottleTime", "Milliseconds", dimsBroker, "kafka_network_requestmetrics_throttletimems"},
	{snapshot.LevelPerBroker, "TcpConnections", "Count", dimsBroker, "node_netstat_Tcp_PassiveOpens"},

	{snapshot.LevelPerTopicPerBroker, "BytesInPerSec", "Bytes/Second", dimsTopic, "kafka_server_brokertopicmetrics_bytesin_total"},
	{snapshot.LevelPerTopicPerBroker, "BytesOutPerSec", "Bytes/Second", dimsTopic, "kafka_server_brokertopicmetrics_bytesout_total"},
	{snapshot.LevelPerTopicPerBroker, "MessagesInPerSec", "Count/Second", dimsTopic, "kafka_server_brokertopicmetrics_messagesin_total"},
	{snapshot.LevelPerTopicPerBroker, "FetchMessageConversionsPerSec", "Count/Second", dimsTopic, "kafka_server_brokertopicmetrics_fetchmessageconversions_total"},
	{snapshot.LevelPerTopicPerBroker, "ProduceMessageConversionsPerSec", "Count/Second", dimsTopic, "kafka_server_brokertopicmetrics_producemessageconversions_total"},

	{snapshot.LevelPerTopicPerPartition, "OffsetLag", "Count", dimsGroupPtn, "kafka_consumergroup_lag"},
	{snapshot.LevelPerTopicPerPartition, "EstimatedTimeLag", "Seconds", dimsGroupPtn, "weir_consumergroup_time_lag_seconds"},
}

// brokerScrape renders a real broker/metrics registry with some traffic,
// as the broker's admin /metrics would, and converts two scrapes of it.
func brokerScrape(t *testing.T, at time.Time) *snapshot.Broker {
	t.Helper()
	reg := promclient.NewPedanticRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg, brokerState{})
	traffic := func() {
		m.BytesIn.WithLabelValues("orders").Add(1000)
		m.BytesOut.WithLabelValues("orders").Add(500)
		m.MessagesIn.WithLabelValues("orders").Add(10)
		m.Connections.WithLabelValues("PLAINTEXT").Set(3)
		m.ClientConnections.WithLabelValues("PLAINTEXT").Set(2)
		m.ConnectionsCreated.WithLabelValues("PLAINTEXT").Inc()
		m.ConnectionsClosed.WithLabelValues("PLAINTEXT").Inc()
		m.ReplicationBytesIn.Add(800)
		m.ReplicationBytesOut.Add(900)
		for _, tm := range []metrics.RequestTiming{
			{API: "Produce", Version: 9, Bytes: 1100, Queue: time.Millisecond, Handler: 5 * time.Millisecond, ResponseSend: time.Millisecond},
			{API: "Fetch", Kind: metrics.FetchConsumer, Version: 16, Bytes: 100, Handler: 500 * time.Millisecond},
			{API: "Fetch", Kind: metrics.FetchFollower, Version: 16, Bytes: 100, Handler: 500 * time.Millisecond},
			{API: "Metadata", Version: 12, Bytes: 50, Handler: time.Millisecond},
		} {
			m.ObserveRequest(tm)
		}
		m.Parked("Fetch", metrics.FetchConsumer, 499*time.Millisecond)
		m.Parked("Fetch", metrics.FetchFollower, 499*time.Millisecond)
	}
	var rates brokeradmin.Rates
	var b *snapshot.Broker
	for i := range 2 {
		traffic()
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var page bytes.Buffer
		enc := expfmt.NewEncoder(&page, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				t.Fatal(err)
			}
		}
		parsed, err := brokeradmin.Parse(&page)
		if err != nil {
			t.Fatal(err)
		}
		b = rates.Convert(parsed, at.Add(time.Duration(i-1)*10*time.Second))
	}
	return b
}

// brokerState is broker 2: the active controller, hosting orders-0 (led)
// and orders-1.
type brokerState struct{}

func (brokerState) PartitionStats() []metrics.PartitionStat {
	return []metrics.PartitionStat{{Topic: "orders", Partition: 0, Leader: true, Replicas: 2, ISR: 2, MinISR: 1}, {Topic: "orders", Partition: 1}}
}
func (brokerState) ClusterStats() metrics.ClusterStat {
	return metrics.ClusterStat{ActiveController: true, Topics: 1, Partitions: 2}
}

// StorageStats are the broker's own storage figures, under the names the
// agent also exports from DescribeLogDirs: the agent's win.
func (brokerState) StorageStats() metrics.StorageStat {
	return metrics.StorageStat{Provisioned: 1 << 30, Used: 1 << 20, Limit: 1 << 30}
}

// fullSnapshot is broker 2's agent, beside the active controller, with
// every section collected twice (so rates exist).
func fullSnapshot(t *testing.T) *snapshot.Snapshot {
	at := time.Unix(1_700_000_000, 0)
	disk := func(mount string, pct float64) *snapshot.Disk {
		return &snapshot.Disk{MountPoint: mount, Path: mount, TotalBytes: 1000, UsedBytes: uint64(pct * 10), AvailBytes: 1000 - uint64(pct*10), UsedPercent: pct}
	}
	s := &snapshot.Snapshot{Time: at, ClusterName: "east", BrokerID: 2, Broker: brokerScrape(t, at),
		Host: &snapshot.Host{
			CPU:      snapshot.CPUPercent{Valid: true, User: 30, System: 10, Idle: 55, IOWait: 5},
			CPUTimes: []snapshot.CPUTimes{{CPU: "0", User: 10, Idle: 100}},
			Memory: snapshot.Memory{TotalBytes: 1 << 30, UsedBytes: 1 << 29, FreeBytes: 1 << 28, AvailableBytes: 1 << 29,
				CachedBytes: 1 << 27, BuffersBytes: 1 << 20, SwapTotalBytes: 1 << 26, SwapFreeBytes: 1 << 25},
			Network:     []snapshot.NetDevice{{Device: "eth0", RxBytesTotal: 10, TxBytesTotal: 20, RxErrorsTotal: 1, TxDroppedTotal: 2}},
			NetInterval: snapshot.NetCounts{Valid: true, RxBytes: 100, TxBytes: 200, RxPackets: 3, TxPackets: 4, RxErrors: 1, TxDropped: 2},
			TCP:         snapshot.TCPOpens{Valid: true, ActiveOpens: 10, PassiveOpens: 20, InInterval: 5, IntervalValid: true},
			Disks:       []snapshot.Disk{*disk("/data", 40)},
			RootDisk:    disk("/", 20),
			AppLogDisk:  disk("/var/log", 10),
		},
		Cluster: &snapshot.Cluster{ControllerID: 2, Brokers: []snapshot.BrokerMeta{{ID: 1}, {ID: 2}}, Topics: []snapshot.Topic{
			{Name: "__consumer_offsets", Internal: true, Partitions: []snapshot.Partition{{Leader: 1, Replicas: []int32{1}}}},
			{Name: "orders", Partitions: []snapshot.Partition{{Partition: 0, Leader: 2, Replicas: []int32{2, 1}, ISR: []int32{2, 1}, EndOffset: 10}}},
		}},
		Groups: []snapshot.Group{{Name: "readers", Members: 1, Partitions: []snapshot.GroupPartition{
			{Topic: "orders", Partition: 0, Committed: 5, End: 10, Lag: 5, TimeLagMs: 2000}}}},
		Storage: []snapshot.BrokerStorage{
			{BrokerID: 1, LogDirs: []snapshot.LogDirStorage{{Dir: "/data", TotalBytes: 1000, UsableBytes: 100}}},
			{BrokerID: 2, LogDirs: []snapshot.LogDirStorage{{Dir: "/data", TotalBytes: 1000, UsableBytes: 750}}},
		},
	}
	return s
}

// cloudWatchKeys indexes what the CloudWatch exporter sends: name and
// sorted dimension names → unit.
func cloudWatchKeys(s *snapshot.Snapshot, level snapshot.Level) map[string]string {
	out := map[string]string{}
	for _, d := range cloudwatch.Metrics(s, cloudwatch.Options{Level: level}) {
		var dims []string
		for _, dm := range d.Dimensions {
			dims = append(dims, *dm.Name)
		}
		slices.Sort(dims)
		out[*d.MetricName+"|"+strings.Join(dims, ",")] = string(d.Unit)
	}
	return out
}

func sortedDims(dims string) string {
	d := strings.Split(dims, ",")
	slices.Sort(d)
	return strings.Join(d, ",")
}

// promNames scrapes both Prometheus endpoints at the level and returns the
// series names seen.
func promNames(t *testing.T, s *snapshot.Snapshot, level snapshot.Level) map[string]bool {
	t.Helper()
	e := prometheus.New(prometheus.Options{Level: level})
	if err := e.Export(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, h := range []interface {
		ServeHTTP(w http.ResponseWriter, r *http.Request)
	}{e.BrokerHandler(), e.NodeHandler()} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
		}
		for line := range strings.SplitSeq(rec.Body.String(), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, _, _ := strings.Cut(line, "{")
			name, _, _ = strings.Cut(name, " ")
			out[name] = true // and a summary's own name
			out[strings.TrimSuffix(strings.TrimSuffix(name, "_sum"), "_count")] = true
		}
	}
	return out
}

// TestEveryMSKMetricPerLevel checks each MSK metric Weir emits against
// CloudWatch (from its level on, with its unit and dimensions; not below
// it) and its Prometheus series (present from its level on).
func TestEveryMSKMetricPerLevel(t *testing.T) {
	s := fullSnapshot(t)
	for level := snapshot.LevelDefault; level <= snapshot.LevelPerTopicPerPartition; level++ {
		t.Run(level.String(), func(t *testing.T) {
			cw, prom := cloudWatchKeys(s, level), promNames(t, s, level)
			for _, m := range mskMetrics {
				unit, sent := cw[m.name+"|"+sortedDims(m.dims)]
				switch {
				case level >= m.level && !sent:
					t.Errorf("%s{%s}: not sent to CloudWatch", m.name, m.dims)
				case level >= m.level && unit != m.unit:
					t.Errorf("%s{%s}: unit %s, want %s", m.name, m.dims, unit, m.unit)
				case level < m.level && sent:
					t.Errorf("%s{%s}: sent below %v", m.name, m.dims, m.level)
				}
				if level >= m.level && m.prom != "" && !prom[m.prom] {
					t.Errorf("%s: Prometheus series %s missing", m.name, m.prom)
				}
			}
			for _, name := range []string{"weir_agent_info", "weir_broker_storage_used_bytes", "weir_broker_storage_provisioned_bytes"} {
				if !prom[name] {
					t.Errorf("%s missing", name)
				}
			}
		})
	}
}
