package anomaly

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the detector's Prometheus series:
// weir_collector_anomalies_total{type}, weir_collector_self_healing_started_total{type},
// weir_collector_anomaly_ongoing{type}.
type metrics struct {
	anomalies *prometheus.CounterVec
	started   *prometheus.CounterVec
	ongoing   *prometheus.GaugeVec
	// the counts already added to the counters; Round's goroutine only
	// (update runs with the detector's counts after each step).
	detected, fixes [NumTypes]int
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_collector_anomalies_total",
			Help: "Anomalies detected, by Cruise Control's anomaly type."}, []string{"type"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_collector_self_healing_started_total",
			Help: "Self-healing executions started, by anomaly type."}, []string{"type"}),
		ongoing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_collector_anomaly_ongoing",
			Help: "1 while an anomaly of the type is open (its condition holds)."}, []string{"type"}),
	}
	for _, t := range Types {
		m.anomalies.WithLabelValues(t.String())
		m.started.WithLabelValues(t.String())
		m.ongoing.WithLabelValues(t.String()).Set(0)
	}
	if reg != nil {
		reg.MustRegister(m.anomalies, m.started, m.ongoing)
	}
	return m
}

// update brings the series to st, logging each new anomaly.
func (m *metrics) update(st *State, logger *slog.Logger) {
	for _, t := range Types {
		name := t.String()
		if n := st.Detected[t] - m.detected[t]; n > 0 {
			m.anomalies.WithLabelValues(name).Add(float64(n))
			if len(st.Recent[t]) > 0 {
				a := st.Recent[t][0]
				logger.Warn("anomaly detected", "id", a.ID, "type", name, "description", a.Description)
			}
		}
		if n := st.Started[t] - m.fixes[t]; n > 0 {
			m.started.WithLabelValues(name).Add(float64(n))
		}
		m.detected[t], m.fixes[t] = st.Detected[t], st.Started[t]
		m.ongoing.WithLabelValues(name).Set(float64(st.Open[t]))
	}
}
