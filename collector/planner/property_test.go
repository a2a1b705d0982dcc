package planner

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/weirhq/weir/collector/model"
)

// scenario is a random small cluster with random broker states, excluded
// topics and destination brokers.
type scenario struct {
	c    *model.Cluster
	o    Options
	seed uint64
}

func randomScenario(seed uint64) scenario {
	r := rand.New(rand.NewPCG(seed, 11))
	sp := synth{brokers: 9 + r.IntN(6), racks: 3, topics: 8, partitions: 120, rf: 1 + r.IntN(3),
		hot: 3, skew: r.Float64(), fill: model.Load{0.3, 0.3, 0.1, 0.3}, seed: seed}
	c := sp.cluster()
	o := Options{Config: DefaultConfig()}
	setStates(r, c)
	if r.IntN(3) == 0 {
		o.ExcludedTopics = regexp.MustCompile(fmt.Sprintf("topic-0000[%d]", r.IntN(8)))
	}
	if r.IntN(4) == 0 {
		for _, b := range c.Brokers {
			if r.IntN(2) == 0 {
				o.DestinationBrokers = append(o.DestinationBrokers, b.ID)
			}
		}
	}
	c.Sort()
	return scenario{c: c, o: o, seed: seed}
}

// setStates makes up to one broker of each of Dead, Removing, Demoted and
// sometimes one New.
func setStates(r *rand.Rand, c *model.Cluster) {
	for _, st := range []model.BrokerState{model.Dead, model.Removing, model.Demoted, model.New} {
		if r.IntN(3) == 0 {
			c.Brokers[r.IntN(len(c.Brokers))].State = st
		}
	}
}

// TestPlanProperties checks what every plan promises, over random
// clusters: hard goals hold (or the plan fails saying which cannot), no
// broker holds two replicas of a partition, replication factors are
// unchanged, nothing stays on dead or removing brokers, demoted brokers
// lead nothing they can hand off, excluded topics and destination brokers
// are respected, and the same input gives the same moves.
func TestPlanProperties(t *testing.T) {
	const seeds = 60
	planned := 0
	for seed := range uint64(seeds) {
		sc := randomScenario(seed)
		input := cloneCluster(sc.c)
		p, err := Plan(sc.c, sc.o)
		if !reflect.DeepEqual(input, sc.c) {
			t.Fatalf("seed %d: Plan changed its input", seed)
		}
		var hard *HardGoalError
		var stuck *UnplaceableError
		switch {
		case errors.As(err, &hard) && sc.restricted():
			continue
		case errors.As(err, &stuck) && sc.restricted():
			continue
		case err != nil:
			t.Fatalf("seed %d: %v", seed, err)
		}
		planned++
		sc.check(t, p)
	}
	t.Logf("%d of %d random scenarios planned, the rest refused for restricted placement", planned, seeds)
	if planned < seeds/2 {
		t.Fatalf("only %d of %d random scenarios planned", planned, seeds)
	}
}

// cloneCluster copies c deeply enough to see Plan change it.
func cloneCluster(c *model.Cluster) *model.Cluster {
	out := *c
	out.Brokers = slices.Clone(c.Brokers)
	out.Partitions = slices.Clone(c.Partitions)
	for i := range out.Partitions {
		out.Partitions[i].Replicas = slices.Clone(c.Partitions[i].Replicas)
	}
	return &out
}

// restricted reports whether the scenario limits where replicas may go
// (destinations, New brokers, pinned topics, brokers to empty): such
// scenarios may be unsatisfiable, the others must plan.
func (sc scenario) restricted() bool {
	shrinking := slices.ContainsFunc(sc.c.Brokers, func(b model.Broker) bool { return !b.State.CanHost() })
	return len(sc.o.DestinationBrokers) > 0 || adding(sc.c) || sc.o.ExcludedTopics != nil || shrinking
}

func adding(c *model.Cluster) bool {
	return slices.ContainsFunc(c.Brokers, func(b model.Broker) bool { return b.State == model.New })
}

func (sc scenario) check(t *testing.T, p *model.Proposal) {
	t.Helper()
	after, err := model.Apply(sc.c, p.Moves)
	if err != nil {
		t.Fatalf("seed %d: %v", sc.seed, err)
	}
	if err := after.Validate(); err != nil {
		t.Fatalf("seed %d: the plan breaks the model: %v", sc.seed, err)
	}
	sc.checkHardGoals(t, after)
	for i := range after.Partitions {
		sc.checkPartition(t, &sc.c.Partitions[i], &after.Partitions[i])
	}
	again, err := Plan(sc.c, sc.o)
	if err != nil || !reflect.DeepEqual(again.Moves, p.Moves) {
		t.Fatalf("seed %d: a second plan differs (%v)", sc.seed, err)
	}
}

// checkHardGoals re-scores the planned model: every hard goal holds.
func (sc scenario) checkHardGoals(t *testing.T, after *model.Cluster) {
	t.Helper()
	s := newState(after, &sc.o)
	for _, d := range registry {
		if !d.Hard {
			continue
		}
		g := d.build(&sc.o.Config)
		g.init(s)
		if bad, total := g.violations(s); bad > 0 {
			t.Errorf("seed %d: %s: %d of %d %s break it after the plan", sc.seed, d.Name, bad, total, g.unit())
		}
	}
}

func (sc scenario) checkPartition(t *testing.T, before, after *model.Partition) {
	t.Helper()
	name := fmt.Sprintf("seed %d: %s", sc.seed, before.Name())
	if len(after.Replicas) != len(before.Replicas) {
		t.Errorf("%s: replication factor %d -> %d", name, len(before.Replicas), len(after.Replicas))
	}
	for _, id := range after.Replicas {
		b := sc.c.Broker(id)
		if !b.State.CanHost() {
			t.Errorf("%s: replica left on %s broker %d", name, b.State, id)
		}
		if !slices.Contains(before.Replicas, id) && !sc.mayReceive(b) {
			t.Errorf("%s: replica moved onto broker %d outside the destinations", name, id)
		}
	}
	if l := sc.c.Broker(after.Leader); l != nil && !l.State.CanLead() && sc.couldLead(after) {
		t.Errorf("%s: led by %s broker %d", name, l.State, after.Leader)
	}
	sc.checkExcluded(t, name, before, after)
}

func (sc scenario) mayReceive(b *model.Broker) bool {
	if adding(sc.c) && b.State != model.New {
		return false
	}
	return len(sc.o.DestinationBrokers) == 0 || slices.Contains(sc.o.DestinationBrokers, b.ID)
}

func (sc scenario) couldLead(p *model.Partition) bool {
	return slices.ContainsFunc(p.Replicas, func(id int32) bool { return sc.c.Broker(id).State.CanLead() })
}

// checkExcluded: an excluded topic's replicas stay unless their broker
// may not host, and its leader stays unless it may not lead.
func (sc scenario) checkExcluded(t *testing.T, name string, before, after *model.Partition) {
	t.Helper()
	if sc.o.ExcludedTopics == nil || !sc.o.ExcludedTopics.MatchString(before.Topic) {
		return
	}
	for _, id := range before.Replicas {
		if sc.c.Broker(id).State.CanHost() && !slices.Contains(after.Replicas, id) {
			t.Errorf("%s: excluded topic's replica moved off broker %d", name, id)
		}
	}
	if l := sc.c.Broker(before.Leader); l != nil && l.State.CanLead() && after.Leader != before.Leader {
		t.Errorf("%s: excluded topic's leader moved %d -> %d", name, before.Leader, after.Leader)
	}
}
