package brokeradmin

import (
	dto "github.com/prometheus/client_model/go"

	"github.com/weirhq/weir/agent/snapshot"
)

// RequestMetrics' names for the two kinds of fetch, recorded besides "Fetch".
const (
	FetchConsumer = "FetchConsumer"
	FetchFollower = "FetchFollower"
)

// The RequestMetrics summaries read phase by phase (their _sum and
// _count: means over the interval), and what each sets.
var phaseFamilies = []struct {
	name string
	set  func(p *snapshot.RequestPhases, ms float64)
}{
	{totalTimeMs, func(p *snapshot.RequestPhases, v float64) { p.TotalMs = v }},
	{"kafka_network_requestmetrics_requestqueuetimems", func(p *snapshot.RequestPhases, v float64) { p.RequestQueueMs = v }},
	{localTimeMs, func(p *snapshot.RequestPhases, v float64) { p.LocalMs = v }},
	{"kafka_network_requestmetrics_remotetimems", func(p *snapshot.RequestPhases, v float64) { p.RemoteMs = v }},
	{"kafka_network_requestmetrics_responsequeuetimems", func(p *snapshot.RequestPhases, v float64) { p.ResponseQueueMs = v }},
	{"kafka_network_requestmetrics_responsesendtimems", func(p *snapshot.RequestPhases, v float64) { p.ResponseSendMs = v }},
	{throttleTimeMs, func(p *snapshot.RequestPhases, v float64) { p.ThrottleMs = v }},
	{"kafka_network_requestmetrics_messageconversionstimems", func(p *snapshot.RequestPhases, v float64) { p.MessageConversionsMs = v }},
}

const (
	localTimeMs    = "kafka_network_requestmetrics_localtimems"
	throttleTimeMs = "kafka_network_requestmetrics_throttletimems"
	requestBytes   = "kafka_network_requestmetrics_requestbytes"
)

// workFamilies are the phases in which the broker works on a request (its
// network and I/O threads' time in Kafka: MSK's RequestTime); remote time
// is parked, not worked.
var workFamilies = []string{"kafka_network_requestmetrics_requestqueuetimems", localTimeMs,
	"kafka_network_requestmetrics_responsequeuetimems", "kafka_network_requestmetrics_responsesendtimems"}

// exemptFromQuotas are the requests Kafka never throttles (its request
// quota's exempt time): followers' fetches and other brokers' requests.
var exemptFromQuotas = map[string]bool{FetchFollower: true, "LeaderAndISR": true, "StopReplica": true,
	"UpdateMetadata": true, "ControlledShutdown": true, "WriteTxnMarkers": true, "AlterPartition": true,
	"Envelope": true, "BrokerRegistration": true, "BrokerHeartbeat": true, "UnregisterBroker": true,
	"AllocateProducerIDs": true}

// requestTotals adds up a quantity over requests: all of them (a fetch
// once, as "Fetch") and those exempt from quotas.
type requestTotals struct{ all, exempt, allN, exemptN float64 }

func (t *requestTotals) add(req string, v, n float64) {
	if req == FetchConsumer || req == FetchFollower {
		if exemptFromQuotas[req] {
			t.exempt, t.exemptN = t.exempt+v, t.exemptN+n
		}
		return // counted under "Fetch"
	}
	t.all, t.allN = t.all+v, t.allN+n
	if exemptFromQuotas[req] {
		t.exempt, t.exemptN = t.exempt+v, t.exemptN+n
	}
}

// mean is the mean over the requests a quota could throttle; exemptMean
// over the others.
func (t requestTotals) mean() float64       { return ratio(t.all-t.exempt, t.allN-t.exemptN) }
func (t requestTotals) exemptMean() float64 { return ratio(t.exempt, t.exemptN) }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// requestPhases fills the per-request phase means and the figures MSK
// derives from them (RequestTime, RequestExemptFromThrottleTime,
// RequestThrottleTime, RequestBytesMean).
func (c *converter) requestPhases(b *snapshot.Broker, fams map[string]*dto.MetricFamily) {
	b.Requests = map[string]snapshot.RequestPhases{}
	for _, ph := range phaseFamilies {
		c.eachSummary(fams[ph.name], func(req string, dsum, dcount float64) {
			p := b.Requests[req]
			ph.set(&p, ratio(dsum, dcount))
			if ph.name == totalTimeMs {
				p.Count = dcount
			}
			b.Requests[req] = p
		})
	}
	if fams[localTimeMs] == nil {
		return // a broker that times only TotalTimeMs
	}
	b.RequestStatsValid = true
	var work, throttle, size requestTotals
	for _, name := range workFamilies {
		c.eachSummary(fams[name], func(req string, dsum, dcount float64) {
			if name != localTimeMs {
				dcount = 0 // each request counts once, with its local time
			}
			work.add(req, dsum, dcount)
		})
	}
	c.eachSummary(fams[throttleTimeMs], func(req string, dsum, dcount float64) { throttle.add(req, dsum, dcount) })
	c.eachSummary(fams[requestBytes], func(req string, dsum, dcount float64) {
		size.add(req, dsum, dcount)
		if req == "Produce" && c.dt > 0 {
			b.ProduceRequestBytesPerSec = dsum / c.dt
		}
	})
	b.RequestTimeMsMean, b.RequestExemptTimeMsMean = work.mean(), work.exemptMean()
	b.RequestThrottleTimeMsMean = throttle.mean()
	b.RequestBytesMean = ratio(size.all, size.allN)
}

// eachSummary calls fn with each summary series' request label and its
// sum and count increase since the previous scrape (none on the first; a
// series new since counts from zero).
func (c *converter) eachSummary(f *dto.MetricFamily, fn func(req string, dsum, dcount float64)) {
	for _, m := range f.GetMetric() {
		if dsum, dcount, ok := c.summaryDelta(f, m); ok {
			fn(label(m, "request"), dsum, dcount)
		}
	}
}

// summaryDelta is a summary series' sum and count increase since the
// previous scrape; after a reset (the count went down), its new totals.
func (c *converter) summaryDelta(f *dto.MetricFamily, m *dto.Metric) (dsum, dcount float64, ok bool) {
	key := seriesKey(f.GetName(), m)
	sum, count := m.GetSummary().GetSampleSum(), float64(m.GetSummary().GetSampleCount())
	c.next[key+"_sum"], c.next[key+"_count"] = sum, count
	ps, okS := c.previous(key + "_sum")
	pc, okC := c.previous(key + "_count")
	switch {
	case !okS || !okC:
		return 0, 0, false
	case count < pc:
		return sum, count, true
	}
	return sum - ps, count - pc, true
}

// idle computes the idle shares over the interval from the counters the
// broker exposes (docs/METRICS.md): its CPU time and its network busy time
// against GOMAXPROCS processors. A broker without them that exposes the
// one-minute gauges (0–1) gets those instead.
func (c *converter) idle(b *snapshot.Broker, fams map[string]*dto.MetricFamily) {
	p := gaugeSum(fams[handlers])
	if p > 0 && b.ProcessCPUValid {
		b.RequestHandlerIdlePercent, b.RequestHandlerIdleValid = idlePercent(b.ProcessCPUCores, p), true
	} else if f := fams[handlerIdleGauge]; f != nil {
		b.RequestHandlerIdlePercent, b.RequestHandlerIdleValid = 100*gaugeSum(f), true
	}
	if busy, ok := c.rateOf(fams[networkBusy]); p > 0 && ok {
		b.NetworkProcessorIdlePercent, b.NetworkProcessorIdleValid = idlePercent(busy, p), true
	} else if f := fams[networkIdleGauge]; f != nil {
		b.NetworkProcessorIdlePercent, b.NetworkProcessorIdleValid = 100*gaugeSum(f), true
	}
}

// idlePercent is 100 × (1 − busy / processors), within 0–100, for busy
// seconds per second.
func idlePercent(busy, processors float64) float64 {
	return 100 * min(1, max(0, 1-busy/processors))
}

// conversions fills the message-format conversion rates, per topic and
// in total.
func (c *converter) conversions(b *snapshot.Broker, fams map[string]*dto.MetricFamily, topic func(string) *snapshot.TopicRates) {
	c.eachRate(fams[produceConversions], func(m *dto.Metric, v float64) {
		b.ProduceMessageConversionsPerSec += v
		topic(label(m, "topic")).ProduceMessageConversionsPerSec += v
	})
	c.eachRate(fams[fetchConversions], func(m *dto.Metric, v float64) {
		b.FetchMessageConversionsPerSec += v
		topic(label(m, "topic")).FetchMessageConversionsPerSec += v
	})
	b.ConversionsValid = fams[produceConversions] != nil && fams[fetchConversions] != nil
}
