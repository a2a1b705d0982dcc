package metrics

import (
	"math"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Kafka's RequestMetrics split a request's total time into phases, and
// Weir's connection goroutines measure the same phases (docs/METRICS.md has
// the definitions):
//
//	requestqueue   the frame read → decoded (Weir has no request queue: decoding)
//	local          decoded → handled, minus remote
//	remote         parked: an acks=all produce waiting for the ISR, a fetch
//	               long-polling for data
//	responsequeue  handled → encoded (no response queue either: encoding)
//	responsesend   encoded → written to the socket
//
// The phases are exported as summaries without quantiles (sum and count:
// means over any window), under the JMX exporter's names, but for the
// remote time of the APIs that park (Produce, Fetch, FetchConsumer,
// FetchFollower), which also carries Kafka's percentiles over the requests
// that parked in the last minute: where an acks=all produce's time goes
// (issue 14) is its wait for the followers. Remote time is
// measured where a request parks (Parked), which is not the connection's
// goroutine for a produce, so local time is the handler's time minus the
// parked time summed per API, at scrape time.

// Request kinds Kafka's RequestMetrics record fetches under besides "Fetch".
const (
	FetchConsumer = "FetchConsumer"
	FetchFollower = "FetchFollower"
)

// RequestTiming is one request as its connection goroutine measured it.
type RequestTiming struct {
	API     string // kmsg.NameForKey
	Kind    string // FetchConsumer or FetchFollower for a fetch, else ""
	Version int16
	Bytes   int // the request's size (its size prefix's value, as Kafka counts it)

	Queue         time.Duration // frame read → decoded
	Handler       time.Duration // decoded → handled, parked time included
	ResponseQueue time.Duration // handled → encoded
	ResponseSend  time.Duration // encoded → written
	ThrottleMs    int32         // the throttle time the response carries
}

// Total is the request's time from its frame being read to its response
// being written (RequestMetrics TotalTimeMs).
func (t RequestTiming) Total() time.Duration {
	return t.Queue + t.Handler + t.ResponseQueue + t.ResponseSend
}

// network is the time spent on the work Kafka's network threads do.
func (t RequestTiming) network() time.Duration { return t.Queue + t.ResponseQueue + t.ResponseSend }

// phaseStats accumulates one API's phases.
type phaseStats struct {
	count                                  atomic.Uint64
	bytes, throttleMs                      atomic.Uint64
	queue, handler, responseQueue, respond atomic.Int64       // nanoseconds
	remote                                 atomic.Int64       // nanoseconds, from Parked
	conversions                            atomic.Int64       // nanoseconds, from Conversions
	remoteQ                                prometheus.Summary // parked milliseconds' quantiles; nil for APIs that never park
}

// parkingAPIs are the request kinds whose remote time has quantiles.
var parkingAPIs = map[string]bool{"Produce": true, "Fetch": true, FetchConsumer: true, FetchFollower: true}

// Purgatories Kafka names its delayed operations by, and that Weir has.
const (
	PurgatoryProduce = "Produce"
	PurgatoryFetch   = "Fetch"
)

// requestStats holds every API's phases and the network busy time.
type requestStats struct {
	byAPI       sync.Map // string → *phaseStats
	networkBusy atomic.Int64
	// Requests parked now: acks=all produces waiting for the ISR, fetches
	// long-polling (Kafka's DelayedOperationPurgatory PurgatorySize).
	parkedProduce, parkedFetch atomic.Int64
}

func (r *requestStats) api(name string) *phaseStats {
	if s, ok := r.byAPI.Load(name); ok {
		return s.(*phaseStats)
	}
	n := &phaseStats{}
	if parkingAPIs[name] {
		n.remoteQ = prometheus.NewSummary(prometheus.SummaryOpts{
			Name:       "remote_ms", // never registered: read by phaseSummaries
			Objectives: map[float64]float64{0.5: 0.05, 0.75: 0.02, 0.95: 0.01, 0.99: 0.001, 0.999: 0.0001},
			MaxAge:     time.Minute,
		})
	}
	s, _ := r.byAPI.LoadOrStore(name, n)
	return s.(*phaseStats)
}

func (s *phaseStats) observe(t RequestTiming) {
	s.count.Add(1)
	s.bytes.Add(uint64(max(t.Bytes, 0)))
	s.throttleMs.Add(uint64(max(t.ThrottleMs, 0)))
	s.queue.Add(int64(t.Queue))
	s.handler.Add(int64(t.Handler))
	s.responseQueue.Add(int64(t.ResponseQueue))
	s.respond.Add(int64(t.ResponseSend))
}

// Parked records time a request of the API spent parked (RemoteTimeMs):
// a fetch's long poll as "Fetch" and its kind, a produce's wait for the ISR
// through Parks.
// A request that parks more than once (a fetch woken before it has
// MinBytes) is recorded once, with its whole parked time.
func (m *Broker) Parked(api, kind string, d time.Duration) {
	m.requests.api(api).parked(d)
	if kind != "" {
		m.requests.api(kind).parked(d)
	}
}

func (s *phaseStats) parked(d time.Duration) {
	s.remote.Add(int64(d))
	if s.remoteQ != nil {
		s.remoteQ.Observe(float64(d) / 1e6)
	}
}

// Purgatory counts a request entering (delta 1) or leaving (-1) op's
// purgatory: PurgatoryProduce or PurgatoryFetch.
func (m *Broker) Purgatory(op string, delta int64) {
	switch op {
	case PurgatoryProduce:
		m.requests.parkedProduce.Add(delta)
	case PurgatoryFetch:
		m.requests.parkedFetch.Add(delta)
	}
}

// Parks times acks=all produces parked on their partitions. A produce
// registers one wake-up channel on every partition it waits for; Start and
// Stop are called per partition with that channel, and the wait counts
// once, from the first Start to the first Stop. A nil *Parks does nothing.
type Parks struct {
	m      *Broker
	parked sync.Map // chan struct{} → time.Time
}

// Start notes that w began waiting.
func (p *Parks) Start(w chan struct{}) {
	if p == nil {
		return
	}
	if _, loaded := p.parked.LoadOrStore(w, time.Now()); !loaded { // a wall latency (RemoteTimeMs), not broker time
		p.m.Purgatory(PurgatoryProduce, 1)
	}
}

// Stop notes that w stopped waiting; the first Stop counts the wait as the
// produce's remote time.
func (p *Parks) Stop(w chan struct{}) {
	if p == nil {
		return
	}
	if start, ok := p.parked.LoadAndDelete(w); ok {
		p.m.Parked("Produce", "", time.Since(start.(time.Time)))
		p.m.Purgatory(PurgatoryProduce, -1)
	}
}

// idleWindow is the time constant of the idle-percent gauges: Kafka's
// meters report one-minute rates.
const idleWindow = time.Minute

// idleMeter is an exponentially weighted moving average of the idle share
// of GOMAXPROCS processors, fed from a busy-time counter at each scrape.
// Weighting by elapsed time makes it the same average whoever scrapes and
// however often.
type idleMeter struct {
	busy func() time.Duration // cumulative busy time

	mu       sync.Mutex
	last     time.Time
	lastBusy time.Duration
	avg      float64
}

func newIdleMeter(busy func() time.Duration) *idleMeter {
	return &idleMeter{busy: busy, last: time.Now(), lastBusy: busy(), avg: 1} // idle shares are of wall time
}

// value updates the average to now and returns it (0–1).
func (im *idleMeter) value(now time.Time) float64 {
	im.mu.Lock()
	defer im.mu.Unlock()
	busy := im.busy()
	dt := now.Sub(im.last)
	if dt <= 0 {
		return im.avg
	}
	idle := IdleShare(busy-im.lastBusy, runtime.GOMAXPROCS(0), dt)
	alpha := 1 - math.Exp(-float64(dt)/float64(idleWindow))
	im.avg += alpha * (idle - im.avg)
	im.last, im.lastBusy = now, busy
	return im.avg
}

// IdleShare is 1 − busy / (processors × elapsed), within [0, 1]: the share
// of the processors' time that busy left over.
func IdleShare(busy time.Duration, processors int, elapsed time.Duration) float64 {
	if processors <= 0 || elapsed <= 0 {
		return 1
	}
	return min(1, max(0, 1-float64(busy)/(float64(processors)*float64(elapsed))))
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// requestCollector emits the request phases, the idle gauges and the
// figures behind them at scrape time.
type requestCollector struct {
	stats            *requestStats
	handlerIdle      *idleMeter
	networkIdle      *idleMeter
	localMu          sync.Mutex
	localEmitted     map[string]float64 // local time last emitted per API, so its sum never goes down
	phases           [8]*prometheus.Desc
	handlers, netBus *prometheus.Desc
	handlerIdleDesc  *prometheus.Desc
	networkIdleDesc  *prometheus.Desc
	queueSize        *prometheus.Desc
	heapLive         *prometheus.Desc
	purgatorySize    *prometheus.Desc
}

// The phase summaries, in the order requestCollector.phases holds them.
const (
	phRequestQueue = iota
	phLocal
	phRemote
	phResponseQueue
	phResponseSend
	phThrottle
	phRequestBytes
	phConversions
)

func newRequestCollector(stats *requestStats) *requestCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	rm := func(name, help string) *prometheus.Desc {
		return d("kafka_network_requestmetrics_"+name, help+" Sum and count; no quantiles.", "request")
	}
	network := func() time.Duration { return time.Duration(stats.networkBusy.Load()) }
	return &requestCollector{
		stats:        stats,
		handlerIdle:  newIdleMeter(processCPU),
		networkIdle:  newIdleMeter(network),
		localEmitted: map[string]float64{},
		phases: [8]*prometheus.Desc{
			rm("requestqueuetimems", "Milliseconds from a request's frame being read to its being decoded (RequestMetrics RequestQueueTimeMs: Weir has no request queue)."),
			rm("localtimems", "Milliseconds the handler worked on a request, parked time excluded (RequestMetrics LocalTimeMs)."),
			rm("remotetimems", "Milliseconds a request was parked: an acks=all produce waiting for the ISR, a fetch long-polling (RequestMetrics RemoteTimeMs)."),
			rm("responsequeuetimems", "Milliseconds from a request being handled to its response being encoded (RequestMetrics ResponseQueueTimeMs: Weir has no response queue)."),
			rm("responsesendtimems", "Milliseconds writing a response to the socket (RequestMetrics ResponseSendTimeMs)."),
			rm("throttletimems", "Throttle time in milliseconds a response told its client (RequestMetrics ThrottleTimeMs)."),
			rm("requestbytes", "Request sizes in bytes (RequestMetrics RequestBytes)."),
			rm("messageconversionstimems", "Milliseconds converting record formats (RequestMetrics MessageConversionsTimeMs): message sets of Produce v0–v2 up to v2 batches, stored batches down for Fetch v0–v3."),
		},
		handlers: d("weir_broker_request_handlers", "Processors that run request handlers: GOMAXPROCS (Weir handles each connection on its own goroutine, with no handler pool)."),
		netBus:   d("weir_broker_network_busy_seconds_total", "Seconds connection goroutines spent decoding requests, encoding responses and writing them (the work of Kafka's network threads)."),
		handlerIdleDesc: d("kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent",
			"Share (0-1) of the broker's processors (GOMAXPROCS) idle: 1 - process CPU time / (GOMAXPROCS x elapsed), averaged over a minute (KafkaRequestHandlerPool RequestHandlerAvgIdlePercent)."),
		networkIdleDesc: d("kafka_network_socketserver_networkprocessoravgidlepercent",
			"Share (0-1) of GOMAXPROCS x elapsed not spent decoding, encoding and writing, averaged over a minute (SocketServer NetworkProcessorAvgIdlePercent)."),
		queueSize: d("kafka_server_quota_queue_size", "Responses held back for a client quota (Produce, Fetch, Request queue-size): Weir enforces no client quotas, so 0.", "resource"),
		purgatorySize: d("kafka_server_delayedoperationpurgatory_purgatorysize",
			"Requests parked now (DelayedOperationPurgatory PurgatorySize): Produce, acks=all produces waiting for the ISR; Fetch, fetches long-polling for MinBytes.", "delayedOperation"),
		heapLive: d("go_gc_heap_live_bytes", "Heap memory occupied by live objects that were marked by the previous GC (Go runtime /gc/heap/live:bytes)."),
	}
}

func (c *requestCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.phases {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{c.handlers, c.netBus, c.handlerIdleDesc, c.networkIdleDesc, c.queueSize, c.heapLive, c.purgatorySize} {
		ch <- d
	}
}

func (c *requestCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	gauge(ch, c.handlers, float64(runtime.GOMAXPROCS(0)))
	ch <- prometheus.MustNewConstMetric(c.netBus, prometheus.CounterValue, float64(c.stats.networkBusy.Load())/1e9)
	gauge(ch, c.handlerIdleDesc, c.handlerIdle.value(now))
	gauge(ch, c.networkIdleDesc, c.networkIdle.value(now))
	for _, r := range []string{"Produce", "Fetch", "Request"} {
		gauge(ch, c.queueSize, 0, r)
	}
	gauge(ch, c.heapLive, heapLive())
	gauge(ch, c.purgatorySize, float64(c.stats.parkedProduce.Load()), PurgatoryProduce)
	gauge(ch, c.purgatorySize, float64(c.stats.parkedFetch.Load()), PurgatoryFetch)
	c.stats.byAPI.Range(func(k, v any) bool {
		c.phaseSummaries(ch, k.(string), v.(*phaseStats))
		return true
	})
}

func (c *requestCollector) phaseSummaries(ch chan<- prometheus.Metric, api string, s *phaseStats) {
	count := s.count.Load()
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	remote := s.remote.Load()
	sums := [8]float64{
		phRequestQueue:  ms(s.queue.Load()),
		phLocal:         c.local(api, ms(s.handler.Load()-remote)),
		phRemote:        ms(remote),
		phResponseQueue: ms(s.responseQueue.Load()),
		phResponseSend:  ms(s.respond.Load()),
		phThrottle:      float64(s.throttleMs.Load()),
		phRequestBytes:  float64(s.bytes.Load()),
		phConversions:   ms(s.conversions.Load()),
	}
	for i, d := range c.phases {
		if i == phConversions && api != "Produce" && api != "Fetch" {
			continue
		}
		var qs map[float64]float64
		if i == phRemote {
			qs = quantiles(s.remoteQ)
		}
		ch <- prometheus.MustNewConstSummary(d, count, sums[i], qs, api)
	}
}

// quantiles reads a summary's current quantiles (nil: none kept).
func quantiles(s prometheus.Summary) map[float64]float64 {
	if s == nil {
		return nil
	}
	var m dto.Metric
	if err := s.Write(&m); err != nil || m.Summary == nil {
		return nil
	}
	out := map[float64]float64{}
	for _, q := range m.Summary.Quantile {
		out[q.GetQuantile()] = q.GetValue()
	}
	return out
}

// local keeps an API's local-time sum from going down: a produce's parked
// time is counted when it stops waiting, a moment before its handler time
// is, so handler − parked can dip between the two.
func (c *requestCollector) local(api string, v float64) float64 {
	c.localMu.Lock()
	defer c.localMu.Unlock()
	v = max(v, c.localEmitted[api])
	c.localEmitted[api] = v
	return v
}

// heapLive is the heap the last GC found live (the Go analogue of Java's
// heap after GC).
func heapLive() float64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}
