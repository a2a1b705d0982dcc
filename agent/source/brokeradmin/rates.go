package brokeradmin

import (
	"slices"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/weirhq/weir/agent/snapshot"
)

// The broker series the agent reads (docs/METRICS.md).
const (
	bytesIn          = "kafka_server_brokertopicmetrics_bytesin_total"
	bytesOut         = "kafka_server_brokertopicmetrics_bytesout_total"
	messagesIn       = "kafka_server_brokertopicmetrics_messagesin_total"
	bytesRejected    = "kafka_server_brokertopicmetrics_bytesrejected_total"
	requests         = "kafka_network_requestmetrics_requests_total"
	totalTimeMs      = "kafka_network_requestmetrics_totaltimems"
	connCount        = "kafka_server_socketservermetrics_connection_count"
	connCreation     = "kafka_server_socketservermetrics_connection_creation_total"
	connClose        = "kafka_server_socketservermetrics_connection_close_total"
	partitionCount   = "kafka_server_replicamanager_partitioncount"
	leaderCount      = "kafka_server_replicamanager_leadercount"
	underReplicated  = "kafka_server_replicamanager_underreplicatedpartitions"
	underMinISR      = "kafka_server_replicamanager_underminisrpartitioncount"
	activeController = "kafka_controller_kafkacontroller_activecontrollercount"
	offlinePartition = "kafka_controller_kafkacontroller_offlinepartitionscount"
	globalTopics     = "kafka_controller_kafkacontroller_globaltopiccount"
	globalPartitions = "kafka_controller_kafkacontroller_globalpartitioncount"
	// The broker process's CPU: Go's and the JMX exporter's standard name.
	processCPU = "process_cpu_seconds_total"

	clientConns         = "weir_broker_client_connection_count"
	replicationBytesIn  = "kafka_server_brokertopicmetrics_replicationbytesin_total"
	replicationBytesOut = "kafka_server_brokertopicmetrics_replicationbytesout_total"
	produceConversions  = "kafka_server_brokertopicmetrics_producemessageconversions_total"
	fetchConversions    = "kafka_server_brokertopicmetrics_fetchmessageconversions_total"
	handlers            = "weir_broker_request_handlers"
	networkBusy         = "weir_broker_network_busy_seconds_total"
	handlerIdleGauge    = "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent"
	networkIdleGauge    = "kafka_network_socketserver_networkprocessoravgidlepercent"
	quotaQueueSize      = "kafka_server_quota_queue_size"
	heapLive            = "go_gc_heap_live_bytes"
	heapLimit           = "go_gc_gomemlimit_bytes"
)

// Rates remembers the previous scrape's counters. The zero value is ready.
type Rates struct {
	prevTime time.Time
	prev     map[string]float64 // series key → counter value (or summary sum/count)
}

// Convert turns one scrape into snapshot.Broker, with rates since the
// previous Convert, and remembers this scrape for the next one.
func (r *Rates) Convert(fams map[string]*dto.MetricFamily, now time.Time) *snapshot.Broker {
	c := converter{prev: r.prev, next: make(map[string]float64, len(r.prev)), dt: now.Sub(r.prevTime).Seconds()}
	if r.prevTime.IsZero() || c.dt <= 0 {
		c.prev = nil // no rates on the first scrape
	}
	b := c.broker(fams)
	r.prev, r.prevTime = c.next, now
	return b
}

// converter is one Convert call's state.
type converter struct {
	prev, next map[string]float64
	dt         float64 // seconds since the previous scrape
}

func (c *converter) broker(fams map[string]*dto.MetricFamily) *snapshot.Broker {
	b := &snapshot.Broker{RequestsPerSec: map[string]float64{}}
	topics := map[string]*snapshot.TopicRates{}
	topic := func(name string) *snapshot.TopicRates {
		if topics[name] == nil {
			topics[name] = &snapshot.TopicRates{Topic: name}
		}
		return topics[name]
	}
	c.eachRate(fams[bytesIn], func(m *dto.Metric, v float64) { b.BytesInPerSec += v; topic(label(m, "topic")).BytesInPerSec += v })
	c.eachRate(fams[bytesOut], func(m *dto.Metric, v float64) { b.BytesOutPerSec += v; topic(label(m, "topic")).BytesOutPerSec += v })
	c.eachRate(fams[messagesIn], func(m *dto.Metric, v float64) {
		b.MessagesInPerSec += v
		topic(label(m, "topic")).MessagesInPerSec += v
	})
	c.eachRate(fams[bytesRejected], func(_ *dto.Metric, v float64) { b.BytesRejectedPerSec += v })
	c.eachRate(fams[requests], func(m *dto.Metric, v float64) { b.RequestsPerSec[label(m, "request")] += v })
	c.eachRate(fams[connCreation], func(_ *dto.Metric, v float64) { b.ConnectionCreationPerSec += v })
	c.eachRate(fams[connClose], func(_ *dto.Metric, v float64) { b.ConnectionClosePerSec += v })
	b.ProcessCPUCores, b.ProcessCPUValid = c.rateOf(fams[processCPU])
	c.eachRate(fams[replicationBytesIn], func(_ *dto.Metric, v float64) { b.ReplicationBytesInPerSec += v })
	c.eachRate(fams[replicationBytesOut], func(_ *dto.Metric, v float64) { b.ReplicationBytesOutPerSec += v })
	b.ReplicationValid = fams[replicationBytesIn] != nil && fams[replicationBytesOut] != nil
	c.conversions(b, fams, topic)
	c.requestPhases(b, fams)
	b.ProduceTotalTimeMsMean = b.Requests["Produce"].TotalMs
	b.FetchTotalTimeMsMean = b.Requests[FetchConsumer].TotalMs
	if _, ok := b.Requests[FetchConsumer]; !ok { // a broker that does not tell consumers' fetches apart
		b.FetchTotalTimeMsMean = c.summaryMean(fams[totalTimeMs], "Fetch")
	}
	c.idle(b, fams)
	b.ClientConnectionCount, b.ClientConnectionValid = gaugeSum(fams[clientConns]), fams[clientConns] != nil
	b.HeapLiveBytes, b.HeapValid = gaugeSum(fams[heapLive]), fams[heapLive] != nil
	if limit := gaugeSum(fams[heapLimit]); limit > 0 && limit < 1<<62 { // math.MaxInt64: no limit
		b.HeapLimitBytes = limit
	}
	if f := fams[quotaQueueSize]; f != nil {
		b.ThrottleQueueSize = map[string]float64{}
		for _, m := range f.GetMetric() {
			b.ThrottleQueueSize[label(m, "resource")] += m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
	}

	b.ConnectionCount = gaugeSum(fams[connCount])
	b.PartitionCount = gaugeSum(fams[partitionCount])
	b.LeaderCount = gaugeSum(fams[leaderCount])
	b.UnderReplicatedPartitions = gaugeSum(fams[underReplicated])
	b.UnderMinISRPartitions = gaugeSum(fams[underMinISR])
	b.ActiveControllerCount = gaugeSum(fams[activeController])
	b.OfflinePartitionsCount = gaugeSum(fams[offlinePartition])
	b.GlobalTopicCount = gaugeSum(fams[globalTopics])
	b.GlobalPartitionCount = gaugeSum(fams[globalPartitions])

	for _, t := range topics {
		b.Topics = append(b.Topics, *t)
	}
	sort.Slice(b.Topics, func(i, j int) bool { return b.Topics[i].Topic < b.Topics[j].Topic })
	b.Families = sortedFamilies(fams)
	return b
}

// eachRate calls fn with each counter series of f and its per-second rate.
func (c *converter) eachRate(f *dto.MetricFamily, fn func(*dto.Metric, float64)) {
	if f == nil {
		return
	}
	for _, m := range f.GetMetric() {
		v := m.GetCounter().GetValue()
		if f.GetType() == dto.MetricType_UNTYPED {
			v = m.GetUntyped().GetValue()
		}
		fn(m, c.rate(seriesKey(f.GetName(), m), v))
	}
}

// rateOf is the per-second increase of a counter family, summed over its
// series; false on a first scrape or for a family not exposed.
func (c *converter) rateOf(f *dto.MetricFamily) (float64, bool) {
	var sum float64
	c.eachRate(f, func(_ *dto.Metric, v float64) { sum += v })
	return sum, f != nil && c.prev != nil
}

// rate is the per-second increase of the counter at key, handling resets.
func (c *converter) rate(key string, v float64) float64 {
	c.next[key] = v
	prev, ok := c.previous(key)
	if !ok {
		return 0
	}
	return Increase(prev, v) / c.dt
}

// previous is a counter's value at the previous scrape. A series the
// previous scrape did not have was created since, from zero (a new topic,
// the first request of an API); none on the first scrape.
func (c *converter) previous(key string) (float64, bool) {
	if c.prev == nil {
		return 0, false
	}
	return c.prev[key], true
}

// Increase is how much a counter grew from prev to cur. A counter below its
// previous value was reset, and counted up from zero to cur since.
func Increase(prev, cur float64) float64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// summaryMean is the mean observation of the summary series with
// request=req over the interval: Δsum / Δcount (0 if nothing was observed).
func (c *converter) summaryMean(f *dto.MetricFamily, req string) float64 {
	for _, m := range f.GetMetric() {
		if label(m, "request") != req {
			continue
		}
		key := seriesKey(f.GetName(), m)
		sum, count := m.GetSummary().GetSampleSum(), float64(m.GetSummary().GetSampleCount())
		c.next[key+"_sum"], c.next[key+"_count"] = sum, count
		ps, okS := c.previous(key + "_sum")
		pc, okC := c.previous(key + "_count")
		if !okS || !okC {
			return 0
		}
		if dc := Increase(pc, count); dc > 0 {
			if count < pc { // reset: everything since is in the new totals
				return sum / count
			}
			return (sum - ps) / dc
		}
		return 0
	}
	return 0
}

// gaugeSum adds up every series of a gauge family (most have one).
func gaugeSum(f *dto.MetricFamily) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		sum += m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return sum
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// seriesKey identifies one series: its name and its labels in order.
func seriesKey(name string, m *dto.Metric) string {
	labels := m.GetLabel()
	if !slices.IsSortedFunc(labels, byName) {
		labels = slices.SortedFunc(slices.Values(labels), byName)
	}
	var sb strings.Builder
	sb.WriteString(name)
	for _, l := range labels {
		sb.WriteByte(0)
		sb.WriteString(l.GetName())
		sb.WriteByte('=')
		sb.WriteString(l.GetValue())
	}
	return sb.String()
}

func byName(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) }

func sortedFamilies(fams map[string]*dto.MetricFamily) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}
