package autoscaler

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/autoscaler/policy"
)

// metrics are the autoscaler's own series (docs/AUTOSCALER.md lists them):
// what it sees, what it aims at, what it did and why it holds.
type metrics struct {
	reg *prometheus.Registry
	ok  atomic.Bool

	policyLoaded            prometheus.Gauge
	evaluations             prometheus.Counter
	scrapeErrors            prometheus.Counter
	storageUsed             *prometheus.GaugeVec
	storageProvisioned      *prometheus.GaugeVec
	storageUtilization      *prometheus.GaugeVec
	storageTarget, storeMax prometheus.Gauge
	brokers, minB, maxB     prometheus.Gauge
	load, loadTarget        *prometheus.GaugeVec
	blocked                 *prometheus.GaugeVec
	actions                 *prometheus.CounterVec
	operations              *prometheus.CounterVec
	lastAction              *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	g := func(name, help string) prometheus.Gauge {
		x := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		m.reg.MustRegister(x)
		return x
	}
	gv := func(name, help string, labels ...string) *prometheus.GaugeVec {
		x := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(x)
		return x
	}
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		x := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(x)
		return x
	}
	m.policyLoaded = g("weir_autoscaler_policy_loaded", "1 when the policy file on disk is the one in force; 0 when it is bad and the last good policy is kept.")
	m.evaluations = cv("weir_autoscaler_evaluations_total", "Decisions made.").WithLabelValues()
	m.scrapeErrors = cv("weir_autoscaler_scrape_errors_total", "Evaluations in which some agent could not be read.").WithLabelValues()
	m.storageUsed = gv("weir_autoscaler_storage_used_bytes", "Bytes each broker's logs use, as its agent last reported.", "broker")
	m.storageProvisioned = gv("weir_autoscaler_storage_provisioned_bytes", "Each broker's provisioned storage.", "broker")
	m.storageUtilization = gv("weir_autoscaler_storage_utilization_percent", "Used over provisioned storage, per broker.", "broker")
	m.storageTarget = g("weir_autoscaler_storage_target_utilization_percent", "The storage policy's target utilization (0: no storage policy).")
	m.storeMax = g("weir_autoscaler_storage_max_bytes", "The storage policy's max_size per broker.")
	m.brokers = g("weir_autoscaler_brokers", "Brokers in the cluster, as the control plane describes it.")
	m.minB = g("weir_autoscaler_brokers_min", "The broker policy's minimum now (raised by an open schedule).")
	m.maxB = g("weir_autoscaler_brokers_max", "The broker policy's max_brokers.")
	m.load = gv("weir_autoscaler_load", "Average load per broker, by resource (cpu_percent, network_in_per_second, network_out_per_second, partitions_per_broker, leaders_per_broker).", "resource")
	m.loadTarget = gv("weir_autoscaler_load_target", "The broker policy's target per broker, by resource.", "resource")
	m.blocked = gv("weir_autoscaler_blocked", "1 while a change of this kind is held for this reason (NOT_ACTIVE, COOLDOWN, MAXIMUM_REACHED, ...).", "kind", "reason")
	m.actions = cv("weir_autoscaler_actions_total", "Actions handed to the provisioner, by kind (storage, brokers).", "kind")
	m.operations = cv("weir_autoscaler_operations_total", "Operations the autoscaler started, by kind and how they ended (UPDATE_COMPLETE, UPDATE_FAILED, REFUSED).", "kind", "state")
	m.lastAction = gv("weir_autoscaler_last_action_timestamp_seconds", "When the last action of this kind was taken.", "kind")
	// Every counter exists from the start at 0, so increase() sees the
	// first action and the first failure after a start.
	for _, k := range []policy.Kind{policy.GrowStorage, policy.SetBrokerCount} {
		m.actions.WithLabelValues(string(k))
		for _, st := range []string{"UPDATE_COMPLETE", "UPDATE_FAILED", "REFUSED"} {
			m.operations.WithLabelValues(string(k), st)
		}
	}
	return m
}

func (m *metrics) policyOK() bool { return m.ok.Load() }

// policy records whether the file in force is the file on disk, and the
// policy's targets.
func (m *metrics) policy(p *policy.Policy, ok bool) {
	m.ok.Store(ok)
	m.policyLoaded.Set(b2f(ok))
	m.storageTarget.Set(0)
	m.storeMax.Set(0)
	if s := p.Storage; s != nil {
		m.storageTarget.Set(s.TargetUtilization)
		m.storeMax.Set(float64(s.MaxSize))
	}
	m.loadTarget.Reset()
	if b := p.Brokers; b != nil {
		m.maxB.Set(float64(b.Max))
		for name, v := range targets(b.Targets) {
			if v > 0 {
				m.loadTarget.WithLabelValues(name).Set(v)
			}
		}
	}
}

func targets(t policy.Targets) map[string]float64 {
	return map[string]float64{"cpu_percent": t.CPUPercent, "network_in_per_second": t.NetworkIn,
		"network_out_per_second": t.NetworkOut, "partitions_per_broker": t.Partitions, "leaders_per_broker": t.Leaders}
}

// observe records one evaluation's inputs and holds.
func (m *metrics) observe(r Report, p *policy.Policy) {
	m.evaluations.Inc()
	m.brokers.Set(float64(r.Cluster.Brokers))
	if b := p.Brokers; b != nil {
		n, _ := b.MinAt(r.At)
		m.minB.Set(float64(n))
	}
	m.storageUsed.Reset()
	m.storageProvisioned.Reset()
	m.storageUtilization.Reset()
	var sum policy.Sample
	for id, s := range r.Latest {
		b := fmt.Sprint(id)
		prov := r.Cluster.Provisioned[id]
		if prov == 0 {
			prov = s.StorageProvisioned
		}
		m.storageUsed.WithLabelValues(b).Set(float64(s.StorageUsed))
		m.storageProvisioned.WithLabelValues(b).Set(float64(prov))
		if prov > 0 {
			m.storageUtilization.WithLabelValues(b).Set(100 * float64(s.StorageUsed) / float64(prov))
		}
		sum.CPUPercent += s.CPUPercent
		sum.NetworkIn += s.NetworkIn
		sum.NetworkOut += s.NetworkOut
		sum.Partitions += s.Partitions
		sum.Leaders += s.Leaders
	}
	m.load.Reset()
	if n := float64(len(r.Latest)); n > 0 {
		for name, v := range map[string]float64{"cpu_percent": sum.CPUPercent, "network_in_per_second": sum.NetworkIn,
			"network_out_per_second": sum.NetworkOut, "partitions_per_broker": float64(sum.Partitions), "leaders_per_broker": float64(sum.Leaders)} {
			m.load.WithLabelValues(name).Set(v / n)
		}
	}
	m.blocked.Reset()
	for _, h := range r.Decision.Holds {
		m.blocked.WithLabelValues(string(h.Kind), string(h.Blocked)).Set(1)
	}
}

func (m *metrics) acted(a policy.Action, at time.Time) {
	m.actions.WithLabelValues(string(a.Kind)).Inc()
	m.lastAction.WithLabelValues(string(a.Kind)).Set(float64(at.Unix()))
}

func (m *metrics) operation(k policy.Kind, state string) {
	m.operations.WithLabelValues(string(k), state).Inc()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
