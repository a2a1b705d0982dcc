package anomaly

import (
	"fmt"
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// minAnomalousCPU is the least CPU (cores) a broker must use to be a
// metric anomaly: below it the ratio is noise.
const minAnomalousCPU = 0.05

// metricAnomalies is the METRIC_ANOMALY detector. The agents' samples
// carry no request latency or flush time (agent/samples), so it judges
// what they carry: a live broker's measured CPU per byte of traffic
// (inbound plus outbound, the model's replica loads) against the median
// of its peers'. A broker above metric.anomaly.cpu.ratio.threshold times
// that median, using at least minAnomalousCPU cores, with at least two
// peers with traffic, is slow for the work it does: a bad disk, a noisy
// neighbour, a throttled host. The fix demotes it (its leadership moves
// to other in-sync replicas; no data moves). Healing is off by default
// (self.healing.metric.anomaly.enabled): on a host shared by several
// brokers the ratio moves with the neighbours.
func metricAnomalies(o *Observation, cfg *Config, fresh bool) (*finding, bool) {
	if o.Model == nil || !fresh {
		return nil, false
	}
	cpu, traffic := brokerWork(o.Model)
	ratios := map[int32]float64{}
	for _, b := range o.Model.Brokers {
		if b.State == model.Alive && traffic[b.ID] > 0 {
			ratios[b.ID] = cpu[b.ID] / traffic[b.ID]
		}
	}
	if len(ratios) < 3 {
		return nil, true
	}
	var slow []int32
	for _, b := range o.Model.Brokers {
		r, ok := ratios[b.ID]
		if ok && cpu[b.ID] >= minAnomalousCPU && r > cfg.CPURatioThreshold*peerMedian(ratios, b.ID) {
			slow = append(slow, b.ID)
		}
	}
	if len(slow) == 0 {
		return nil, true
	}
	f := &finding{typ: MetricAnomaly, key: brokerList(slow), brokers: slow,
		description: fmt.Sprintf("broker(s) %s use over %g times their peers' median CPU per byte of traffic", brokerList(slow), cfg.CPURatioThreshold),
		fix:         &Fix{Type: MetricAnomaly, Goals: cfg.HealingGoals, States: map[int32]model.BrokerState{}}}
	for _, id := range slow {
		f.fix.States[id] = model.Demoted
	}
	return f, true
}

// brokerWork sums each broker's CPU and traffic (bytes/s in and out) over
// its replicas.
func brokerWork(c *model.Cluster) (cpu, traffic map[int32]float64) {
	cpu, traffic = map[int32]float64{}, map[int32]float64{}
	for i := range c.Partitions {
		p := &c.Partitions[i]
		for _, r := range p.Replicas {
			l := p.ReplicaLoad(r == p.Leader)
			cpu[r] += l[model.CPU]
			traffic[r] += l[model.NetworkIn] + l[model.NetworkOut]
		}
	}
	return cpu, traffic
}

// peerMedian is the median of the ratios of every broker but id.
func peerMedian(ratios map[int32]float64, id int32) float64 {
	var rs []float64
	for b, r := range ratios {
		if b != id {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	n := len(rs)
	if n%2 == 1 {
		return rs[n/2]
	}
	return (rs[n/2-1] + rs[n/2]) / 2
}
