package cloudwatch

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/weirhq/weir/agent/snapshot"
)

// MSK's dimension names.
const (
	DimCluster   = "Cluster Name"
	DimBroker    = "Broker ID"
	DimTopic     = "Topic"
	DimGroup     = "Consumer Group"
	DimPartition = "Partition"
	// DimClientAuth is ClientConnectionCount's dimension: how clients
	// authenticate. Weir's listeners are plaintext.
	DimClientAuth  = "Client Authentication"
	ClientAuthNone = "Unauthenticated"
)

// The RequestMetrics names of the two kinds of fetch.
const (
	FetchConsumer = "FetchConsumer"
	FetchFollower = "FetchFollower"
)

// Units MSK uses.
const (
	unitBytesPerSec = types.StandardUnitBytesSecond
	unitCountPerSec = types.StandardUnitCountSecond
	unitCount       = types.StandardUnitCount
	unitPercent     = types.StandardUnitPercent
	unitBytes       = types.StandardUnitBytes
	unitMillis      = types.StandardUnitMilliseconds
	unitSeconds     = types.StandardUnitSeconds
)

// metrics accumulates one snapshot's data.
type metrics struct {
	t    time.Time
	data []types.MetricDatum
}

func (m *metrics) add(name string, unit types.StandardUnit, v float64, dims ...types.Dimension) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return // CloudWatch rejects them
	}
	m.data = append(m.data, types.MetricDatum{MetricName: aws.String(name), Unit: unit, Value: aws.Float64(v),
		Timestamp: aws.Time(m.t), Dimensions: dims})
}

func dim(name, value string) types.Dimension {
	return types.Dimension{Name: aws.String(name), Value: aws.String(value)}
}

// Metrics turns a snapshot into MSK's CloudWatch metrics at the level.
//
// Per-broker metrics need the agent's broker id. Cluster-wide metrics
// (global counts, offline partitions, the cluster's KafkaDataLogsDiskUsed,
// consumer lag) would arrive once per agent; only one agent publishes them
// (snapshot.PublishesClusterMetrics).
func Metrics(s *snapshot.Snapshot, o Options) []types.MetricDatum {
	o = withDefaults(o)
	m := &metrics{t: s.Time}
	cluster := dim(DimCluster, s.ClusterName)
	if s.Broker != nil {
		m.add("ActiveControllerCount", unitCount, s.Broker.ActiveControllerCount, cluster)
	}
	if s.PublishesClusterMetrics() {
		clusterWide(m, s, cluster)
		clusterStorage(m, s.Storage, cluster)
		lag(m, s.Groups, o, cluster)
	}
	if s.BrokerID < 0 {
		return m.data
	}
	broker := dim(DimBroker, strconv.Itoa(int(s.BrokerID)))
	if s.Broker != nil {
		brokerMetrics(m, s.Broker, o, cluster, broker)
		heap(m, s.Broker, s.Host, cluster, broker)
	}
	if s.Host != nil {
		hostMetrics(m, s.Host, o, cluster, broker)
	}
	dataLogs(m, s, cluster, broker)
	if s.Cluster != nil {
		m.add("UserPartitionExists", unitCount, bool01(hostsUserPartition(s.Cluster, s.BrokerID)), cluster, broker)
	}
	return m.data
}

// clusterWide are the DEFAULT metrics with the Cluster Name dimension
// alone, from the broker's controller gauges or else the metadata.
func clusterWide(m *metrics, s *snapshot.Snapshot, cluster types.Dimension) {
	switch {
	case s.Broker != nil:
		m.add("GlobalTopicCount", unitCount, s.Broker.GlobalTopicCount, cluster)
		m.add("GlobalPartitionCount", unitCount, s.Broker.GlobalPartitionCount, cluster)
		m.add("OfflinePartitionsCount", unitCount, s.Broker.OfflinePartitionsCount, cluster)
	case s.Cluster != nil:
		var partitions, offline int
		for _, t := range s.Cluster.Topics {
			partitions += len(t.Partitions)
			for _, p := range t.Partitions {
				if p.Leader < 0 {
					offline++
				}
			}
		}
		m.add("GlobalTopicCount", unitCount, float64(len(s.Cluster.Topics)), cluster)
		m.add("GlobalPartitionCount", unitCount, float64(partitions), cluster)
		m.add("OfflinePartitionsCount", unitCount, float64(offline), cluster)
	}
}

// clusterStorage is the cluster's KafkaDataLogsDiskUsed: the fullest
// broker's, over the brokers that reported their storage.
func clusterStorage(m *metrics, storage []snapshot.BrokerStorage, cluster types.Dimension) {
	fullest, found := 0.0, false
	for _, b := range storage {
		if pct, ok := b.UsedPercent(); ok {
			fullest, found = max(fullest, pct), true
		}
	}
	if found {
		m.add("KafkaDataLogsDiskUsed", unitPercent, fullest, cluster)
	}
}

// dataLogs is the broker's KafkaDataLogsDiskUsed (snapshot.DataLogsUsedPercent).
func dataLogs(m *metrics, s *snapshot.Snapshot, cluster, broker types.Dimension) {
	if pct, ok := s.DataLogsUsedPercent(); ok {
		m.add("KafkaDataLogsDiskUsed", unitPercent, pct, cluster, broker)
	}
}

// hostsUserPartition reports whether the broker holds a replica of a
// user's topic (MSK's UserPartitionExists): not an internal topic, nor
// one of the "__" topics brokers and tools keep for themselves.
func hostsUserPartition(c *snapshot.Cluster, id int32) bool {
	for _, t := range c.Topics {
		if t.Internal || strings.HasPrefix(t.Name, "__") {
			continue
		}
		for _, p := range t.Partitions {
			if slices.Contains(p.Replicas, id) {
				return true
			}
		}
	}
	return false
}

func brokerMetrics(m *metrics, b *snapshot.Broker, o Options, cluster, broker types.Dimension) {
	m.add("BytesInPerSec", unitBytesPerSec, b.BytesInPerSec, cluster, broker)
	m.add("BytesOutPerSec", unitBytesPerSec, b.BytesOutPerSec, cluster, broker)
	m.add("MessagesInPerSec", unitCountPerSec, b.MessagesInPerSec, cluster, broker)
	m.add("LeaderCount", unitCount, b.LeaderCount, cluster, broker)
	m.add("PartitionCount", unitCount, b.PartitionCount, cluster, broker)
	m.add("UnderReplicatedPartitions", unitCount, b.UnderReplicatedPartitions, cluster, broker)
	m.add("UnderMinIsrPartitionCount", unitCount, b.UnderMinISRPartitions, cluster, broker)
	m.add("ProduceTotalTimeMsMean", unitMillis, b.ProduceTotalTimeMsMean, cluster, broker)
	// MSK lists FetchConsumerTotalTimeMsMean at PER_BROKER; Weir has sent
	// it from DEFAULT, and dashboards read it there.
	m.add("FetchConsumerTotalTimeMsMean", unitMillis, b.FetchTotalTimeMsMean, cluster, broker)
	m.add("ConnectionCount", unitCount, b.ConnectionCount, cluster, broker)
	if b.ClientConnectionValid {
		m.add("ClientConnectionCount", unitCount, b.ClientConnectionCount, cluster, broker, dim(DimClientAuth, ClientAuthNone))
	}
	if b.RequestStatsValid {
		m.add("RequestBytesMean", unitBytes, b.RequestBytesMean, cluster, broker)
		m.add("RequestTime", unitMillis, b.RequestTimeMsMean, cluster, broker)
	}
	if o.Level.Includes(snapshot.LevelPerBroker) {
		perBroker(m, b, cluster, broker)
	}
	if o.Level.Includes(snapshot.LevelPerTopicPerBroker) {
		perTopic(m, b, o, cluster, broker)
	}
}

// heap is MSK's HeapMemoryAfterGC for a Go broker: the heap its last GC
// found live, as a share of its memory limit (GOMEMLIMIT), or of the
// host's memory when it has none.
func heap(m *metrics, b *snapshot.Broker, h *snapshot.Host, cluster, broker types.Dimension) {
	limit := b.HeapLimitBytes
	if limit <= 0 && h != nil {
		limit = float64(h.Memory.TotalBytes)
	}
	if b.HeapValid && limit > 0 {
		m.add("HeapMemoryAfterGC", unitPercent, b.HeapLiveBytes/limit*100, cluster, broker)
	}
}

func perBroker(m *metrics, b *snapshot.Broker, cluster, broker types.Dimension) {
	add := func(name string, unit types.StandardUnit, v float64) { m.add(name, unit, v, cluster, broker) }
	add("ConnectionCreationRate", unitCountPerSec, b.ConnectionCreationPerSec)
	add("ConnectionCloseRate", unitCountPerSec, b.ConnectionClosePerSec)
	if b.ReplicationValid {
		add("ReplicationBytesInPerSec", unitBytesPerSec, b.ReplicationBytesInPerSec)
		add("ReplicationBytesOutPerSec", unitBytesPerSec, b.ReplicationBytesOutPerSec)
	}
	if b.RequestHandlerIdleValid {
		add("RequestHandlerAvgIdlePercent", unitPercent, b.RequestHandlerIdlePercent)
	}
	if b.NetworkProcessorIdleValid {
		add("NetworkProcessorAvgIdlePercent", unitPercent, b.NetworkProcessorIdlePercent)
	}
	if b.ConversionsValid {
		add("ProduceMessageConversionsPerSec", unitCountPerSec, b.ProduceMessageConversionsPerSec)
		add("FetchMessageConversionsPerSec", unitCountPerSec, b.FetchMessageConversionsPerSec)
	}
	if b.RequestStatsValid {
		requestPhases(add, b)
		throttling(add, b)
	}
}

// requestPhases are the Produce, FetchConsumer and FetchFollower phase
// means (their TotalTimeMs at DEFAULT but FetchFollower's).
func requestPhases(add func(string, types.StandardUnit, float64), b *snapshot.Broker) {
	for _, k := range []struct {
		prefix, request string
		total           bool
	}{{"Produce", "Produce", false}, {"FetchConsumer", FetchConsumer, false}, {"FetchFollower", FetchFollower, true}} {
		p := b.Requests[k.request]
		if k.total {
			add(k.prefix+"TotalTimeMsMean", unitMillis, p.TotalMs)
		}
		add(k.prefix+"LocalTimeMsMean", unitMillis, p.LocalMs)
		add(k.prefix+"RequestQueueTimeMsMean", unitMillis, p.RequestQueueMs)
		add(k.prefix+"ResponseQueueTimeMsMean", unitMillis, p.ResponseQueueMs)
		add(k.prefix+"ResponseSendTimeMsMean", unitMillis, p.ResponseSendMs)
	}
	add("ProduceMessageConversionsTimeMsMean", unitMillis, b.Requests["Produce"].MessageConversionsMs)
}

// throttling is MSK's client-quota metrics: throttle times from the
// responses' throttle times, byte rates as Kafka's quotas measure them
// (produce request bytes; bytes sent to consumers), queue sizes as the
// broker reports them.
func throttling(add func(string, types.StandardUnit, float64), b *snapshot.Broker) {
	add("ProduceThrottleTime", unitMillis, b.Requests["Produce"].ThrottleMs)
	add("ProduceThrottleByteRate", unitBytesPerSec, b.ProduceRequestBytesPerSec)
	add("FetchThrottleTime", unitMillis, b.Requests[FetchConsumer].ThrottleMs)
	add("FetchThrottleByteRate", unitBytesPerSec, b.BytesOutPerSec)
	add("RequestThrottleTime", unitMillis, b.RequestThrottleTimeMsMean)
	add("RequestExemptFromThrottleTime", unitMillis, b.RequestExemptTimeMsMean)
	if b.ThrottleQueueSize != nil {
		add("ProduceThrottleQueueSize", unitCount, b.ThrottleQueueSize["Produce"])
		add("FetchThrottleQueueSize", unitCount, b.ThrottleQueueSize["Fetch"])
		add("RequestThrottleQueueSize", unitCount, b.ThrottleQueueSize["Request"])
	}
}

func perTopic(m *metrics, b *snapshot.Broker, o Options, cluster, broker types.Dimension) {
	for _, t := range b.Topics {
		if !o.Topics(t.Topic) {
			continue
		}
		topic := dim(DimTopic, t.Topic)
		m.add("BytesInPerSec", unitBytesPerSec, t.BytesInPerSec, cluster, broker, topic)
		m.add("BytesOutPerSec", unitBytesPerSec, t.BytesOutPerSec, cluster, broker, topic)
		m.add("MessagesInPerSec", unitCountPerSec, t.MessagesInPerSec, cluster, broker, topic)
		if b.ConversionsValid {
			m.add("ProduceMessageConversionsPerSec", unitCountPerSec, t.ProduceMessageConversionsPerSec, cluster, broker, topic)
			m.add("FetchMessageConversionsPerSec", unitCountPerSec, t.FetchMessageConversionsPerSec, cluster, broker, topic)
		}
	}
}

func hostMetrics(m *metrics, h *snapshot.Host, o Options, cluster, broker types.Dimension) {
	add := func(name string, unit types.StandardUnit, v float64) { m.add(name, unit, v, cluster, broker) }
	if h.CPU.Valid {
		add("CpuUser", unitPercent, h.CPU.User)
		add("CpuSystem", unitPercent, h.CPU.System)
		add("CpuIdle", unitPercent, h.CPU.Idle)
		add("CpuIoWait", unitPercent, h.CPU.IOWait)
	}
	mem := h.Memory
	add("MemoryUsed", unitBytes, float64(mem.UsedBytes))
	add("MemoryFree", unitBytes, float64(mem.FreeBytes))
	add("MemoryCached", unitBytes, float64(mem.CachedBytes))
	add("MemoryBuffered", unitBytes, float64(mem.BuffersBytes))
	add("SwapUsed", unitBytes, float64(mem.SwapUsedBytes()))
	add("SwapFree", unitBytes, float64(mem.SwapFreeBytes))
	if h.RootDisk != nil {
		add("RootDiskUsed", unitPercent, h.RootDisk.UsedPercent)
	}
	if h.AppLogDisk != nil {
		add("KafkaAppLogsDiskUsed", unitPercent, h.AppLogDisk.UsedPercent)
	}
	if n := h.NetInterval; n.Valid {
		add("NetworkRxBytes", unitBytes, float64(n.RxBytes))
		add("NetworkTxBytes", unitBytes, float64(n.TxBytes))
		add("NetworkRxPackets", unitCount, float64(n.RxPackets))
		add("NetworkTxPackets", unitCount, float64(n.TxPackets))
		add("NetworkRxErrors", unitCount, float64(n.RxErrors))
		add("NetworkTxErrors", unitCount, float64(n.TxErrors))
		add("NetworkRxDropped", unitCount, float64(n.RxDropped))
		add("NetworkTxDropped", unitCount, float64(n.TxDropped))
	}
	if h.TCP.IntervalValid && o.Level.Includes(snapshot.LevelPerBroker) {
		add("TcpConnections", unitCount, float64(h.TCP.InInterval))
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// lag is MSK's consumer-lag metrics: per group and topic at DEFAULT, per
// partition at PER_TOPIC_PER_PARTITION.
func lag(m *metrics, groups []snapshot.Group, o Options, cluster types.Dimension) {
	perPartition := o.Level.Includes(snapshot.LevelPerTopicPerPartition)
	for _, g := range groups {
		if !o.Groups(g.Name) {
			continue
		}
		group := dim(DimGroup, g.Name)
		for _, tl := range g.LagByTopic() {
			if !o.Topics(tl.Topic) {
				continue
			}
			topic := dim(DimTopic, tl.Topic)
			m.add("SumOffsetLag", unitCount, float64(tl.SumLag), cluster, group, topic)
			m.add("MaxOffsetLag", unitCount, float64(tl.MaxLag), cluster, group, topic)
			if tl.MaxTimeLagMs >= 0 {
				m.add("EstimatedMaxTimeLag", unitSeconds, float64(tl.MaxTimeLagMs)/1000, cluster, group, topic)
			}
		}
		if !perPartition {
			continue
		}
		for _, p := range g.Partitions {
			if !o.Topics(p.Topic) {
				continue
			}
			topic, part := dim(DimTopic, p.Topic), dim(DimPartition, strconv.Itoa(int(p.Partition)))
			m.add("OffsetLag", unitCount, float64(p.Lag), cluster, group, topic, part)
			if p.TimeLagMs >= 0 {
				m.add("EstimatedTimeLag", unitSeconds, float64(p.TimeLagMs)/1000, cluster, group, topic, part)
			}
		}
	}
}
