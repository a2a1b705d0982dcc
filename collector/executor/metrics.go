package executor

import "github.com/prometheus/client_golang/prometheus"

// metrics are the executor's Prometheus series (see doc.go for names).
type metrics struct {
	inFlight   prometheus.Gauge
	partitions *prometheus.GaugeVec
	moved      prometheus.Counter
	remaining  prometheus.Gauge
	running    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_collector_execution_moves_in_flight",
			Help: "Partition reassignments the executor has in flight.",
		}),
		partitions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "weir_collector_execution_partitions",
			Help: "Partition movements of the current (or last) execution by state.",
		}, []string{"state"}),
		moved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_collector_execution_bytes_moved_total",
			Help: "Bytes copied by completed partition movements.",
		}),
		remaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_collector_execution_bytes_remaining",
			Help: "Bytes the current execution has still to copy.",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_collector_execution_running",
			Help: "1 while an execution runs, else 0.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.inFlight, m.partitions, m.moved, m.remaining, m.running)
	}
	return m
}

// observe sets the gauges from s; movedDelta is the bytes completed since
// the last observation.
func (m *metrics) observe(s *State, movedDelta int64) {
	m.inFlight.Set(float64(len(s.InFlight)))
	p := s.Partitions
	m.partitions.WithLabelValues("pending").Set(float64(p.Pending))
	m.partitions.WithLabelValues("in_progress").Set(float64(p.InProgress))
	m.partitions.WithLabelValues("completed").Set(float64(p.Completed))
	m.partitions.WithLabelValues("aborted").Set(float64(p.Aborted))
	m.partitions.WithLabelValues("dead").Set(float64(p.Dead))
	if movedDelta > 0 {
		m.moved.Add(float64(movedDelta))
	}
	m.remaining.Set(float64(s.DataRemaining))
	if s.Phase == PhaseIdle {
		m.running.Set(0)
	} else {
		m.running.Set(1)
	}
}
