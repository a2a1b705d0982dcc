package metrics

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type fakeSource struct{ stats []PartitionStat }

func (f fakeSource) PartitionStats() []PartitionStat { return f.stats }
func (f fakeSource) ClusterStats() ClusterStat       { return ClusterStat{} }
func (f fakeSource) StorageStats() StorageStat       { return StorageStat{} }

func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// series finds the series of f whose request label is req.
func series(f *dto.MetricFamily, req string) *dto.Metric {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "request" && l.GetValue() == req {
				return m
			}
		}
	}
	return nil
}

func TestRequestPhases(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, fakeSource{stats: []PartitionStat{{Topic: "orders"}, {Topic: "orders", Partition: 1}}})
	m.ObserveRequest(RequestTiming{API: "Produce", Version: 9, Bytes: 1000, Queue: time.Millisecond,
		Handler: 10 * time.Millisecond, ResponseQueue: 2 * time.Millisecond, ResponseSend: 3 * time.Millisecond})
	m.Parked("Produce", "", 4*time.Millisecond)
	m.ObserveRequest(RequestTiming{API: "Fetch", Kind: FetchFollower, Version: 16, Bytes: 100, Handler: 500 * time.Millisecond, ThrottleMs: 7})
	m.Parked("Fetch", FetchFollower, 499*time.Millisecond)
	fams := gather(t, reg)

	for _, c := range []struct {
		family, request string
		sum             float64
		count           uint64
	}{
		{"kafka_network_requestmetrics_requestqueuetimems", "Produce", 1, 1},
		{"kafka_network_requestmetrics_localtimems", "Produce", 6, 1},
		{"kafka_network_requestmetrics_remotetimems", "Produce", 4, 1},
		{"kafka_network_requestmetrics_responsequeuetimems", "Produce", 2, 1},
		{"kafka_network_requestmetrics_responsesendtimems", "Produce", 3, 1},
		{"kafka_network_requestmetrics_requestbytes", "Produce", 1000, 1},
		{"kafka_network_requestmetrics_messageconversionstimems", "Produce", 0, 1},
		{"kafka_network_requestmetrics_localtimems", "Fetch", 1, 1},
		{"kafka_network_requestmetrics_localtimems", FetchFollower, 1, 1},
		{"kafka_network_requestmetrics_throttletimems", FetchFollower, 7, 1},
		{"kafka_network_requestmetrics_totaltimems", FetchFollower, 500, 1},
		{"kafka_network_requestmetrics_totaltimems", "Produce", 16, 1},
	} {
		s := series(fams[c.family], c.request)
		if s == nil {
			t.Errorf("%s{request=%q} missing", c.family, c.request)
			continue
		}
		if got := s.GetSummary(); math.Abs(got.GetSampleSum()-c.sum) > 1e-9 || got.GetSampleCount() != c.count {
			t.Errorf("%s{request=%q} = sum %v count %d, want %v %d", c.family, c.request, got.GetSampleSum(), got.GetSampleCount(), c.sum, c.count)
		}
	}
	if series(fams["kafka_network_requestmetrics_messageconversionstimems"], FetchFollower) != nil {
		t.Error("message conversion time for FetchFollower: Kafka records it for Produce and Fetch only")
	}
	if got := fams["weir_broker_network_busy_seconds_total"].GetMetric()[0].GetCounter().GetValue(); math.Abs(got-0.006) > 1e-9 {
		t.Errorf("network busy %v s, want 0.006 (produce's decode, encode and write)", got)
	}
	if got := fams["weir_broker_request_handlers"].GetMetric()[0].GetGauge().GetValue(); got != float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("handlers %v", got)
	}
	for _, name := range []string{"kafka_server_brokertopicmetrics_producemessageconversions_total", "kafka_server_brokertopicmetrics_fetchmessageconversions_total"} {
		if f := fams[name]; len(f.GetMetric()) != 1 || f.GetMetric()[0].GetCounter().GetValue() != 0 {
			t.Errorf("%s: %v, want one zero series for the one topic", name, f)
		}
	}
	for _, name := range []string{"kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent", "kafka_network_socketserver_networkprocessoravgidlepercent"} {
		if v := fams[name].GetMetric()[0].GetGauge().GetValue(); v < 0 || v > 1 {
			t.Errorf("%s = %v, want 0–1", name, v)
		}
	}
	if len(fams["kafka_server_quota_queue_size"].GetMetric()) != 3 || fams["go_gc_heap_live_bytes"] == nil {
		t.Errorf("queue sizes %v, heap %v", fams["kafka_server_quota_queue_size"], fams["go_gc_heap_live_bytes"])
	}
}

// TestLocalTimeNeverGoesDown: a produce's parked time lands before its
// handler time; local time (handler − parked) must not dip in between.
func TestLocalTimeNeverGoesDown(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, fakeSource{})
	local := func() float64 {
		return series(gather(t, reg)["kafka_network_requestmetrics_localtimems"], "Produce").GetSummary().GetSampleSum()
	}
	m.ObserveRequest(RequestTiming{API: "Produce", Handler: 10 * time.Millisecond})
	if got := local(); got != 10 {
		t.Fatalf("local %v, want 10", got)
	}
	m.Parked("Produce", "", 5*time.Millisecond) // the next produce's wait, its handler not yet counted
	if got := local(); got != 10 {
		t.Fatalf("local dipped to %v", got)
	}
	m.ObserveRequest(RequestTiming{API: "Produce", Handler: 6 * time.Millisecond})
	if got := local(); got != 11 {
		t.Fatalf("local %v, want 11", got)
	}
}

// TestParksCountAWaitOnce: a produce to several partitions registers one
// channel on each; its wait counts once.
func TestParksCountAWaitOnce(t *testing.T) {
	m := New(prometheus.NewRegistry(), fakeSource{})
	w := make(chan struct{}, 1)
	begin := time.Now()
	m.Parks.Start(w)
	m.Parks.Start(w)
	m.Parks.Stop(w)
	took := time.Since(begin)
	remote := m.requests.api("Produce").remote.Load()
	m.Parks.Stop(w)
	if again := m.requests.api("Produce").remote.Load(); again != remote || remote <= 0 || time.Duration(remote) > took {
		t.Fatalf("remote %v then %v, want one wait of at most %v", time.Duration(remote), time.Duration(again), took)
	}
	var nilParks *Parks
	nilParks.Start(w) // partitions built without metrics
	nilParks.Stop(w)
}

func TestIdleShare(t *testing.T) {
	for _, c := range []struct {
		busy       time.Duration
		processors int
		elapsed    time.Duration
		want       float64
	}{
		{0, 2, time.Second, 1},
		{time.Second, 2, time.Second, 0.5},
		{5 * time.Second, 2, time.Second, 0}, // more busy than capacity: saturated
		{time.Second, 0, time.Second, 1},
		{time.Second, 2, 0, 1},
	} {
		if got := IdleShare(c.busy, c.processors, c.elapsed); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("IdleShare(%v, %d, %v) = %v, want %v", c.busy, c.processors, c.elapsed, got, c.want)
		}
	}
}

// TestIdleMeterAveragesByElapsedTime: a minute at half the processors
// busy moves the one-minute average from 1 by 1 − e⁻¹ of the way to 0.5,
// however the minute is split between scrapes.
func TestIdleMeterAveragesByElapsedTime(t *testing.T) {
	p := time.Duration(runtime.GOMAXPROCS(0))
	for _, scrapes := range []int{1, 4, 60} {
		var busy time.Duration
		im := newIdleMeter(func() time.Duration { return busy })
		now := im.last
		var v float64
		for range scrapes {
			step := time.Minute / time.Duration(scrapes)
			busy += p * step / 2
			now = now.Add(step)
			v = im.value(now)
		}
		want := 1 + (1-math.Exp(-1))*(0.5-1)
		if math.Abs(v-want) > 1e-9 {
			t.Errorf("%d scrapes: %v, want %v", scrapes, v, want)
		}
	}
}

// TestConversions: converted records count per topic (every hosted topic
// has a series, zero until it converts) and their time goes to the
// request's MessageConversionsTimeMs, Produce's or Fetch's.
func TestConversions(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, fakeSource{stats: []PartitionStat{{Topic: "old"}, {Topic: "new"}}})
	m.ObserveRequest(RequestTiming{API: "Produce", Version: 2})
	m.ObserveRequest(RequestTiming{API: "Fetch", Kind: FetchConsumer, Version: 3})
	m.Conversions.Produce("old", 3, 2*time.Millisecond)
	m.Conversions.Fetch("old", 5, 4*time.Millisecond)
	fams := gather(t, reg)
	for _, c := range []struct {
		name, topic string
		want        float64
	}{
		{"kafka_server_brokertopicmetrics_producemessageconversions_total", "old", 3},
		{"kafka_server_brokertopicmetrics_fetchmessageconversions_total", "old", 5},
		{"kafka_server_brokertopicmetrics_producemessageconversions_total", "new", 0},
	} {
		var got float64 = -1
		for _, s := range fams[c.name].GetMetric() {
			if s.GetLabel()[0].GetValue() == c.topic {
				got = s.GetCounter().GetValue()
			}
		}
		if got != c.want {
			t.Errorf("%s{topic=%s} = %v, want %v", c.name, c.topic, got, c.want)
		}
	}
	conv := fams["kafka_network_requestmetrics_messageconversionstimems"]
	for req, want := range map[string]float64{"Produce": 2, "Fetch": 4} {
		if got := series(conv, req).GetSummary().GetSampleSum(); got != want {
			t.Errorf("MessageConversionsTimeMs{request=%s} = %v, want %v", req, got, want)
		}
	}
	if series(conv, FetchConsumer) != nil {
		t.Error("MessageConversionsTimeMs for FetchConsumer: Kafka records it for Produce and Fetch only")
	}
}

// Remote time carries percentiles for the APIs that park (Kafka's
// RemoteTimeMs histogram), over the requests that parked; the others keep
// sum and count only. PurgatorySize counts the requests parked now.
func TestRemoteTimePercentilesAndPurgatory(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, fakeSource{})
	for i := 1; i <= 100; i++ {
		m.ObserveRequest(RequestTiming{API: "Produce", Handler: time.Duration(i) * time.Millisecond})
		m.Parked("Produce", "", time.Duration(i)*time.Millisecond)
	}
	m.ObserveRequest(RequestTiming{API: "Metadata", Handler: time.Millisecond})
	w1, w2 := make(chan struct{}), make(chan struct{})
	m.Parks.Start(w1)
	m.Parks.Start(w1) // the same produce on a second partition: one request
	m.Parks.Start(w2)
	m.Purgatory(PurgatoryFetch, 1)
	fams := gather(t, reg)

	qs := map[float64]float64{}
	for _, q := range series(fams["kafka_network_requestmetrics_remotetimems"], "Produce").GetSummary().GetQuantile() {
		qs[q.GetQuantile()] = q.GetValue()
	}
	if math.Abs(qs[0.5]-50) > 5 || math.Abs(qs[0.99]-99) > 1 {
		t.Errorf("Produce remote time quantiles %v, want p50 ≈ 50 ms and p99 ≈ 99 ms", qs)
	}
	if q := series(fams["kafka_network_requestmetrics_remotetimems"], "Metadata").GetSummary().GetQuantile(); len(q) != 0 {
		t.Errorf("Metadata, which never parks, has remote time quantiles %v", q)
	}
	purgatory := func(op string) float64 {
		for _, s := range fams["kafka_server_delayedoperationpurgatory_purgatorysize"].GetMetric() {
			if s.GetLabel()[0].GetValue() == op {
				return s.GetGauge().GetValue()
			}
		}
		t.Fatalf("no PurgatorySize for %s", op)
		return 0
	}
	if p, f := purgatory(PurgatoryProduce), purgatory(PurgatoryFetch); p != 2 || f != 1 {
		t.Errorf("purgatory sizes produce %v fetch %v, want 2 and 1", p, f)
	}
	m.Parks.Stop(w1)
	m.Parks.Stop(w1)
	m.Parks.Stop(w2)
	m.Purgatory(PurgatoryFetch, -1)
	fams = gather(t, reg)
	if p, f := purgatory(PurgatoryProduce), purgatory(PurgatoryFetch); p != 0 || f != 0 {
		t.Errorf("after every wait ended: purgatory sizes produce %v fetch %v, want 0", p, f)
	}
}

// BenchmarkObserveRequest is the metrics cost of one request on the
// connection loop: a follower's fetch (two summaries, two phase sets).
func BenchmarkObserveRequest(b *testing.B) {
	m := New(prometheus.NewRegistry(), fakeSource{})
	t := RequestTiming{API: "Fetch", Kind: FetchFollower, Version: 16, Bytes: 100, Handler: time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest(t)
	}
}

// BenchmarkTopicSeries is the produce path's per-partition counters.
func BenchmarkTopicSeries(b *testing.B) {
	m := New(prometheus.NewRegistry(), fakeSource{})
	b.ReportAllocs()
	for b.Loop() {
		s := m.Topic("orders")
		s.TotalProduceRequests.Inc()
		s.BytesIn.Add(1000)
		s.MessagesIn.Add(10)
	}
}
