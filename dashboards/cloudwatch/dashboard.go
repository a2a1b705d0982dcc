package cloudwatch

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Target names what to build for: the cluster (the agents' cluster_name),
// its brokers (for per-broker alarms), the consumer groups and topics to
// alarm on, the region and the namespace the agents publish to.
type Target struct {
	Cluster   string
	Brokers   []int
	GroupLags []GroupTopic
	Region    string
	Namespace string // "" : AWS/Kafka (use your own, e.g. Weir/Kafka, on AWS)
}

// GroupTopic is a consumer group's lag on a topic.
type GroupTopic struct{ Group, Topic string }

func (t Target) namespace() string {
	if t.Namespace == "" {
		return "AWS/Kafka"
	}
	return t.Namespace
}

// Widget is one metric widget of a CloudWatch dashboard body.
type Widget struct {
	Type       string           `json:"type"`
	X          int              `json:"x"`
	Y          int              `json:"y"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	Properties WidgetProperties `json:"properties"`
	uses       []Metric
}

// WidgetProperties are a metric widget's properties.
type WidgetProperties struct {
	Title       string         `json:"title"`
	Region      string         `json:"region"`
	View        string         `json:"view"`
	Stacked     bool           `json:"stacked"`
	Period      int            `json:"period"`
	Stat        string         `json:"stat"`
	Metrics     [][]any        `json:"metrics"`
	Annotations map[string]any `json:"annotations,omitempty"`
	YAxis       map[string]any `json:"yAxis,omitempty"`
}

// Body is a CloudWatch dashboard body.
type Body struct {
	Widgets []*Widget `json:"widgets"`
}

// search is a SEARCH expression over every series of m in the cluster
// (every broker, topic or group), so the dashboard needs no list of them.
func (t Target) search(m Metric, stat string) string {
	dims := make([]string, len(m.Dims))
	for i, d := range m.Dims {
		dims[i] = fmt.Sprintf("%q", d)
	}
	return fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s" "%s"="%s"', '%s', 60)`,
		t.namespace(), strings.Join(dims, ","), m.Name, DimCluster, t.Cluster, stat)
}

// widget builds a time series of the given metrics: cluster-level ones as
// plain metrics, the others as SEARCH expressions.
func (t Target) widget(title, stat string, ms ...Metric) *Widget {
	w := &Widget{Type: "metric", Width: 12, Height: 6, uses: ms, Properties: WidgetProperties{
		Title: title, Region: t.Region, View: "timeSeries", Period: 60, Stat: stat,
	}}
	for i, m := range ms {
		if len(m.Dims) == 1 {
			w.Properties.Metrics = append(w.Properties.Metrics, []any{t.namespace(), m.Name, DimCluster, t.Cluster, map[string]any{"stat": stat}})
			continue
		}
		// No label: CloudWatch labels each series of a SEARCH by its dimensions.
		w.Properties.Metrics = append(w.Properties.Metrics, []any{map[string]any{
			"expression": t.search(m, stat), "id": fmt.Sprintf("e%d", i+1)}})
	}
	return w
}

func (w *Widget) line(v float64, label string) *Widget {
	w.Properties.Annotations = map[string]any{"horizontal": []map[string]any{{"value": v, "label": label}}}
	return w
}

func (w *Widget) yRange(min, max float64) *Widget {
	w.Properties.YAxis = map[string]any{"left": map[string]any{"min": min, "max": max}}
	return w
}

// Dashboard is the cluster's dashboard: health, throughput, resources,
// requests (times by phase, idle shares), replication, connections, topics
// and consumer lag.
func Dashboard(t Target) *Body {
	ws := []*Widget{
		t.widget("Active controllers (1 is healthy)", "Sum", ActiveControllerCount).line(1, "one controller"),
		t.widget("Offline partitions", "Maximum", OfflinePartitionsCount),
		t.widget("Under-replicated partitions by broker", "Maximum", UnderReplicatedPartitions),
		t.widget("Under min ISR partitions by broker", "Maximum", UnderMinIsrPartitionCount),
		t.widget("Topics and partitions", "Maximum", GlobalTopicCount, GlobalPartitionCount),
		t.widget("Partitions and leaders by broker", "Maximum", PartitionCount, LeaderCount),
		t.widget("Bytes in and out by broker (bytes/s)", "Average", BytesInPerSec, BytesOutPerSec),
		t.widget("Messages in by broker (/s)", "Average", MessagesInPerSec),
		t.widget("CPU user and system by broker (%; alarm at user + system 60)", "Average", CpuUser, CpuSystem).line(60, "60 %").yRange(0, 100),
		t.widget("Storage used by broker (% of provisioned, or of the log-dir filesystem)", "Maximum", KafkaDataLogsDiskUsed).line(90, "90 %").yRange(0, 100),
		t.widget("Memory used and free by broker", "Average", MemoryUsed, MemoryFree),
		t.widget("Produce and fetch mean total time (ms)", "Average", ProduceTotalTimeMsMean, FetchTotalTimeMsMean),
		t.widget("Request handler and network processor idle by broker (%; PER_BROKER; alarms under 30)", "Average",
			RequestHandlerAvgIdlePercent, NetworkProcessorAvgIdlePercent).line(30, "30 %").yRange(0, 100),
		t.widget("Produce time by phase (ms; PER_BROKER)", "Average", ProduceRequestQueueTimeMsMean, ProduceLocalTimeMsMean,
			ProduceResponseQueueTimeMsMean, ProduceResponseSendTimeMsMean),
		t.widget("Consumer fetch time by phase (ms; PER_BROKER)", "Average", FetchConsumerRequestQueueTimeMsMean, FetchConsumerLocalTimeMsMean,
			FetchConsumerResponseQueueTimeMsMean, FetchConsumerResponseSendTimeMsMean),
		t.widget("Replication bytes in and out by broker (bytes/s; PER_BROKER)", "Average", ReplicationBytesInPerSec, ReplicationBytesOutPerSec),
		t.widget("Connections by broker", "Average", ConnectionCount),
		t.widget("Client connections by broker", "Average", ClientConnectionCount),
		t.widget("Connections opened and closed (/s; PER_BROKER)", "Average", ConnectionCreationRate, ConnectionCloseRate),
		t.widget("Bytes in and out by topic and broker (PER_TOPIC_PER_BROKER)", "Average", TopicBytesInPerSec, TopicBytesOutPerSec),
		t.widget("Messages in by topic and broker (PER_TOPIC_PER_BROKER)", "Average", TopicMessagesInPerSec),
		t.widget("Consumer lag by group and topic (records)", "Maximum", SumOffsetLag, MaxOffsetLag),
		t.widget("Consumer time lag by group and topic (s)", "Maximum", EstimatedMaxTimeLag).line(300, "5 min"),
		t.widget("Consumer lag by partition (PER_TOPIC_PER_PARTITION)", "Maximum", OffsetLag),
		t.widget("Consumer time lag by partition (s; PER_TOPIC_PER_PARTITION)", "Maximum", EstimatedTimeLag),
	}
	for i, w := range ws {
		w.X, w.Y = (i%2)*12, (i/2)*6
	}
	return &Body{Widgets: ws}
}

// Uses lists the metrics the dashboard reads.
func (b *Body) Uses() []Metric {
	var out []Metric
	for _, w := range b.Widgets {
		out = append(out, w.uses...)
	}
	return out
}

// Marshal renders v as the checked-in JSON.
func Marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return append(b, '\n'), nil
}
