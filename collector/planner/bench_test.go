package planner

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// BenchmarkPlan1MReplicas plans a cluster of 200 brokers in 3 racks,
// 20,000 topics and 1,000,000 replicas (RF 3), Zipf sizes and rates,
// 60% of replicas crowded onto 60 brokers. It reports the plan time, the
// peak heap, each resource's largest distance from the mean utilization
// after (as a share of the mean) and from each broker's achievable target
// (rack_share.go: with 67, 67 and 66 brokers in the racks, a rack's third
// of the load cannot sit at the cluster mean), and data moved over the
// lower bound.
func BenchmarkPlan1MReplicas(b *testing.B) {
	sp := synth{brokers: 200, racks: 3, topics: 20000, partitions: 333334, rf: 3, hot: 60, skew: 0.6, fill: benchFill, seed: 1}
	c := sp.cluster()
	c.Sort()
	b.ResetTimer()
	for range b.N {
		var peak peakHeap
		peak.start()
		start := time.Now()
		p, err := Plan(c, Options{})
		elapsed := time.Since(start)
		peak.stop()
		if err != nil {
			b.Fatal(err)
		}
		reportPlan(b, p, elapsed, peak.max)
		reportTargetDeviation(b, c, p)
	}
}

func reportPlan(b *testing.B, p *model.Proposal, elapsed time.Duration, heap uint64) {
	b.ReportMetric(elapsed.Seconds(), "s/plan")
	b.ReportMetric(float64(heap)/(1<<20), "MiB-peak-heap")
	for _, r := range model.Resources {
		u := p.After.Utilization[r]
		b.ReportMetric(100*max(u.Max-u.Avg, u.Avg-u.Min)/u.Avg, "%dev-"+shortName[r])
	}
	b.ReportMetric(p.DataToMove/p.LowerBound, "moved/lowerbound")
	b.ReportMetric(float64(len(p.Moves)), "moves")
	var log strings.Builder
	for i, g := range p.Goals {
		sep := "; "
		if i%3 == 2 {
			sep = "\n"
		}
		fmt.Fprintf(&log, "%s %s %.0f->%.0f %v%s", g.Goal, g.Status, g.Before, g.After, g.Duration.Round(time.Millisecond), sep)
	}
	fmt.Fprintf(&log, "moved %.3g bytes, lower bound %.3g, replica moves %d, leader moves %d",
		p.DataToMove, p.LowerBound, p.ReplicaMoves(), p.LeaderMoves())
	b.Log(log.String())
}

// reportTargetDeviation reports each resource's largest distance of a
// broker's load from its achievable target, as a share of the target.
func reportTargetDeviation(b *testing.B, c *model.Cluster, p *model.Proposal) {
	after, err := model.Apply(c, p.Moves)
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Config: DefaultConfig()}
	s := newState(after, &o)
	s.rackAware = true
	for _, r := range model.Resources {
		g := newUsageDistributionGoal(&o.Config, r).(*brokerGoal)
		g.init(s)
		dev := 0.0
		for i := range s.nb {
			if t := g.center[i]; g.covers(s, i) && t > 0 {
				dev = max(dev, math.Abs(g.value(s, int32(i))-t)/t)
			}
		}
		b.ReportMetric(100*dev, "%dev-target-"+shortName[r])
	}
}

// peakHeap samples HeapAlloc every 10 ms while a plan runs.
type peakHeap struct {
	max  uint64
	done chan struct{}
	wait chan struct{}
}

func (h *peakHeap) start() {
	h.done, h.wait = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(h.wait)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			h.sample()
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
}

func (h *peakHeap) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.max = max(h.max, ms.HeapAlloc)
}

func (h *peakHeap) stop() {
	close(h.done)
	<-h.wait
	h.sample()
}
