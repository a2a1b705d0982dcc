package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// PartitionStat is one hosted partition's state at scrape time.
type PartitionStat struct {
	Topic          string
	Partition      int32
	Size           int64
	LogStartOffset int64
	LogEndOffset   int64
	HighWatermark  int64
	Segments       int
	Leader         bool
	Replicas       int
	ISR            int
	MinISR         int
}

// ClusterStat is the cluster-level view this broker has at scrape time.
type ClusterStat struct {
	ActiveController  bool
	Topics            int
	Partitions        int
	OfflinePartitions int
}

// StorageStat is the broker's provisioned storage at scrape time (Weir's
// own: Kafka has no provisioned size).
type StorageStat struct {
	Provisioned int64 // weir.storage.provisioned.bytes; 0: none set
	Used        int64 // segment bytes of every hosted partition, all log dirs
	Limit       int64 // the effective limit: provisioned, capped by used + filesystem free
}

// PartitionSource is what the broker exposes to the scrape-time collector.
type PartitionSource interface {
	PartitionStats() []PartitionStat
	ClusterStats() ClusterStat
	StorageStats() StorageStat
}

type stateCollector struct {
	src         PartitionSource
	conversions *Conversions

	size, lso, leo, hw, segments           *prometheus.Desc
	partitionCount, leaderCount            *prometheus.Desc
	underReplicated, underMinISR, atMinISR *prometheus.Desc
	activeController, offline              *prometheus.Desc
	globalTopics, globalPartitions         *prometheus.Desc
	produceConversions, fetchConversions   *prometheus.Desc
	provisioned, used, limit               *prometheus.Desc
}

func newStateCollector(src PartitionSource, conv *Conversions) *stateCollector {
	part := []string{"topic", "partition"}
	d := prometheus.NewDesc
	return &stateCollector{
		src:              src,
		conversions:      conv,
		size:             d("kafka_log_log_size", "Bytes of a partition's log on disk (Log Size).", part, nil),
		lso:              d("kafka_log_log_logstartoffset", "A partition's log start offset (Log LogStartOffset).", part, nil),
		leo:              d("kafka_log_log_logendoffset", "A partition's log end offset (Log LogEndOffset).", part, nil),
		hw:               d("kafka_cluster_partition_highwatermark", "A partition's high watermark.", part, nil),
		segments:         d("kafka_log_log_numlogsegments", "Segments in a partition's log (Log NumLogSegments).", part, nil),
		partitionCount:   d("kafka_server_replicamanager_partitioncount", "Partitions hosted by this broker (ReplicaManager PartitionCount).", nil, nil),
		leaderCount:      d("kafka_server_replicamanager_leadercount", "Partitions this broker leads (ReplicaManager LeaderCount).", nil, nil),
		underReplicated:  d("kafka_server_replicamanager_underreplicatedpartitions", "Led partitions whose ISR is smaller than their replica set.", nil, nil),
		underMinISR:      d("kafka_server_replicamanager_underminisrpartitioncount", "Led partitions whose ISR is below min.insync.replicas.", nil, nil),
		atMinISR:         d("kafka_server_replicamanager_atminisrpartitioncount", "Led partitions whose ISR equals min.insync.replicas.", nil, nil),
		activeController: d("kafka_controller_kafkacontroller_activecontrollercount", "1 on the broker that is the active controller.", nil, nil),
		offline:          d("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a live leader (reported by the active controller).", nil, nil),
		globalTopics:     d("kafka_controller_kafkacontroller_globaltopiccount", "Topics in the cluster (reported by the active controller).", nil, nil),
		globalPartitions: d("kafka_controller_kafkacontroller_globalpartitioncount", "Partitions in the cluster (reported by the active controller).", nil, nil),
		produceConversions: d("kafka_server_brokertopicmetrics_producemessageconversions_total",
			"Produced records converted to another format, per hosted topic (BrokerTopicMetrics ProduceMessageConversionsPerSec): Produce v0–v2 message sets, up-converted to v2 batches.", []string{"topic"}, nil),
		fetchConversions: d("kafka_server_brokertopicmetrics_fetchmessageconversions_total",
			"Fetched records converted to an older format, per hosted topic (BrokerTopicMetrics FetchMessageConversionsPerSec): stored v2 batches down-converted for Fetch v0–v3.", []string{"topic"}, nil),
		provisioned: d("weir_broker_storage_provisioned_bytes", "This broker's provisioned storage (weir.storage.provisioned.bytes); 0: none set, the filesystem is the limit.", nil, nil),
		used:        d("weir_broker_storage_used_bytes", "Segment bytes of every partition hosted by this broker, across its log dirs.", nil, nil),
		limit:       d("weir_broker_storage_limit_bytes", "Bytes the logs may grow to before produce is refused: the provisioned size, capped by used + the filesystem's free bytes.", nil, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.size, c.lso, c.leo, c.hw, c.segments, c.partitionCount,
		c.leaderCount, c.underReplicated, c.underMinISR, c.atMinISR, c.activeController,
		c.offline, c.globalTopics, c.globalPartitions, c.produceConversions, c.fetchConversions,
		c.provisioned, c.used, c.limit} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	var leaders, under, underMin, atMin int
	stats := c.src.PartitionStats()
	topics := map[string]bool{}
	for _, p := range stats {
		if !topics[p.Topic] {
			topics[p.Topic] = true
			produced, fetched := c.conversions.get(p.Topic)
			counter(ch, c.produceConversions, float64(produced), p.Topic)
			counter(ch, c.fetchConversions, float64(fetched), p.Topic)
		}
		lv := []string{p.Topic, strconv.Itoa(int(p.Partition))}
		gauge(ch, c.size, float64(p.Size), lv...)
		gauge(ch, c.lso, float64(p.LogStartOffset), lv...)
		gauge(ch, c.leo, float64(p.LogEndOffset), lv...)
		gauge(ch, c.hw, float64(p.HighWatermark), lv...)
		gauge(ch, c.segments, float64(p.Segments), lv...)
		if !p.Leader {
			continue
		}
		leaders++
		if p.ISR < p.Replicas {
			under++
		}
		if p.ISR < p.MinISR {
			underMin++
		} else if p.ISR == p.MinISR {
			atMin++
		}
	}
	gauge(ch, c.partitionCount, float64(len(stats)))
	gauge(ch, c.leaderCount, float64(leaders))
	gauge(ch, c.underReplicated, float64(under))
	gauge(ch, c.underMinISR, float64(underMin))
	gauge(ch, c.atMinISR, float64(atMin))
	cs := c.src.ClusterStats()
	active := 0.0
	if cs.ActiveController {
		active = 1
	}
	gauge(ch, c.activeController, active)
	gauge(ch, c.offline, float64(cs.OfflinePartitions))
	gauge(ch, c.globalTopics, float64(cs.Topics))
	gauge(ch, c.globalPartitions, float64(cs.Partitions))
	ss := c.src.StorageStats()
	gauge(ch, c.provisioned, float64(ss.Provisioned))
	gauge(ch, c.used, float64(ss.Used))
	gauge(ch, c.limit, float64(ss.Limit))
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}
