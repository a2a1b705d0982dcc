package planner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirhq/weir/collector/model"
)

// TestPartitionRange pins the rule for what one rack must and may hold of
// a partition: m = max(0, RF − ceil(RF ÷ R)·(R−1)), M = min(ceil(RF ÷ R), RF).
func TestPartitionRange(t *testing.T) {
	for _, tc := range []struct {
		rf, racks int
		lo, hi    float64 // replica counts
		cpuLo     float64 // leader 10, follower 1
		cpuHi     float64
	}{
		{rf: 3, racks: 3, lo: 1, hi: 1, cpuLo: 1, cpuHi: 10},
		{rf: 2, racks: 3, lo: 0, hi: 1, cpuLo: 0, cpuHi: 10},
		{rf: 3, racks: 2, lo: 1, hi: 2, cpuLo: 1, cpuHi: 11},
		{rf: 4, racks: 3, lo: 0, hi: 2, cpuLo: 0, cpuHi: 11},
		{rf: 1, racks: 4, lo: 0, hi: 1, cpuLo: 0, cpuHi: 10},
		{rf: 3, racks: 1, lo: 3, hi: 3, cpuLo: 12, cpuHi: 12},
		{rf: 6, racks: 3, lo: 2, hi: 2, cpuLo: 2, cpuHi: 11},
	} {
		s := &state{racks: tc.racks}
		lo, hi := s.partitionRange(tc.rf, 1, 1)
		cpuLo, cpuHi := s.partitionRange(tc.rf, 10, 1)
		if lo != tc.lo || hi != tc.hi || cpuLo != tc.cpuLo || cpuHi != tc.cpuHi {
			t.Errorf("RF %d in %d racks: replicas [%g, %g] cpu [%g, %g], want [%g, %g] [%g, %g]",
				tc.rf, tc.racks, lo, hi, cpuLo, cpuHi, tc.lo, tc.hi, tc.cpuLo, tc.cpuHi)
		}
	}
}

// unevenCluster is the cluster of the uneven-racks report: brokers in
// rack-0, rack-1, rack-2 round robin (states[i] for broker i+1), twelve
// partitions of "load" and three of "orders", RF 3 on brokers 1–3.
func unevenCluster(states ...model.BrokerState) *model.Cluster {
	c := &model.Cluster{Windows: 1, ValidPartitionRatio: 1}
	for i, st := range states {
		c.Brokers = append(c.Brokers, model.Broker{ID: int32(i + 1), Rack: fmt.Sprintf("rack-%d", i%3), State: st,
			Capacity: model.Load{2, 125e6, 125e6, 270e9}})
	}
	on := [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 3, 2}, {2, 1, 3}, {3, 2, 1}}
	for p := range 12 {
		r := on[p%6]
		c.Partitions = append(c.Partitions, model.Partition{Topic: "load", Partition: int32(p), Replicas: r, Leader: r[0],
			Load: model.PartitionLoad{Size: float64(p+1) * 24e6 / 78, LeaderCPU: 0.001, FollowerCPU: 0.001}})
	}
	for p := range 3 {
		r := on[p]
		c.Partitions = append(c.Partitions, model.Partition{Topic: "orders", Partition: int32(p), Replicas: r, Leader: r[0],
			Load: model.PartitionLoad{Size: 1e5, BytesIn: 1e5, LeaderCPU: 0.01, FollowerCPU: 0.005}})
	}
	c.Sort()
	return c
}

// TestUnevenRacks: with more brokers than racks and RF = racks, every rack
// keeps one replica of each partition; the brokers sharing a rack split
// its replicas and disk within the goals' bands around the rack's share,
// the goals report FIXED, a broker alone in its rack keeps everything,
// and with add_broker only the New broker receives.
func TestUnevenRacks(t *testing.T) {
	A, N := model.Alive, model.New
	for _, tc := range []struct {
		name   string
		states []model.BrokerState
	}{
		{"add_broker", []model.BrokerState{A, A, A, N}},
		{"rebalance", []model.BrokerState{A, A, A, A}},
		{"five brokers", []model.BrokerState{A, A, A, A, A}},
		{"five brokers, two added", []model.BrokerState{A, A, A, N, N}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := unevenCluster(tc.states...)
			p, err := Plan(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range p.Goals {
				if g.Goal == "ReplicaDistributionGoal" || g.Goal == "DiskUsageDistributionGoal" || g.Hard {
					if g.Status == "VIOLATED" {
						t.Errorf("%s: %s (%.0f -> %.0f)", g.Goal, g.Status, g.Before, g.After)
					}
				}
			}
			after, err := model.Apply(c, p.Moves)
			if err != nil {
				t.Fatal(err)
			}
			checkRackSplit(t, c, after)
			for _, m := range p.Moves {
				for _, id := range m.NewReplicas {
					if !slices.Contains(m.OldReplicas, id) && adding(c) && c.Broker(id).State != model.New {
						t.Errorf("%s: moved onto broker %d, not New", m.Name(), id)
					}
				}
			}
		})
	}
}

// checkRackSplit: each rack keeps one replica of every partition (45
// replicas, the disk of all), split over its brokers within
// ReplicaDistributionGoal's and DiskUsageDistributionGoal's bands (1.10).
func checkRackSplit(t *testing.T, before, after *model.Cluster) {
	t.Helper()
	var disk float64
	for _, p := range before.Partitions {
		disk += p.Load.Size
	}
	perRack := map[string]int{}
	for _, b := range after.Brokers {
		perRack[b.Rack]++
	}
	for i, l := range after.BrokerLoads() {
		b := &after.Brokers[i]
		n := float64(perRack[b.Rack])
		replicas := float64(len(before.Partitions)) / n
		if lo, hi := math.Floor(replicas*0.9), math.Ceil(replicas*1.1); float64(l.Replicas) < lo || float64(l.Replicas) > hi {
			t.Errorf("broker %d (%s): %d replicas, want [%g, %g]", b.ID, b.Rack, l.Replicas, lo, hi)
		}
		if d := l.Load[model.Disk]; math.Abs(d-disk/n) > 0.1*disk/n {
			t.Errorf("broker %d (%s): disk %.4g, want %.4g ± 10%%", b.ID, b.Rack, d, disk/n)
		}
	}
}

// TestBalancedRacksKeepTheMean: with the same brokers per rack, or RF
// below the rack count, the mean fits every rack and the targets are the
// cluster mean's.
func TestBalancedRacksKeepTheMean(t *testing.T) {
	for _, sp := range []synth{
		{brokers: 9, racks: 3, topics: 4, partitions: 40, rf: 3, hot: 3, skew: 0.5, fill: benchFill, seed: 1},
		{brokers: 10, racks: 3, topics: 4, partitions: 40, rf: 2, hot: 3, skew: 0.5, fill: benchFill, seed: 2},
		{brokers: 7, racks: 7, topics: 4, partitions: 40, rf: 3, hot: 3, skew: 0.5, fill: benchFill, seed: 3},
	} {
		c := sp.cluster()
		c.Sort()
		o := Options{Config: DefaultConfig()}
		s := newState(c, &o)
		s.rackAware = true
		for _, m := range []metric{{kind: metricReplicas}, {kind: metricLeaders}, {kind: metricLoad, r: model.Disk}, {kind: metricLoad, r: model.CPU}} {
			var total float64
			for b := range s.nb {
				total += m.value(&s.load[b])
			}
			if got := s.rackTargets(m, hosting, total, func(int) float64 { return 1 }); got != nil {
				t.Errorf("%d brokers in %d racks, RF %d, metric %v: targets %v, want the mean", sp.brokers, sp.racks, sp.rf, m, got)
			}
		}
	}
}

// TestUnevenRackProperties: over random clusters with uneven racks, every
// distribution goal that reports FIXED or NO-ACTION holds on the planned
// model, re-scored against its achievable targets; and those targets
// add up to the cluster's total.
func TestUnevenRackProperties(t *testing.T) {
	checked, pinned := 0, 0
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 17))
		racks := 2 + r.IntN(3)
		brokers := racks + 1 + r.IntN(2*racks)
		if brokers%racks == 0 {
			brokers++
		}
		sp := synth{brokers: brokers, racks: racks, topics: 6, partitions: 90, rf: 1 + r.IntN(racks),
			hot: racks, skew: r.Float64() * 0.7, fill: model.Load{0.3, 0.3, 0.1, 0.3}, seed: seed}
		c := sp.cluster()
		if r.IntN(3) == 0 {
			c.Brokers[len(c.Brokers)-1].State = model.New
		}
		c.Sort()
		o := Options{Config: DefaultConfig()}
		p, err := Plan(c, o)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		after, err := model.Apply(c, p.Moves)
		if err != nil {
			t.Fatal(err)
		}
		checked += checkAchieved(t, seed, after, &o, p.Goals)
		if sp.rf == racks {
			pinnedReplicaTargets(t, seed, after, &o)
			pinned++
		}
	}
	if pinned == 0 {
		t.Error("no random cluster had RF = racks")
	}
	t.Logf("%d goals re-scored", checked)
	if checked < 40*5 {
		t.Fatalf("only %d distribution goals reported FIXED or NO-ACTION over 40 plans", checked)
	}
}

// checkAchieved re-scores the planned model for each soft goal that
// reported FIXED or NO-ACTION, and checks a broker goal's targets sum to
// its figure's total over the brokers it covers.
func checkAchieved(t *testing.T, seed uint64, after *model.Cluster, o *Options, results []model.GoalResult) int {
	t.Helper()
	s := newState(after, o)
	s.rackAware = true
	checked := 0
	for _, res := range results {
		if res.Hard || res.Status == "VIOLATED" {
			continue
		}
		i := slices.IndexFunc(registry, func(d goalDef) bool { return d.Name == res.Goal })
		g := registry[i].build(&o.Config)
		g.init(s)
		if bad, total := g.violations(s); bad > 0 {
			t.Errorf("seed %d: %s reported %s, but %d of %d %s break it", seed, res.Goal, res.Status, bad, total, g.unit())
		}
		checked++
		if bg, ok := g.(*brokerGoal); ok && res.Goal != "PotentialNwOutGoal" {
			checkTargetsSum(t, seed, res.Goal, s, bg)
		}
	}
	return checked
}

func checkTargetsSum(t *testing.T, seed uint64, name string, s *state, g *brokerGoal) {
	t.Helper()
	var total, targets float64
	for b := range s.nb {
		total += g.value(s, int32(b))
		if g.covers(s, b) {
			targets += g.center[b]
		}
	}
	if math.Abs(total-targets) > 1e-6*(1+total) {
		t.Errorf("seed %d: %s: targets sum to %g, the total is %g", seed, name, targets, total)
	}
}

// pinnedReplicaTargets: with RF = racks every rack holds one replica of
// each partition, so a broker's replica target is the partition count
// over its rack's brokers that may host.
func pinnedReplicaTargets(t *testing.T, seed uint64, c *model.Cluster, o *Options) {
	t.Helper()
	perRack := map[string]float64{}
	for _, b := range c.Brokers {
		if b.State.CanHost() {
			perRack[b.Rack]++
		}
	}
	s := newState(c, o)
	s.rackAware = true
	g := newReplicaDistributionGoal(&o.Config).(*brokerGoal)
	g.init(s)
	for i, b := range c.Brokers {
		want := float64(len(c.Partitions)) / perRack[b.Rack]
		if math.Abs(g.center[i]-want) > 1e-9*want {
			t.Errorf("seed %d: broker %d (%s): replica target %g, want %g", seed, b.ID, b.Rack, g.center[i], want)
		}
	}
}

// TestRackShares: the water-filling of the racks' shares. Racks that
// cannot hold the mean's share take their bound; the others share the
// rest by weight.
func TestRackShares(t *testing.T) {
	for _, tc := range []struct {
		name      string
		total     float64
		w, lo, hi []float64
		want      []float64 // nil: the mean fits
	}{
		{"balanced", 30, []float64{1, 1, 1}, []float64{10, 10, 10}, []float64{10, 10, 10}, nil},
		{"4 brokers in 3 racks, RF 3", 45, []float64{2, 1, 1}, []float64{15, 15, 15}, []float64{15, 15, 15}, []float64{15, 15, 15}},
		{"RF 2 below 3 racks, room to spare", 20, []float64{2, 2, 1}, []float64{0, 0, 0}, []float64{10, 10, 10}, nil},
		{"RF 2, 5+1+1 brokers", 20, []float64{5, 1, 1}, []float64{0, 0, 0}, []float64{10, 10, 10}, []float64{10, 5, 5}},
		{"RF 3 in 2 racks, 3+1 brokers", 30, []float64{3, 1}, []float64{10, 10}, []float64{20, 20}, []float64{20, 10}},
		{"by capacity", 40, []float64{1, 3}, []float64{15, 15}, []float64{30, 30}, []float64{15, 25}},
	} {
		s := &state{hostRack: slices.Repeat([]bool{true}, len(tc.w))}
		got := s.rackShares(tc.total, tc.w, tc.lo, tc.hi)
		if (got == nil) != (tc.want == nil) || !slices.EqualFunc(got, tc.want, func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }) {
			t.Errorf("%s: shares %v, want %v", tc.name, got, tc.want)
		}
	}
}
