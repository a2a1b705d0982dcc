package prometheus

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/agent/snapshot"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// kafka_exporter's names for the cluster view and consumer groups, Weir's
// time lag, and the agent's health.
var (
	dBrokers         = desc("kafka_brokers", "Number of brokers in the cluster.")
	dTopicPartitions = desc("kafka_topic_partitions", "Number of partitions of a topic.", "topic")
	dCurrentOffset   = desc("kafka_topic_partition_current_offset", "Log end offset (high watermark) of a partition.", "topic", "partition")
	dOldestOffset    = desc("kafka_topic_partition_oldest_offset", "Log start offset of a partition.", "topic", "partition")
	dInSync          = desc("kafka_topic_partition_in_sync_replica", "Number of in-sync replicas of a partition.", "topic", "partition")
	dLeader          = desc("kafka_topic_partition_leader", "Leader broker id of a partition (-1: offline).", "topic", "partition")
	dReplicas        = desc("kafka_topic_partition_replicas", "Number of replicas of a partition.", "topic", "partition")
	dUnderReplicated = desc("kafka_topic_partition_under_replicated_partition", "1 if the partition has fewer in-sync replicas than replicas.", "topic", "partition")
	dGroupOffset     = desc("kafka_consumergroup_current_offset", "Committed offset of a consumer group on a partition.", "consumergroup", "topic", "partition")
	dGroupLag        = desc("kafka_consumergroup_lag", "Log end offset minus the group's committed offset.", "consumergroup", "topic", "partition")
	dGroupLagSum     = desc("kafka_consumergroup_lag_sum", "Sum of a group's lag over a topic's partitions (MSK SumOffsetLag).", "consumergroup", "topic")
	dGroupMembers    = desc("kafka_consumergroup_members", "Members of a consumer group.", "consumergroup")
	dGroupMaxLag     = desc("weir_consumergroup_max_lag", "Largest lag of a group over a topic's partitions (MSK MaxOffsetLag).", "consumergroup", "topic")
	dTimeLag         = desc("weir_consumergroup_time_lag_seconds", "Estimated age of the oldest record the group has not consumed (MSK EstimatedTimeLag).", "consumergroup", "topic", "partition")
	dMaxTimeLag      = desc("weir_consumergroup_max_time_lag_seconds", "Largest estimated time lag of a group over a topic's partitions (MSK EstimatedMaxTimeLag).", "consumergroup", "topic")

	dUp             = desc("weir_agent_up", "1 if the agent's last collection reached at least one source.")
	dCollectSeconds = desc("weir_agent_collect_duration_seconds", "How long the agent's last collection took.")
	dDropped        = desc("weir_agent_exporter_dropped_total", "Snapshots an exporter's queue dropped because the exporter fell behind.", "exporter")
	dExportErrors   = desc("weir_agent_exporter_errors_total", "Snapshots an exporter failed to export.", "exporter")
	dSourceErrors   = desc("weir_agent_source_errors_total", "Collections in which a source failed.", "source")
	dSnapshotAge    = desc("weir_agent_snapshot_timestamp_seconds", "Unix time of the snapshot being served.")
	dInfo           = desc("weir_agent_info", "1: the broker this agent describes (-1: the whole cluster) and its cluster.", "broker_id", "cluster")

	// The agent's broker's storage, read over the Kafka protocol
	// (DescribeLogDirs v4), and MSK's KafkaDataLogsDiskUsed from it.
	dStorageUsed        = desc("weir_broker_storage_used_bytes", "Bytes the broker's log dirs use (total - usable, summed), as the broker answered DescribeLogDirs.")
	dStorageProvisioned = desc("weir_broker_storage_provisioned_bytes", "Bytes provisioned for the broker's log dirs (total, summed), as the broker answered DescribeLogDirs.")
	dStorageUsedPercent = desc("weir_broker_storage_used_percent", "Used over provisioned storage, in percent; the fullest log-dir filesystem for a broker that does not report sizes (MSK KafkaDataLogsDiskUsed).")
)

// kafkaCollector emits the broker endpoint's own series from the latest
// snapshot. It is unchecked (Describe sends nothing): which series exist
// depends on the cluster.
type kafkaCollector struct{ e *Exporter }

func (c *kafkaCollector) Describe(chan<- *prometheus.Desc) {}

func (c *kafkaCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.latest.Load()
	if s == nil {
		ch <- gauge(dUp, 0)
		return
	}
	c.health(ch, s)
	storage(ch, s)
	if s.Cluster != nil {
		c.cluster(ch, s.Cluster)
	}
	c.groups(ch, s.Groups)
}

// storage is the agent's own broker's storage pair, when the broker
// reported sizes, and its KafkaDataLogsDiskUsed.
func storage(ch chan<- prometheus.Metric, s *snapshot.Snapshot) {
	if own, ok := s.OwnStorage(); ok && own.Known() {
		ch <- gauge(dStorageUsed, float64(own.UsedBytes()))
		ch <- gauge(dStorageProvisioned, float64(own.ProvisionedBytes()))
	}
	if s.BrokerID >= 0 {
		if pct, ok := s.DataLogsUsedPercent(); ok {
			ch <- gauge(dStorageUsedPercent, pct)
		}
	}
}

func info(s *snapshot.Snapshot) prometheus.Metric {
	return gauge(dInfo, 1, strconv.Itoa(int(s.BrokerID)), s.ClusterName)
}

func (c *kafkaCollector) health(ch chan<- prometheus.Metric, s *snapshot.Snapshot) {
	up := 0.0
	if s.Host != nil || s.Broker != nil || s.Cluster != nil {
		up = 1
	}
	ch <- gauge(dUp, up)
	ch <- info(s)
	ch <- gauge(dCollectSeconds, s.Agent.CollectDuration.Seconds())
	ch <- gauge(dSnapshotAge, float64(s.Time.UnixMilli())/1000)
	for _, h := range s.Agent.Exporters {
		ch <- counter(dDropped, float64(h.Dropped), h.Name)
		ch <- counter(dExportErrors, float64(h.Errors), h.Name)
	}
	for src, n := range s.Agent.SourceErrors {
		ch <- counter(dSourceErrors, float64(n), src)
	}
}

func (c *kafkaCollector) cluster(ch chan<- prometheus.Metric, cl *snapshot.Cluster) {
	lvl := c.e.opts.Level
	ch <- gauge(dBrokers, float64(len(cl.Brokers)))
	for _, t := range cl.Topics {
		if !c.e.opts.Topics(t.Name) {
			continue
		}
		if lvl.Includes(snapshot.LevelPerTopicPerBroker) {
			ch <- gauge(dTopicPartitions, float64(len(t.Partitions)), t.Name)
		}
		if lvl.Includes(snapshot.LevelPerTopicPerPartition) {
			for _, p := range t.Partitions {
				partition(ch, t.Name, p)
			}
		}
	}
}

func partition(ch chan<- prometheus.Metric, topic string, p snapshot.Partition) {
	id := strconv.Itoa(int(p.Partition))
	if p.EndOffset >= 0 {
		ch <- gauge(dCurrentOffset, float64(p.EndOffset), topic, id)
	}
	if p.StartOffset >= 0 {
		ch <- gauge(dOldestOffset, float64(p.StartOffset), topic, id)
	}
	ch <- gauge(dInSync, float64(len(p.ISR)), topic, id)
	ch <- gauge(dLeader, float64(p.Leader), topic, id)
	ch <- gauge(dReplicas, float64(len(p.Replicas)), topic, id)
	ch <- gauge(dUnderReplicated, bool01(p.UnderReplicated()), topic, id)
}

func (c *kafkaCollector) groups(ch chan<- prometheus.Metric, groups []snapshot.Group) {
	perPartition := c.e.opts.Level.Includes(snapshot.LevelPerTopicPerPartition)
	for _, g := range groups {
		if !c.e.opts.Groups(g.Name) {
			continue
		}
		ch <- gauge(dGroupMembers, float64(g.Members), g.Name)
		for _, tl := range g.LagByTopic() {
			if !c.e.opts.Topics(tl.Topic) {
				continue
			}
			ch <- gauge(dGroupLagSum, float64(tl.SumLag), g.Name, tl.Topic)
			ch <- gauge(dGroupMaxLag, float64(tl.MaxLag), g.Name, tl.Topic)
			if tl.MaxTimeLagMs >= 0 {
				ch <- gauge(dMaxTimeLag, float64(tl.MaxTimeLagMs)/1000, g.Name, tl.Topic)
			}
		}
		if !perPartition {
			continue
		}
		for _, p := range g.Partitions {
			if !c.e.opts.Topics(p.Topic) {
				continue
			}
			id := strconv.Itoa(int(p.Partition))
			ch <- gauge(dGroupOffset, float64(p.Committed), g.Name, p.Topic, id)
			ch <- gauge(dGroupLag, float64(p.Lag), g.Name, p.Topic, id)
			if p.TimeLagMs >= 0 {
				ch <- gauge(dTimeLag, float64(p.TimeLagMs)/1000, g.Name, p.Topic, id)
			}
		}
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
