package cloudwatch

import "fmt"

// Alarm is one PutMetricAlarm input (`aws cloudwatch put-metric-alarm
// --cli-input-json`): either one metric (MetricName, Namespace, Dimensions,
// Statistic) or metric math (Metrics).
type Alarm struct {
	AlarmName          string          `json:"AlarmName"`
	AlarmDescription   string          `json:"AlarmDescription"`
	Namespace          string          `json:"Namespace,omitempty"`
	MetricName         string          `json:"MetricName,omitempty"`
	Dimensions         []Dimension     `json:"Dimensions,omitempty"`
	Statistic          string          `json:"Statistic,omitempty"`
	Period             int             `json:"Period,omitempty"`
	Metrics            []MetricDataQry `json:"Metrics,omitempty"`
	EvaluationPeriods  int             `json:"EvaluationPeriods"`
	DatapointsToAlarm  int             `json:"DatapointsToAlarm"`
	Threshold          float64         `json:"Threshold"`
	ComparisonOperator string          `json:"ComparisonOperator"`
	TreatMissingData   string          `json:"TreatMissingData"`
	uses               []Metric
}

// Dimension is a CloudWatch dimension.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// MetricDataQry is one query of a metric-math alarm.
type MetricDataQry struct {
	ID         string      `json:"Id"`
	Expression string      `json:"Expression,omitempty"`
	MetricStat *MetricStat `json:"MetricStat,omitempty"`
	ReturnData bool        `json:"ReturnData"`
	Label      string      `json:"Label,omitempty"`
}

// MetricStat is a metric and statistic in a metric-math alarm.
type MetricStat struct {
	Metric struct {
		Namespace  string      `json:"Namespace"`
		MetricName string      `json:"MetricName"`
		Dimensions []Dimension `json:"Dimensions"`
	} `json:"Metric"`
	Period int    `json:"Period"`
	Stat   string `json:"Stat"`
}

// dims are a metric's dimension values: the cluster, then per the metric's
// dimension names, the broker, group and topic given.
func (t Target) dims(m Metric, broker int, gt GroupTopic) []Dimension {
	var out []Dimension
	for _, d := range m.Dims {
		v := t.Cluster
		switch d {
		case DimBroker:
			v = fmt.Sprint(broker)
		case DimGroup:
			v = gt.Group
		case DimTopic:
			v = gt.Topic
		}
		out = append(out, Dimension{d, v})
	}
	return out
}

// alarm is a one-metric alarm: breaching when op threshold holds for n of n
// one-minute periods.
func (t Target) alarm(name, desc string, m Metric, stat, op string, threshold float64, n int, missing string, broker int, gt GroupTopic) Alarm {
	return Alarm{AlarmName: t.Cluster + "-" + name, AlarmDescription: desc, Namespace: t.namespace(), MetricName: m.Name,
		Dimensions: t.dims(m, broker, gt), Statistic: stat, Period: 60, EvaluationPeriods: n, DatapointsToAlarm: n,
		Threshold: threshold, ComparisonOperator: op, TreatMissingData: missing, uses: []Metric{m}}
}

func (t Target) stat(id string, m Metric, broker int) MetricDataQry {
	s := &MetricStat{Period: 60, Stat: "Average"}
	s.Metric.Namespace, s.Metric.MetricName, s.Metric.Dimensions = t.namespace(), m.Name, t.dims(m, broker, GroupTopic{})
	return MetricDataQry{ID: id, MetricStat: s}
}

const (
	gt      = "GreaterThanThreshold"
	lt      = "LessThanThreshold"
	breach  = "breaching"
	ignore  = "notBreaching"
	runbook = " Runbook: docs/DASHBOARDS.md#"
)

// Alarms are the Prometheus alerts' counterparts that CloudWatch can
// express on MSK's names (docs/DASHBOARDS.md lists what has none).
func Alarms(t Target) []Alarm {
	none := GroupTopic{}
	out := []Alarm{
		t.alarm("no-active-controller", "No broker is the active controller."+runbook+"kafkanoactivecontroller",
			ActiveControllerCount, "Sum", lt, 1, 1, breach, 0, none),
		t.alarm("multiple-active-controllers", "More than one broker claims to be the active controller."+runbook+"kafkamultipleactivecontrollers",
			ActiveControllerCount, "Sum", gt, 1, 1, ignore, 0, none),
		t.alarm("offline-partitions", "Partitions without a live leader."+runbook+"kafkaofflinepartitions",
			OfflinePartitionsCount, "Maximum", gt, 0, 1, ignore, 0, none),
	}
	for _, b := range t.Brokers {
		p := fmt.Sprintf("broker-%d-", b)
		cpu := Alarm{AlarmName: t.Cluster + "-" + p + "cpu-high",
			AlarmDescription: fmt.Sprintf("CPU user + system of broker %d above 60 %% for 15 minutes.%skafkabrokercpuhigh", b, runbook),
			Metrics: []MetricDataQry{t.stat("user", CpuUser, b), t.stat("system", CpuSystem, b),
				{ID: "cpu", Expression: "user + system", Label: "CpuUser + CpuSystem", ReturnData: true}},
			EvaluationPeriods: 15, DatapointsToAlarm: 15, Threshold: 60, ComparisonOperator: gt, TreatMissingData: ignore,
			uses: []Metric{CpuUser, CpuSystem}}
		out = append(out,
			// A dead broker (or agent) sends no PartitionCount: missing data breaches.
			t.alarm(p+"down", fmt.Sprintf("Broker %d, or its agent, has published no metrics for 3 minutes.%skafkabrokerdown", b, runbook),
				PartitionCount, "SampleCount", lt, 1, 3, breach, b, none),
			t.alarm(p+"under-replicated", fmt.Sprintf("Broker %d leads under-replicated partitions for 2 minutes.%skafkaunderreplicatedpartitions", b, runbook),
				UnderReplicatedPartitions, "Maximum", gt, 0, 2, ignore, b, none),
			t.alarm(p+"under-min-isr", fmt.Sprintf("Broker %d leads partitions under min.insync.replicas.%skafkaunderminisrpartitions", b, runbook),
				UnderMinIsrPartitionCount, "Maximum", gt, 0, 1, ignore, b, none),
			t.alarm(p+"disk-above-85", fmt.Sprintf("Broker %d's data logs use more than 85 %% of their storage (KafkaDataLogsDiskUsed: of the provisioned storage, or of the log-dir filesystem) for 5 minutes.%skafkastorageabove85percent", b, runbook),
				KafkaDataLogsDiskUsed, "Maximum", gt, 85, 5, ignore, b, none),
			t.alarm(p+"storage-nearly-full", fmt.Sprintf("Broker %d's data logs use more than 90 %% of their storage for 5 minutes; produce is refused at 100 %%.%sweirbrokerstoragenearlyfull", b, runbook),
				KafkaDataLogsDiskUsed, "Maximum", gt, 90, 5, ignore, b, none),
			cpu,
			t.alarm(p+"request-handler-idle-low", fmt.Sprintf("The request handlers of broker %d are less than 30 %% idle for 15 minutes (agent level PER_BROKER).%skafkarequesthandleridlelow", b, runbook),
				RequestHandlerAvgIdlePercent, "Average", lt, 30, 15, ignore, b, none),
			t.alarm(p+"network-processor-idle-low", fmt.Sprintf("The network processors of broker %d are less than 30 %% idle for 15 minutes (agent level PER_BROKER).%skafkanetworkprocessoridlelow", b, runbook),
				NetworkProcessorAvgIdlePercent, "Average", lt, 30, 15, ignore, b, none))
	}
	for _, g := range t.GroupLags {
		p := fmt.Sprintf("group-%s-%s-", g.Group, g.Topic)
		out = append(out,
			t.alarm(p+"lag", fmt.Sprintf("Group %s lags more than 10,000 records on %s for 10 minutes.%skafkaconsumergrouplaghigh", g.Group, g.Topic, runbook),
				SumOffsetLag, "Maximum", gt, 10000, 10, ignore, 0, g),
			t.alarm(p+"time-lag", fmt.Sprintf("Group %s's oldest unread record of %s is over 5 minutes old, for 5 minutes.%skafkaconsumergrouptimelaghigh", g.Group, g.Topic, runbook),
				EstimatedMaxTimeLag, "Maximum", gt, 300, 5, ignore, 0, g))
	}
	return out
}

// AlarmUses lists the metrics the alarms read.
func AlarmUses(as []Alarm) []Metric {
	var out []Metric
	for _, a := range as {
		out = append(out, a.uses...)
	}
	return out
}
