package prometheus

import (
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/weirhq/weir/agent/snapshot"
)

// defaultBrokerSeries are the broker series (beyond the per-topic ones,
// which are summed) exported at DEFAULT: MSK's DEFAULT-level broker metrics.
var defaultBrokerSeries = map[string]bool{
	"kafka_server_replicamanager_partitioncount":              true,
	"kafka_server_replicamanager_underreplicatedpartitions":   true,
	"kafka_controller_kafkacontroller_activecontrollercount":  true,
	"kafka_controller_kafkacontroller_offlinepartitionscount": true,
	"kafka_controller_kafkacontroller_globaltopiccount":       true,
	"kafka_controller_kafkacontroller_globalpartitioncount":   true,
	"kafka_server_socketservermetrics_connection_count":       true,
}

// reexport returns the broker's own series from the latest snapshot, under
// the broker's names, cut to the level and the topic filter:
//
//   - series with a partition label only at PER_TOPIC_PER_PARTITION;
//   - series with a topic label as they are from PER_TOPIC_PER_BROKER, and
//     below that summed over topics into one series without the label (the
//     JMX exporter's all-topics series);
//   - other series: defaultBrokerSeries at DEFAULT, all from PER_BROKER.
//
// The broker's go_* and process_* series describe the broker process, not
// Kafka, and are left out (the agent's own are not exported either).
func (e *Exporter) reexport() ([]*dto.MetricFamily, error) {
	s := e.latest.Load()
	if s == nil || s.Broker == nil {
		return nil, nil
	}
	lvl := e.opts.Level
	var out []*dto.MetricFamily
	for _, f := range s.Broker.Families {
		name := f.GetName()
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue
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
		case lvl.Includes(snapshot.LevelPerBroker) || defaultBrokerSeries[name]:
			out = append(out, f)
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
