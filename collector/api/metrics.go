package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/collector/model"
)

// metrics are the planner's figures on the collector's /metrics.
type metrics struct {
	proposalSeconds prometheus.Histogram
	balancedness    *prometheus.GaugeVec
	score           prometheus.Gauge
	modelReady      prometheus.Gauge
	replicaMoves    prometheus.Gauge
	dataToMove      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		proposalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "weir_collector_proposal_computation_seconds",
			Help: "Time the planner took to compute a proposal.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		balancedness: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_collector_goal_balancedness",
			Help: "Balancedness (0-100, 100 satisfied) of each goal on the current model, from the last default-goal proposal."}, []string{"goal", "hard"}),
		score: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_collector_balancedness_score",
			Help: "Cruise Control's balancedness score (0-100) of the current model."}),
		modelReady: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_collector_model_ready",
			Help: "1 when the last attempt to build a model and a proposal succeeded."}),
		replicaMoves: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_collector_proposal_replica_moves",
			Help: "Replica moves in the last default-goal proposal."}),
		dataToMove: prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_collector_proposal_data_to_move_bytes",
			Help: "Bytes the last default-goal proposal would copy."}),
	}
	if reg != nil {
		reg.MustRegister(m.proposalSeconds, m.balancedness, m.score, m.modelReady, m.replicaMoves, m.dataToMove)
	}
	return m
}

func (m *metrics) recordProposal(p *model.Proposal) {
	for _, g := range p.Goals {
		hard := "false"
		if g.Hard {
			hard = "true"
		}
		m.balancedness.WithLabelValues(g.Goal, hard).Set(g.Before)
	}
	before, _ := balancedness(p.Goals)
	m.score.Set(before)
	m.replicaMoves.Set(float64(p.ReplicaMoves()))
	m.dataToMove.Set(p.DataToMove)
}
