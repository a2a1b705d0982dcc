package otlp

import (
	"maps"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/weirhq/weir/agent/snapshot"
)

// scope names the instrumentation in every export.
var scope = instrumentation.Scope{Name: "github.com/weirhq/weir/agent"}

// builder collects one snapshot's metrics in a fixed order.
type builder struct {
	t, start time.Time
	metrics  []metricdata.Metrics
	index    map[string]int // name → position in metrics
}

// gauge adds a point to a float gauge named name.
func (b *builder) gauge(name, unit, help string, v float64, attrs ...attribute.KeyValue) {
	m := b.metric(name, unit, help, func() metricdata.Aggregation { return metricdata.Gauge[float64]{} })
	g := m.Data.(metricdata.Gauge[float64])
	g.DataPoints = append(g.DataPoints, metricdata.DataPoint[float64]{Attributes: attribute.NewSet(attrs...), Time: b.t, Value: v})
	m.Data = g
}

// gaugeInt adds a point to an integer gauge named name.
func (b *builder) gaugeInt(name, unit, help string, v int64, attrs ...attribute.KeyValue) {
	m := b.metric(name, unit, help, func() metricdata.Aggregation { return metricdata.Gauge[int64]{} })
	g := m.Data.(metricdata.Gauge[int64])
	g.DataPoints = append(g.DataPoints, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attrs...), Time: b.t, Value: v})
	m.Data = g
}

// upDown adds a point to a non-monotonic cumulative integer sum (what the
// kafkametricsreceiver uses for kafka.brokers and group members).
func (b *builder) upDown(name, unit, help string, v int64, attrs ...attribute.KeyValue) {
	m := b.metric(name, unit, help, func() metricdata.Aggregation {
		return metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality}
	})
	s := m.Data.(metricdata.Sum[int64])
	s.DataPoints = append(s.DataPoints, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attrs...), StartTime: b.start, Time: b.t, Value: v})
	m.Data = s
}

// counter adds a point to a monotonic cumulative float sum.
func (b *builder) counter(name, unit, help string, v float64, attrs ...attribute.KeyValue) {
	m := b.metric(name, unit, help, func() metricdata.Aggregation {
		return metricdata.Sum[float64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
	})
	s := m.Data.(metricdata.Sum[float64])
	s.DataPoints = append(s.DataPoints, metricdata.DataPoint[float64]{Attributes: attribute.NewSet(attrs...), StartTime: b.start, Time: b.t, Value: v})
	m.Data = s
}

func (b *builder) metric(name, unit, help string, zero func() metricdata.Aggregation) *metricdata.Metrics {
	if i, ok := b.index[name]; ok {
		return &b.metrics[i]
	}
	b.index[name] = len(b.metrics)
	b.metrics = append(b.metrics, metricdata.Metrics{Name: name, Unit: unit, Description: help, Data: zero()})
	return &b.metrics[len(b.metrics)-1]
}

// Metrics turns a snapshot into one OTLP export, cut to the level and the
// topic and group filters.
func (e *Exporter) Metrics(s *snapshot.Snapshot) *metricdata.ResourceMetrics {
	b := &builder{t: s.Time, start: e.start, index: map[string]int{}}
	if s.Host != nil {
		hostMetrics(b, s.Host)
	}
	if s.Broker != nil {
		e.brokerMetrics(b, s.Broker)
	}
	storageMetrics(b, s)
	if s.Cluster != nil {
		e.clusterMetrics(b, s.Cluster)
	}
	e.groupMetrics(b, s.Groups)
	agentMetrics(b, s)
	return &metricdata.ResourceMetrics{
		Resource:     Resource(s),
		ScopeMetrics: []metricdata.ScopeMetrics{{Scope: scope, Metrics: b.metrics}},
	}
}

var (
	attrTopic     = attribute.Key("topic")
	attrPartition = attribute.Key("partition")
	attrGroup     = attribute.Key("group")
)

// hostMetrics uses the OTel semantic conventions' system.* names.
func hostMetrics(b *builder, h *snapshot.Host) {
	if h.CPU.Valid {
		for _, m := range []struct {
			mode string
			v    float64
		}{{"user", h.CPU.User}, {"system", h.CPU.System}, {"idle", h.CPU.Idle}, {"iowait", h.CPU.IOWait}} {
			b.gauge("system.cpu.utilization", "1", "Share of all CPUs' time spent in each mode over the interval.",
				m.v/100, attribute.String("cpu.mode", m.mode))
		}
	}
	memoryMetrics(b, h.Memory)
	for _, d := range h.Network {
		networkMetrics(b, d)
	}
	seen := map[string]bool{}
	for _, d := range append(slices.Clone(h.Disks), derefDisks(h.RootDisk, h.AppLogDisk)...) {
		if !seen[d.Label()] {
			seen[d.Label()] = true
			filesystemMetrics(b, d)
		}
	}
}

func memoryMetrics(b *builder, m snapshot.Memory) {
	state := attribute.Key("system.memory.state")
	b.gaugeInt("system.memory.usage", "By", "Memory in use (total − available), free, in the page cache and in buffers.", int64(m.UsedBytes), state.String("used"))
	b.gaugeInt("system.memory.usage", "By", "", int64(m.FreeBytes), state.String("free"))
	b.gaugeInt("system.memory.usage", "By", "", int64(m.CachedBytes), state.String("cached"))
	b.gaugeInt("system.memory.usage", "By", "", int64(m.BuffersBytes), state.String("buffers"))
	b.gaugeInt("system.memory.limit", "By", "Total memory.", int64(m.TotalBytes))
	if m.TotalBytes > 0 {
		b.gauge("system.memory.utilization", "1", "Share of memory in use.", float64(m.UsedBytes)/float64(m.TotalBytes), state.String("used"))
	}
	paging := attribute.Key("system.paging.state")
	b.gaugeInt("system.paging.usage", "By", "Swap in use and free.", int64(m.SwapUsedBytes()), paging.String("used"))
	b.gaugeInt("system.paging.usage", "By", "", int64(m.SwapFreeBytes), paging.String("free"))
}

func networkMetrics(b *builder, d snapshot.NetDevice) {
	dev := attribute.String("network.interface.name", d.Device)
	rx, tx := attribute.String("network.io.direction", "receive"), attribute.String("network.io.direction", "transmit")
	b.counter("system.network.io", "By", "Bytes received and transmitted.", float64(d.RxBytesTotal), dev, rx)
	b.counter("system.network.io", "By", "", float64(d.TxBytesTotal), dev, tx)
	b.counter("system.network.packets", "{packet}", "Packets received and transmitted.", float64(d.RxPacketsTotal), dev, rx)
	b.counter("system.network.packets", "{packet}", "", float64(d.TxPacketsTotal), dev, tx)
	b.counter("system.network.errors", "{error}", "Receive and transmit errors.", float64(d.RxErrorsTotal), dev, rx)
	b.counter("system.network.errors", "{error}", "", float64(d.TxErrorsTotal), dev, tx)
	b.counter("system.network.dropped", "{packet}", "Packets dropped on receive and transmit.", float64(d.RxDroppedTotal), dev, rx)
	b.counter("system.network.dropped", "{packet}", "", float64(d.TxDroppedTotal), dev, tx)
}

func filesystemMetrics(b *builder, d snapshot.Disk) {
	mp := attribute.String("system.filesystem.mountpoint", d.Label())
	fsState := attribute.Key("system.filesystem.state")
	b.gaugeInt("system.filesystem.usage", "By", "Filesystem space used and free: the log dirs', the root's and the application logs' filesystems.", int64(d.UsedBytes), mp, fsState.String("used"))
	b.gaugeInt("system.filesystem.usage", "By", "", int64(d.AvailBytes), mp, fsState.String("free"))
	b.gaugeInt("system.filesystem.limit", "By", "Filesystem size.", int64(d.TotalBytes), mp)
	b.gauge("system.filesystem.utilization", "1", "Share of the filesystem used, as df computes it.", d.UsedPercent/100, mp)
}

func derefDisks(ds ...*snapshot.Disk) []snapshot.Disk {
	var out []snapshot.Disk
	for _, d := range ds {
		if d != nil {
			out = append(out, *d)
		}
	}
	return out
}

// storageMetrics are the agent's broker's storage as it answered
// DescribeLogDirs, and MSK's KafkaDataLogsDiskUsed as a share.
func storageMetrics(b *builder, s *snapshot.Snapshot) {
	if own, ok := s.OwnStorage(); ok && own.Known() {
		b.gaugeInt("weir.broker.storage.used", "By", "Bytes the broker's log dirs use, as it answered DescribeLogDirs.", own.UsedBytes())
		b.gaugeInt("weir.broker.storage.provisioned", "By", "Bytes provisioned for the broker's log dirs, as it answered DescribeLogDirs.", own.ProvisionedBytes())
	}
	if pct, ok := s.DataLogsUsedPercent(); ok && s.BrokerID >= 0 {
		b.gauge("weir.broker.storage.utilization", "1", "Share of the broker's storage used (MSK KafkaDataLogsDiskUsed).", pct/100)
	}
}

// brokerMetrics are the broker's admin /metrics under kafka.broker.* and
// kafka.controller.* names.
func (e *Exporter) brokerMetrics(b *builder, br *snapshot.Broker) {
	lvl := e.opts.Level
	b.gauge("kafka.broker.bytes_in", "By/s", "Bytes received from clients per second (all topics).", br.BytesInPerSec)
	b.gauge("kafka.broker.bytes_out", "By/s", "Bytes sent to clients per second (all topics).", br.BytesOutPerSec)
	b.gauge("kafka.broker.messages_in", "{message}/s", "Messages received per second (all topics).", br.MessagesInPerSec)
	b.gauge("kafka.broker.partitions", "{partition}", "Partitions (replicas) on the broker.", br.PartitionCount)
	b.gauge("kafka.broker.under_replicated_partitions", "{partition}", "Partitions the broker leads with fewer in-sync replicas than replicas.", br.UnderReplicatedPartitions)
	b.gauge("kafka.broker.connections", "{connection}", "Open client connections.", br.ConnectionCount)
	b.gauge("kafka.controller.active_count", "{controller}", "1 on the active controller.", br.ActiveControllerCount)
	b.gauge("kafka.controller.offline_partitions", "{partition}", "Partitions without a leader.", br.OfflinePartitionsCount)
	b.gauge("kafka.controller.global_topics", "{topic}", "Topics in the cluster.", br.GlobalTopicCount)
	b.gauge("kafka.controller.global_partitions", "{partition}", "Partitions in the cluster.", br.GlobalPartitionCount)
	b.gauge("kafka.broker.produce.total_time.mean", "ms", "Mean total time of produce requests over the interval.", br.ProduceTotalTimeMsMean)
	b.gauge("kafka.broker.fetch.total_time.mean", "ms", "Mean total time of fetch requests over the interval.", br.FetchTotalTimeMsMean)
	if br.ClientConnectionValid {
		b.gauge("kafka.broker.client_connections", "{connection}", "Open connections from clients (not other brokers).", br.ClientConnectionCount)
	}
	if lvl.Includes(snapshot.LevelPerBroker) {
		e.perBroker(b, br)
	}
	if lvl.Includes(snapshot.LevelPerTopicPerBroker) {
		for _, t := range br.Topics {
			if !e.opts.Topics(t.Topic) {
				continue
			}
			tp := attrTopic.String(t.Topic)
			b.gauge("kafka.topic.bytes_in", "By/s", "Bytes received per second for a topic on this broker.", t.BytesInPerSec, tp)
			b.gauge("kafka.topic.bytes_out", "By/s", "Bytes sent per second for a topic on this broker.", t.BytesOutPerSec, tp)
			b.gauge("kafka.topic.messages_in", "{message}/s", "Messages received per second for a topic on this broker.", t.MessagesInPerSec, tp)
		}
	}
}

func (e *Exporter) perBroker(b *builder, br *snapshot.Broker) {
	b.gauge("kafka.broker.leaders", "{partition}", "Partitions the broker leads.", br.LeaderCount)
	b.gauge("kafka.broker.under_min_isr_partitions", "{partition}", "Partitions with fewer in-sync replicas than min.insync.replicas.", br.UnderMinISRPartitions)
	b.gauge("kafka.broker.bytes_rejected", "By/s", "Bytes rejected per second.", br.BytesRejectedPerSec)
	b.gauge("kafka.broker.connection.creation_rate", "{connection}/s", "Connections opened per second.", br.ConnectionCreationPerSec)
	b.gauge("kafka.broker.connection.close_rate", "{connection}/s", "Connections closed per second.", br.ConnectionClosePerSec)
	for _, api := range sortedKeys(br.RequestsPerSec) {
		b.gauge("kafka.broker.requests", "{request}/s", "Requests per second per API.", br.RequestsPerSec[api], attribute.String("request", api))
	}
	if br.ReplicationValid {
		b.gauge("kafka.broker.replication.bytes_in", "By/s", "Bytes per second this broker's followers fetched.", br.ReplicationBytesInPerSec)
		b.gauge("kafka.broker.replication.bytes_out", "By/s", "Bytes per second sent to other brokers' followers.", br.ReplicationBytesOutPerSec)
	}
	if br.RequestHandlerIdleValid {
		b.gauge("kafka.broker.request_handler.idle", "1", "Share of the broker's processors idle (RequestHandlerAvgIdlePercent).", br.RequestHandlerIdlePercent/100)
	}
	if br.NetworkProcessorIdleValid {
		b.gauge("kafka.broker.network_processor.idle", "1", "Share of the processors not decoding, encoding or writing (NetworkProcessorAvgIdlePercent).", br.NetworkProcessorIdlePercent/100)
	}
	requestPhases(b, br)
}

// requestPhases are the Produce, FetchConsumer and FetchFollower requests'
// mean phase times (RequestMetrics' TotalTimeMs and its parts).
func requestPhases(b *builder, br *snapshot.Broker) {
	if !br.RequestStatsValid {
		return
	}
	phase := attribute.Key("kafka.request.phase")
	for _, req := range []string{"Produce", "FetchConsumer", "FetchFollower"} {
		p, ra := br.Requests[req], attribute.String("request", req)
		for _, ph := range []struct {
			name string
			v    float64
		}{{"total", p.TotalMs}, {"request_queue", p.RequestQueueMs}, {"local", p.LocalMs}, {"remote", p.RemoteMs},
			{"response_queue", p.ResponseQueueMs}, {"response_send", p.ResponseSendMs}} {
			b.gauge("kafka.broker.request.time.mean", "ms", "Mean time of a request phase over the interval.", ph.v, ra, phase.String(ph.name))
		}
	}
}

// clusterMetrics use the kafkametricsreceiver's names.
func (e *Exporter) clusterMetrics(b *builder, cl *snapshot.Cluster) {
	lvl := e.opts.Level
	b.upDown("kafka.brokers", "{broker}", "Brokers in the cluster.", int64(len(cl.Brokers)))
	for _, t := range cl.Topics {
		if !e.opts.Topics(t.Name) {
			continue
		}
		tp := attrTopic.String(t.Name)
		if lvl.Includes(snapshot.LevelPerTopicPerBroker) {
			b.gaugeInt("kafka.topic.partitions", "{partition}", "Partitions of a topic.", int64(len(t.Partitions)), tp)
		}
		if !lvl.Includes(snapshot.LevelPerTopicPerPartition) {
			continue
		}
		for _, p := range t.Partitions {
			partitionMetrics(b, tp, p)
		}
	}
}

func partitionMetrics(b *builder, tp attribute.KeyValue, p snapshot.Partition) {
	pa := attrPartition.Int64(int64(p.Partition))
	if p.EndOffset >= 0 {
		b.gaugeInt("kafka.partition.current_offset", "1", "Log end offset (high watermark) of a partition.", p.EndOffset, tp, pa)
	}
	if p.StartOffset >= 0 {
		b.gaugeInt("kafka.partition.oldest_offset", "1", "Log start offset of a partition.", p.StartOffset, tp, pa)
	}
	b.gaugeInt("kafka.partition.replicas", "{replica}", "Replicas of a partition.", int64(len(p.Replicas)), tp, pa)
	b.gaugeInt("kafka.partition.replicas_in_sync", "{replica}", "In-sync replicas of a partition.", int64(len(p.ISR)), tp, pa)
	b.gaugeInt("weir.partition.leader", "1", "Leader broker id of a partition (-1: offline).", int64(p.Leader), tp, pa)
}

// groupMetrics use the kafkametricsreceiver's kafka.consumer_group.* names
// and weir.consumer_group.* for the lag maxima and time lag.
func (e *Exporter) groupMetrics(b *builder, groups []snapshot.Group) {
	perPartition := e.opts.Level.Includes(snapshot.LevelPerTopicPerPartition)
	for _, g := range groups {
		if !e.opts.Groups(g.Name) {
			continue
		}
		ga := attrGroup.String(g.Name)
		b.upDown("kafka.consumer_group.members", "{member}", "Members of a consumer group.", int64(g.Members), ga)
		for _, tl := range g.LagByTopic() {
			if !e.opts.Topics(tl.Topic) {
				continue
			}
			tp := attrTopic.String(tl.Topic)
			b.gaugeInt("kafka.consumer_group.lag_sum", "1", "A group's lag summed over a topic's partitions (MSK SumOffsetLag).", tl.SumLag, ga, tp)
			b.gaugeInt("weir.consumer_group.max_lag", "1", "A group's largest partition lag on a topic (MSK MaxOffsetLag).", tl.MaxLag, ga, tp)
			if tl.MaxTimeLagMs >= 0 {
				b.gauge("weir.consumer_group.max_time_lag", "s", "A group's largest estimated time lag on a topic (MSK EstimatedMaxTimeLag).", float64(tl.MaxTimeLagMs)/1000, ga, tp)
			}
		}
		if perPartition {
			e.groupPartitions(b, ga, g.Partitions)
		}
	}
}

func (e *Exporter) groupPartitions(b *builder, ga attribute.KeyValue, ps []snapshot.GroupPartition) {
	for _, p := range ps {
		if !e.opts.Topics(p.Topic) {
			continue
		}
		tp, pa := attrTopic.String(p.Topic), attrPartition.Int64(int64(p.Partition))
		b.gaugeInt("kafka.consumer_group.offset", "1", "A group's committed offset on a partition.", p.Committed, ga, tp, pa)
		b.gaugeInt("kafka.consumer_group.lag", "1", "Log end offset minus the group's committed offset.", p.Lag, ga, tp, pa)
		if p.TimeLagMs >= 0 {
			b.gauge("weir.consumer_group.time_lag", "s", "Estimated age of the oldest record the group has not consumed (MSK EstimatedTimeLag).", float64(p.TimeLagMs)/1000, ga, tp, pa)
		}
	}
}

// agentMetrics are the agent's health, as of the previous cycle.
func agentMetrics(b *builder, s *snapshot.Snapshot) {
	up := int64(0)
	if s.Host != nil || s.Broker != nil || s.Cluster != nil {
		up = 1
	}
	b.gaugeInt("weir.agent.up", "1", "1 if the collection reached at least one source.", up)
	b.gauge("weir.agent.collect.duration", "s", "How long the previous collection took.", s.Agent.CollectDuration.Seconds())
	for _, h := range s.Agent.Exporters {
		ex := attribute.String("exporter", h.Name)
		b.counter("weir.agent.exporter.dropped", "{snapshot}", "Snapshots an exporter's queue dropped.", float64(h.Dropped), ex)
		b.counter("weir.agent.exporter.errors", "{snapshot}", "Snapshots an exporter failed to export.", float64(h.Errors), ex)
	}
	for _, src := range sortedKeys(s.Agent.SourceErrors) {
		b.counter("weir.agent.source.errors", "{collection}", "Collections in which a source failed.", float64(s.Agent.SourceErrors[src]), attribute.String("source", src))
	}
}

// sortedKeys returns m's keys in order, so exports are deterministic.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
