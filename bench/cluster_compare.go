package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ClusterOptions configure Compare's cluster sections.
type ClusterOptions struct {
	Brokers     int   // nodes per cluster (0: 3)
	Records     int64 // 1 KiB records of the cluster throughput run
	Records100B int64 // 100 B records of the second cluster run (0: none)
	// Rounds is how many times the cluster section runs the throughput
	// workloads on each system, fresh clusters each time, taking turns
	// (0: 1). The ratios judged are the medians of the rounds' ratios:
	// on a shared 2-core machine one run of each system can be off by 2x
	// (kfake's 1 KiB rate ranged 258-723 MB/s over four runs of a day).
	Rounds             int
	FailoverRuns       int // leader kills in the failover section (0: 3)
	Partitions         int // partitions the partitions section creates in all
	PartitionsPerTopic int // partitions per topic there (0: 100)
	TopicsPerRequest   int // topics per CreateTopics request there (0: 10)
	// LatencyDuration is how long each latency run produces (0:
	// LatencyDuration).
	LatencyDuration time.Duration
	CPUBytes        int64 // bytes of 1 KiB records the cpu section produces (0: 500 MB)
}

// LatencyFractions are the shares of its own produce rate at which the
// cluster section runs a latency run on each system, lowest first. The
// targets judge HalfRate.
var LatencyFractions = []float64{0.10, 0.25, HalfRate}

// HalfRate is the latency run the targets judge.
const HalfRate = 0.5

func (c ClusterOptions) latencyDuration() time.Duration {
	if c.LatencyDuration > 0 {
		return c.LatencyDuration
	}
	return LatencyDuration
}

func (c ClusterOptions) brokers() int { return cmpOr(c.Brokers, 3) }

func (c ClusterOptions) rounds() int { return cmpOr(c.Rounds, 1) }

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Targets the cluster sections are judged against.
const (
	TargetClusterProduceRatio = 0.6       // Weir cluster produce records/s over kfake's, at least
	TargetClusterConsumeRatio = 1.0       // consume records/s ratio, at least
	TargetFailoverMedianSecs  = 3.0       // median kill-to-first-ack, under
	TargetPartitionsRSSBytes  = 300 << 20 // each broker's VmRSS with many partitions, under
)

// ClusterReport is the cluster throughput section: the 1 KiB workload on a
// candidate cluster and a baseline cluster.
type ClusterReport struct {
	Brokers           int   `json:"brokers"`
	ReplicationFactor int16 `json:"replication_factor"`
	MinInsyncReplicas int   `json:"min_insync_replicas"`
	Partitions        int32 `json:"partitions"`
	Runs              []Run `json:"runs"`
	// Latency is each system's latency run at half its own produce rate
	// (the one the targets judge); LatencyCurve is every latency run, each
	// system's at LatencyFractions of its rate, the half-rate ones too.
	Latency          []LatencyResult `json:"latency"`
	LatencyCurve     []LatencyResult `json:"latency_curve"`
	LatencyDuration  time.Duration   `json:"latency_duration_ns"` // each latency run's
	Rounds           int             `json:"rounds"`              // of the throughput workloads; Runs holds every round's
	ProduceRatio     float64         `json:"produce_ratio"`       // candidate/baseline records/s, 1 KiB; the median over the rounds
	ProduceRatio100B float64         `json:"produce_ratio_100b,omitempty"`
	ConsumeRatio     float64         `json:"consume_ratio"`
	// Each round's ratios, in round order.
	ProduceRatios     []float64   `json:"produce_ratios,omitempty"`
	ProduceRatios100B []float64   `json:"produce_ratios_100b,omitempty"`
	ConsumeRatios     []float64   `json:"consume_ratios,omitempty"`
	Logs              []LogDigest `json:"logs"`
	Err               string      `json:"error,omitempty"`
}

// clusterSection runs the 1 KiB workload with replication factor
// min(3, brokers) on a candidate cluster, then on a baseline cluster, the
// latency curve on each in the first round, and the throughput workloads
// again in each further round, the baseline first in even rounds.
func (o CompareOptions) clusterSection(ctx context.Context, rep *CompareReport) error {
	n := o.Cluster.brokers()
	cr := &ClusterReport{Brokers: n, ReplicationFactor: int16(min(3, n)), MinInsyncReplicas: min(2, n), Partitions: o.Client.Partitions,
		LatencyDuration: o.Cluster.latencyDuration(), Rounds: o.Cluster.rounds()}
	rep.Cluster = cr
	candLabel, baseLabel := labels(o.Candidate, o.Baseline)
	for round := 1; round <= cr.Rounds; round++ {
		systems := []struct{ name, label string }{{o.Candidate, candLabel}, {o.Baseline, baseLabel}}
		if round%2 == 0 {
			systems[0], systems[1] = systems[1], systems[0]
		}
		if cr.Rounds > 1 {
			fmt.Fprintf(o.Progress, "cluster section: round %d of %d\n", round, cr.Rounds)
		}
		for _, sys := range systems {
			runs, curve, logs, err := o.clusterRun(ctx, sys.name, sys.label, cr.ReplicationFactor, round == 1)
			cr.Logs = append(cr.Logs, logs...)
			cr.LatencyCurve = append(cr.LatencyCurve, curve...)
			if err != nil {
				cr.Err = err.Error()
				return fmt.Errorf("cluster section, round %d: %w", round, err)
			}
			for i := range runs {
				runs[i].Round = round
			}
			cr.Runs = append(cr.Runs, runs...)
			for _, l := range curve {
				if l.Fraction == HalfRate {
					cr.Latency = append(cr.Latency, l)
				}
			}
		}
		cr.addRoundRatios(round, candLabel+"-cluster", baseLabel+"-cluster")
	}
	cr.ProduceRatio = medianRatio(cr.ProduceRatios)
	cr.ConsumeRatio = medianRatio(cr.ConsumeRatios)
	cr.ProduceRatio100B = medianRatio(cr.ProduceRatios100B)
	return nil
}

// addRoundRatios appends round's candidate/baseline ratios.
func (c *ClusterReport) addRoundRatios(round int, cand, base string) {
	runs := c.roundRuns(round)
	cr, _ := findRun(runs, "1KiB", cand)
	br, _ := findRun(runs, "1KiB", base)
	c.ProduceRatios = append(c.ProduceRatios, safeRatio(cr.Produce.RecordsPerSec, br.Produce.RecordsPerSec))
	c.ConsumeRatios = append(c.ConsumeRatios, safeRatio(cr.Consume.RecordsPerSec, br.Consume.RecordsPerSec))
	cr, okC := findRun(runs, "100B", cand)
	br, okB := findRun(runs, "100B", base)
	if okC && okB {
		c.ProduceRatios100B = append(c.ProduceRatios100B, safeRatio(cr.Produce.RecordsPerSec, br.Produce.RecordsPerSec))
	}
}

// roundRuns is the runs of one round (every run when none has a round).
func (c *ClusterReport) roundRuns(round int) []Run {
	var out []Run
	for _, r := range c.Runs {
		if r.Round == round || r.Round == 0 {
			out = append(out, r)
		}
	}
	return out
}

// medianRatio is the median of rs (the lower middle one of an even
// count), 0 for none.
func medianRatio(rs []float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	s := slices.Clone(rs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// clusterRun starts one cluster, warms it up, runs the 1 KiB workload,
// with latency the latency runs at LatencyFractions of the rate it
// reached, and the 100 B workload.
func (o CompareOptions) clusterRun(ctx context.Context, name, label string, rf int16, latency bool) ([]Run, []LatencyResult, []LogDigest, error) {
	label += "-cluster"
	c, err := o.startCluster(ctx, name, label, o.Cluster.brokers())
	if err != nil {
		return nil, nil, nil, err
	}
	client := o.Client
	client.ReplicationFactor = rf
	w := Workload{Name: "1KiB", RecordSize: 1024, Records: max(o.Cluster.Records, 1)}
	run, err := o.clusterWorkload(ctx, c, client, w, label)
	var curve []LatencyResult
	if err == nil && latency {
		curve, err = o.latencyCurve(ctx, c, client, run.Produce.RecordsPerSec, label)
	}
	run.System = label
	runs := []Run{run}
	if err == nil && o.Cluster.Records100B > 0 {
		w := Workload{Name: "100B", RecordSize: 100, Records: o.Cluster.Records100B}
		var small Run
		small, err = o.runWorkload(ctx, c.Bootstrap(), client, w, label)
		small.System = label
		runs = append(runs, small)
	}
	logs := DigestLogs(c.LogPaths()) // before the shutdown's own noise
	c.Stop()
	return runs, curve, logs, err
}

// latencyCurve runs one latency run at each of LatencyFractions of
// maxRate, each on a topic of its own (a consumer reading from the start
// must not meet an earlier run's stamped records), and stops at the first
// that fails. Each run's topic is deleted after it, as the throughput
// workloads' are: on Weir a run leaves up to 3 x its bytes dirty in the
// page cache, and without the delete the 50 % run pays for the kernel
// writing back the earlier runs' data (on this 2-core machine, produce p99
// 247 ms at 50 % after the 10 % and 25 % runs, 18-29 ms on its own).
func (o CompareOptions) latencyCurve(ctx context.Context, c *Cluster, client Options, maxRate float64, label string) ([]LatencyResult, error) {
	d := o.Cluster.latencyDuration()
	var curve []LatencyResult
	for _, f := range LatencyFractions {
		lo := client
		lo.Brokers, lo.RecordSize = c.Bootstrap(), 1024
		lo.Topic = fmt.Sprintf("weir-bench-latency-%02.0f", f*100)
		rate := maxRate * f
		fmt.Fprintf(o.Progress, "%s: latency at %.0f%% of the rate, %.0f records/s for %s\n", label, f*100, rate, d)
		lat, err := boundedRun(ctx, o.Timeout, func(ctx context.Context) (LatencyResult, error) {
			return latencyRun(ctx, lo, rate, d, c.serversCPU)
		})
		lat.System, lat.Fraction = label, f
		curve = append(curve, lat)
		if err != nil {
			return curve, fmt.Errorf("latency run at %.0f%% on %s: %w", f*100, label, err)
		}
		fmt.Fprintf(o.Progress, "%s: latency %s\n", label, lat)
		if err := DeleteTopic(ctx, lo.Brokers, lo.Topic); err != nil {
			fmt.Fprintf(o.Progress, "%s: %v (continuing)\n", label, err)
		}
	}
	return curve, nil
}

func (o CompareOptions) clusterWorkload(ctx context.Context, c *Cluster, client Options, w Workload, label string) (Run, error) {
	warm := o
	warm.Workloads = []Workload{w}
	if err := warm.warmUp(ctx, c.Bootstrap(), client, label); err != nil {
		return Run{}, err
	}
	return o.runWorkload(ctx, c.Bootstrap(), client, w, label)
}

// safeRatio is a/b, 0 when b is 0.
func safeRatio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
