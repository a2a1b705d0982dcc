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

// newMetrics registers the monitor's series on reg (nil: not exported);
// the gauges read the monitor's state when scraped.
func newMetrics(reg prometheus.Registerer, m *Monitor) *metrics {
	out := &metrics{samples: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_collector_samples_total",
		Help: "Load samples read from the samples topic, by result (accepted, rejected) and reason.",
	}, []string{"result", "reason"})}
	if reg == nil {
		return out
	}
	gauge := func(name, help string, fn func(State) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return fn(m.State(m.now())) })
	}
	reg.MustRegister(out.samples,
		gauge("weir_collector_model_valid_windows", "Completed load windows that are valid.",
			func(s State) float64 { return float64(s.NumValidWindows) }),
		gauge("weir_collector_model_valid_partition_ratio", "Share of partitions with valid load in every valid window (0-1).",
			func(s State) float64 { return s.ValidPartitionRatio }),
		gauge("weir_collector_sampling_paused", "1 while sampling is paused (pause_sampling).",
			func(s State) float64 { return b2f(s.State == StatePaused) }),
	)
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
