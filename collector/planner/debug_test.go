package planner

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestDebugScale(t *testing.T) {
	if os.Getenv("PLANDEBUG") == "" {
		t.Skip()
	}
	sp := synth{brokers: 60, racks: 3, topics: 2000, partitions: 33334, rf: 3, hot: 18, skew: 0.6, fill: benchFill, seed: 1}
	c := sp.cluster()
	c.Sort()
	var goals []string
	if g := os.Getenv("GOALS"); g != "" {
		goals = strings.Split(g, ",")
	}
	start := time.Now()
	p, err := Plan(c, Options{Goals: goals, SkipHardGoalCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", time.Since(start))
	for _, g := range p.Goals {
		t.Logf("%s: %s (%.1f -> %.1f) %v", g.Goal, g.Status, g.Before, g.After, g.Duration)
	}
	for r, u := range p.After.Utilization {
		t.Logf("%s: avg %.3f min %.3f max %.3f (before %.3f..%.3f)", shortName[r], u.Avg, u.Min, u.Max, p.Before.Utilization[r].Min, p.Before.Utilization[r].Max)
	}
	t.Logf("moved %.3g lb %.3g ratio %.2f moves %d", p.DataToMove, p.LowerBound, p.DataToMove/p.LowerBound, len(p.Moves))
}
