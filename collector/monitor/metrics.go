package monitor

import "github.com/prometheus/client_golang/prometheus"

// Sample results and reasons, weir_collector_samples_total's labels.
const (
	resultAccepted = "accepted"
	resultRejected = "rejected"

	reasonBroker        = "broker" // accepted: a broker sample
	reasonPartition     = "partition"
	reasonDecode        = "decode"
	reasonUnknownSchema = "unknown_schema"
	reasonClusterName   = "cluster_name"
	reasonPaused        = "paused"
)

// metrics are the monitor's Prometheus series.
type metrics struct {
	samples *prometheus.CounterVec
}

var (
	descValidWindows = prometheus.NewDesc("weir_collector_model_valid_windows",
		"Completed load windows that are valid.", nil, nil)
	descValidRatio = prometheus.NewDesc("weir_collector_model_valid_partition_ratio",
		"Share of partitions with valid load in every valid window (0-1).", nil, nil)
	descPaused = prometheus.NewDesc("weir_collector_sampling_paused",
		"1 while sampling is paused (pause_sampling).", nil, nil)
)

// newMetrics registers the monitor's series on reg (nil: not exported).
func newMetrics(reg prometheus.Registerer, m *Monitor) *metrics {
	out := &metrics{samples: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_collector_samples_total",
		Help: "Load samples read from the samples topic, by result (accepted, rejected) and reason.",
	}, []string{"result", "reason"})}
	if reg != nil {
		reg.MustRegister(out.samples, stateCollector{m})
	}
	return out
}

// stateCollector exports the model gauges from one State per scrape.
type stateCollector struct{ m *Monitor }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descValidWindows
	ch <- descValidRatio
	ch <- descPaused
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.State(c.m.now())
	ch <- prometheus.MustNewConstMetric(descValidWindows, prometheus.GaugeValue, float64(s.NumValidWindows))
	ch <- prometheus.MustNewConstMetric(descValidRatio, prometheus.GaugeValue, s.ValidPartitionRatio)
	ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, b2f(s.State == StatePaused))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
