package cloudwatch

import (
	"math"
	"strconv"
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
// (global counts, offline partitions, consumer lag) would arrive once per
// agent; only one agent publishes them: the active controller's (by the
// broker's ActiveControllerCount, or the metadata's controller id without
// a broker admin endpoint), or an agent run with broker_id −1.
func Metrics(s *snapshot.Snapshot, o Options) []types.MetricDatum {
	o = withDefaults(o)
	m := &metrics{t: s.Time}
	cluster := dim(DimCluster, s.ClusterName)
	if s.Broker != nil {
		m.add("ActiveControllerCount", unitCount, s.Broker.ActiveControllerCount, cluster)
	}
	if publishesClusterMetrics(s) {
		clusterWide(m, s, cluster)
		lag(m, s.Groups, o, cluster)
	}
	if s.BrokerID >= 0 {
		broker := dim(DimBroker, strconv.Itoa(int(s.BrokerID)))
		if s.Broker != nil {
			brokerMetrics(m, s.Broker, o, cluster, broker)
		}
		if s.Host != nil {
			hostMetrics(m, s.Host, cluster, broker)
		}
	}
	return m.data
}

// publishesClusterMetrics says whether this agent is the one that publishes
// the cluster-wide metrics.
func publishesClusterMetrics(s *snapshot.Snapshot) bool {
	switch {
	case s.BrokerID < 0:
		return true
	case s.Broker != nil:
		return s.Broker.ActiveControllerCount >= 1
	default:
		return s.Cluster != nil && s.Cluster.ControllerID == s.BrokerID
	}
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

func brokerMetrics(m *metrics, b *snapshot.Broker, o Options, cluster, broker types.Dimension) {
	m.add("BytesInPerSec", unitBytesPerSec, b.BytesInPerSec, cluster, broker)
	m.add("BytesOutPerSec", unitBytesPerSec, b.BytesOutPerSec, cluster, broker)
	m.add("MessagesInPerSec", unitCountPerSec, b.MessagesInPerSec, cluster, broker)
	m.add("LeaderCount", unitCount, b.LeaderCount, cluster, broker)
	m.add("PartitionCount", unitCount, b.PartitionCount, cluster, broker)
	m.add("UnderReplicatedPartitions", unitCount, b.UnderReplicatedPartitions, cluster, broker)
	m.add("UnderMinIsrPartitionCount", unitCount, b.UnderMinISRPartitions, cluster, broker)
	m.add("ProduceTotalTimeMsMean", unitMillis, b.ProduceTotalTimeMsMean, cluster, broker)
	m.add("FetchConsumerTotalTimeMsMean", unitMillis, b.FetchTotalTimeMsMean, cluster, broker)
	m.add("ConnectionCount", unitCount, b.ConnectionCount, cluster, broker)
	if o.Level.Includes(snapshot.LevelPerBroker) {
		m.add("ConnectionCreationRate", unitCountPerSec, b.ConnectionCreationPerSec, cluster, broker)
		m.add("ConnectionCloseRate", unitCountPerSec, b.ConnectionClosePerSec, cluster, broker)
	}
	if !o.Level.Includes(snapshot.LevelPerTopicPerBroker) {
		return
	}
	for _, t := range b.Topics {
		if !o.Topics(t.Topic) {
			continue
		}
		topic := dim(DimTopic, t.Topic)
		m.add("BytesInPerSec", unitBytesPerSec, t.BytesInPerSec, cluster, broker, topic)
		m.add("BytesOutPerSec", unitBytesPerSec, t.BytesOutPerSec, cluster, broker, topic)
		m.add("MessagesInPerSec", unitCountPerSec, t.MessagesInPerSec, cluster, broker, topic)
	}
}

func hostMetrics(m *metrics, h *snapshot.Host, cluster, broker types.Dimension) {
	if h.CPU.Valid {
		m.add("CpuUser", unitPercent, h.CPU.User, cluster, broker)
		m.add("CpuSystem", unitPercent, h.CPU.System, cluster, broker)
		m.add("CpuIdle", unitPercent, h.CPU.Idle, cluster, broker)
		m.add("CpuIoWait", unitPercent, h.CPU.IOWait, cluster, broker)
	}
	m.add("MemoryUsed", unitBytes, float64(h.Memory.UsedBytes), cluster, broker)
	m.add("MemoryFree", unitBytes, float64(h.Memory.FreeBytes), cluster, broker)
	if len(h.Disks) > 0 {
		used := 0.0
		for _, d := range h.Disks {
			used = max(used, d.UsedPercent)
		}
		m.add("KafkaDataLogsDiskUsed", unitPercent, used, cluster, broker)
	}
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
