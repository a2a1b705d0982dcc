package planner

import (
	"slices"
	"testing"

	"github.com/weirhq/weir/collector/model"
)

// TestPlanBalancesSkewedCluster: on a skewed cluster with room to spare,
// the default goals bring every resource within its balance band (±10%
// of the mean) and copy little more than the disk lower bound.
func TestPlanBalancesSkewedCluster(t *testing.T) {
	sp := synth{brokers: 30, racks: 3, topics: 400, partitions: 6000, rf: 3, hot: 9, skew: 0.6, fill: benchFill, seed: 3}
	c := sp.cluster()
	c.Sort()
	p, err := Plan(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range model.Resources {
		u := p.After.Utilization[r]
		if dev := max(u.Max-u.Avg, u.Avg-u.Min) / u.Avg; dev > 0.10 {
			t.Errorf("%s: utilization %.3f..%.3f around %.3f after the plan", r, u.Min, u.Max, u.Avg)
		}
	}
	if ratio := p.DataToMove / p.LowerBound; ratio > 1.2 {
		t.Errorf("moved %.3g bytes, %.2f × the lower bound %.3g", p.DataToMove, ratio, p.LowerBound)
	}
	for _, g := range p.Goals {
		if g.Hard && g.Status == "VIOLATED" {
			t.Errorf("%s violated", g.Goal)
		}
	}
}

// TestPlanDeterministicAtScale plans a larger cluster twice: the same
// moves, in the same order.
func TestPlanDeterministicAtScale(t *testing.T) {
	sp := synth{brokers: 30, racks: 3, topics: 400, partitions: 6000, rf: 3, hot: 9, skew: 0.6, fill: benchFill, seed: 4}
	c := sp.cluster()
	c.Sort()
	a, err1 := Plan(c, Options{})
	b, err2 := Plan(c, Options{})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(a.Moves) == 0 || !slices.EqualFunc(a.Moves, b.Moves, sameMove) {
		t.Fatalf("two plans of one model differ (%d and %d moves)", len(a.Moves), len(b.Moves))
	}
}

func sameMove(x, y model.Move) bool {
	return x.Name() == y.Name() && slices.Equal(x.NewReplicas, y.NewReplicas) && slices.Equal(x.OldReplicas, y.OldReplicas)
}
