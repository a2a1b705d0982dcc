package prometheus

import (
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/weirhq/weir/agent/snapshot"
)

// defaultBrokerSeries are the broker series (beyond the per-topic ones,
// which are summed) exported at DEFAULT, the Prometheus side of MSK's
// DEFAULT-level broker metrics, with the series of each to keep (nil: all).
var defaultBrokerSeries = map[string]func(*dto.Metric) bool{
	"kafka_server_replicamanager_partitioncount":              nil, // PartitionCount
	"kafka_server_replicamanager_leadercount":                 nil, // LeaderCount
	"kafka_server_replicamanager_underreplicatedpartitions":   nil, // UnderReplicatedPartitions
	"kafka_server_replicamanager_underminisrpartitioncount":   nil, // UnderMinIsrPartitionCount
	"kafka_controller_kafkacontroller_activecontrollercount":  nil, // ActiveControllerCount
	"kafka_controller_kafkacontroller_offlinepartitionscount": nil, // OfflinePartitionsCount
	"kafka_controller_kafkacontroller_globaltopiccount":       nil, // GlobalTopicCount
	"kafka_controller_kafkacontroller_globalpartitioncount":   nil, // GlobalPartitionCount
	"kafka_server_socketservermetrics_connection_count":       nil, // ConnectionCount
	"weir_broker_client_connection_count":                     nil, // ClientConnectionCount
	// ProduceTotalTimeMsMean, and FetchConsumerTotalTimeMsMean, which
	// Weir's CloudWatch exporter sends from DEFAULT too.
	"kafka_network_requestmetrics_totaltimems": requestIn("Produce", "FetchConsumer"),
	// RequestBytesMean, and RequestTime: the phases the broker works in.
	"kafka_network_requestmetrics_requestbytes":        nil,
	"kafka_network_requestmetrics_requestqueuetimems":  nil,
	"kafka_network_requestmetrics_localtimems":         nil,
	"kafka_network_requestmetrics_responsequeuetimems": nil,
	"kafka_network_requestmetrics_responsesendtimems":  nil,
	// HeapMemoryAfterGC: the broker's live heap and its limit.
	"go_gc_heap_live_bytes":  nil,
	"go_gc_gomemlimit_bytes": nil,
}

// agentOwned are series the agent computes itself under the same name as a
// Weir broker's (the storage pair, from DescribeLogDirs, so they work
// against Apache Kafka too): the broker's copies are not re-exported, or
// one name would carry two families.
var agentOwned = map[string]bool{
	"weir_broker_storage_used_bytes":        true,
	"weir_broker_storage_provisioned_bytes": true,
}

// requestIn keeps the series whose request label is one of names.
func requestIn(names ...string) func(*dto.Metric) bool {
	return func(m *dto.Metric) bool {
		r := labelValue(m, "request")
		return r != nil && slices.Contains(names, *r)
	}
}

// runtimeSeries are the broker's Go runtime and process series: left out
// but for the ones in defaultBrokerSeries.
func runtimeSeries(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_")
}

// reexport returns the broker's own series from the latest snapshot, under
// the broker's names, cut to the level and the topic filter:
//
//   - series with a partition label only at PER_TOPIC_PER_PARTITION;
//   - series with a topic label as they are from PER_TOPIC_PER_BROKER, and
//     below that summed over topics into one series without the label (the
//     JMX exporter's all-topics series);
//   - other series: defaultBrokerSeries at DEFAULT (cut to the series it
//     keeps), all from PER_BROKER.
//
// The broker's go_* and process_* series describe the broker process, not
// Kafka, and are left out (the agent's own are not exported either), but
// for its live heap and memory limit (MSK's HeapMemoryAfterGC).
func (e *Exporter) reexport() ([]*dto.MetricFamily, error) {
	s := e.latest.Load()
	if s == nil || s.Broker == nil {
		return nil, nil
	}
	lvl := e.opts.Level
	var out []*dto.MetricFamily
	for _, f := range s.Broker.Families {
		name := f.GetName()
		keep, isDefault := defaultBrokerSeries[name]
		if runtimeSeries(name) && !isDefault {
			continue
		}
		if agentOwned[name] {
			continue // the agent reads these through the Kafka protocol and exports them itself
		}
		switch {
		case hasLabel(f, "partition"):
			if lvl.Includes(snapshot.LevelPerTopicPerPartition) {
				out = appendNonEmpty(out, e.filterTopics(f))
			}
		case hasLabel(f, "topic"):
			if lvl.Includes(snapshot.LevelPerTopicPerBroker) {
				out = appendNonEmpty(out, e.filterTopics(f))
			} else {
				out = appendNonEmpty(out, sumOverTopics(f, e.opts.Topics))
			}
		case lvl.Includes(snapshot.LevelPerBroker) || (isDefault && keep == nil):
			out = append(out, f)
		case isDefault:
			out = appendNonEmpty(out, filterSeries(f, keep))
		}
	}
	return out, nil
}

func appendNonEmpty(out []*dto.MetricFamily, f *dto.MetricFamily) []*dto.MetricFamily {
	if f == nil || len(f.Metric) == 0 {
		return out
	}
	return append(out, f)
}

// hasLabel reports whether any series of f has the label.
func hasLabel(f *dto.MetricFamily, name string) bool {
	for _, m := range f.GetMetric() {
		if labelValue(m, name) != nil {
			return true
		}
	}
	return false
}

func labelValue(m *dto.Metric, name string) *string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.Value
		}
	}
	return nil
}

// filterTopics returns f with only the series whose topic passes the filter.
// The snapshot's family is shared, so a changed one is a copy.
func (e *Exporter) filterTopics(f *dto.MetricFamily) *dto.MetricFamily {
	keep := slices.DeleteFunc(slices.Clone(f.Metric), func(m *dto.Metric) bool {
		t := labelValue(m, "topic")
		return t != nil && !e.opts.Topics(*t)
	})
	if len(keep) == len(f.Metric) {
		return f
	}
	out := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type, Unit: f.Unit}
	out.Metric = keep
	return out
}

// filterSeries returns f with only the series keep keeps (a copy: the
// snapshot's family is shared).
func filterSeries(f *dto.MetricFamily, keep func(*dto.Metric) bool) *dto.MetricFamily {
	out := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type, Unit: f.Unit}
	for _, m := range f.GetMetric() {
		if keep(m) {
			out.Metric = append(out.Metric, m)
		}
	}
	return out
}

// sumOverTopics sums a counter or gauge family's series over their topic
// label, for topics that pass the filter. Other types are left out.
func sumOverTopics(f *dto.MetricFamily, topics func(string) bool) *dto.MetricFamily {
	if f.GetType() != dto.MetricType_COUNTER && f.GetType() != dto.MetricType_GAUGE && f.GetType() != dto.MetricType_UNTYPED {
		return nil
	}
	sums := map[string]*dto.Metric{}
	var order []string
	for _, m := range f.GetMetric() {
		if t := labelValue(m, "topic"); t != nil && !topics(*t) {
			continue
		}
		var rest []*dto.LabelPair
		var key strings.Builder
		for _, l := range m.GetLabel() {
			if l.GetName() != "topic" {
				rest = append(rest, l)
				key.WriteString(l.GetName() + "=" + l.GetValue() + "\x00")
			}
		}
		sum, ok := sums[key.String()]
		if !ok {
			sum = &dto.Metric{Label: rest}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				sum.Counter = &dto.Counter{Value: proto.Float64(0)}
			case dto.MetricType_GAUGE:
				sum.Gauge = &dto.Gauge{Value: proto.Float64(0)}
			default:
				sum.Untyped = &dto.Untyped{Value: proto.Float64(0)}
			}
			sums[key.String()] = sum
			order = append(order, key.String())
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			*sum.Counter.Value += m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			*sum.Gauge.Value += m.GetGauge().GetValue()
		default:
			*sum.Untyped.Value += m.GetUntyped().GetValue()
		}
	}
	out := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type}
	for _, k := range order {
		out.Metric = append(out.Metric, sums[k])
	}
	return out
}
