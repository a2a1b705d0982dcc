package api

import (
	"fmt"
	"strings"

	"github.com/weirhq/weir/collector/model"
)

// optimizationResult is Cruise Control's OptimizationResult, the answer of
// proposals, rebalance, add_broker, remove_broker, demote_broker and
// fix_offline_replicas.
type optimizationResult struct {
	Summary     optimizerSummary    `json:"summary"`
	GoalSummary []goalStatus        `json:"goalSummary"`
	Proposals   []executionProposal `json:"proposals,omitempty"`
	LoadBefore  *brokerStats        `json:"loadBeforeOptimization,omitempty"`
	LoadAfter   brokerStats         `json:"loadAfterOptimization"`
	Version     int                 `json:"version"`
	// Dryrun says whether the proposal was only computed; Weir's addition.
	Dryrun bool `json:"dryrun"`
}

// optimizerSummary is Cruise Control's OptimizerResult, plus Weir's lower
// bound on the data any plan reaching the disk targets must move and the
// time the planner took.
type optimizerSummary struct {
	NumReplicaMovements            int      `json:"numReplicaMovements"`
	DataToMoveMB                   int64    `json:"dataToMoveMB"`
	NumIntraBrokerReplicaMovements int      `json:"numIntraBrokerReplicaMovements"`
	IntraBrokerDataToMoveMB        int64    `json:"intraBrokerDataToMoveMB"`
	NumLeaderMovements             int      `json:"numLeaderMovements"`
	RecentWindows                  int      `json:"recentWindows"`
	MonitoredPartitionsPercentage  float64  `json:"monitoredPartitionsPercentage"`
	ExcludedTopics                 []string `json:"excludedTopics"`
	ExcludedBrokersForReplicaMove  []int32  `json:"excludedBrokersForReplicaMove"`
	ExcludedBrokersForLeadership   []int32  `json:"excludedBrokersForLeadership"`
	BalancednessBefore             float64  `json:"onDemandBalancednessScoreBefore"`
	BalancednessAfter              float64  `json:"onDemandBalancednessScoreAfter"`
	ProvisionStatus                string   `json:"provisionStatus"`
	ProvisionRecommendation        string   `json:"provisionRecommendation"`
	DataToMoveBytes                float64  `json:"dataToMoveBytes"`
	LowerBoundBytes                float64  `json:"dataToMoveLowerBoundBytes"`
	OptimizationTimeMs             int64    `json:"optimizationTimeMs"`
}

type goalStatus struct {
	Goal               string            `json:"goal"`
	Status             string            `json:"status"`
	Hard               bool              `json:"hard"`
	BalancednessBefore float64           `json:"balancednessBefore"`
	BalancednessAfter  float64           `json:"balancednessAfter"`
	ClusterModelStats  clusterModelStats `json:"clusterModelStats"`
	OptimizationTimeMs int64             `json:"optimizationTimeMs"`
}

// executionProposal is Cruise Control's ExecutionProposal.
type executionProposal struct {
	TopicPartition string  `json:"topicPartition"`
	OldLeader      int32   `json:"oldLeader"`
	OldReplicas    []int32 `json:"oldReplicas"`
	NewReplicas    []int32 `json:"newReplicas"`
	DataToMoveMB   float64 `json:"dataToMoveMB"`
}

// renderOptimization renders a proposal made on c. verbose adds the moves
// and the load before, as Cruise Control's verbose does.
func renderOptimization(c *model.Cluster, p *model.Proposal, verbose, dryrun bool) (*optimizationResult, error) {
	after, err := model.Apply(c, p.Moves)
	if err != nil {
		return nil, fmt.Errorf("rendering the proposal: %w", err)
	}
	res := &optimizationResult{Summary: summarize(c, p), LoadAfter: renderBrokerStats(after), Version: 1, Dryrun: dryrun}
	afterStats := renderModelStats(p.After)
	for _, g := range p.Goals {
		res.GoalSummary = append(res.GoalSummary, goalStatus{Goal: g.Goal, Status: g.Status, Hard: g.Hard,
			BalancednessBefore: round(g.Before), BalancednessAfter: round(g.After),
			ClusterModelStats: afterStats, OptimizationTimeMs: g.Duration.Milliseconds()})
	}
	if verbose {
		before := renderBrokerStats(c)
		res.LoadBefore = &before
		for i := range p.Moves {
			m := &p.Moves[i]
			res.Proposals = append(res.Proposals, executionProposal{TopicPartition: m.Name(), OldLeader: m.OldLeader,
				OldReplicas: m.OldReplicas, NewReplicas: m.NewReplicas, DataToMoveMB: round(m.DataToMove() / mb)})
		}
	}
	return res, nil
}

func summarize(c *model.Cluster, p *model.Proposal) optimizerSummary {
	s := optimizerSummary{
		NumReplicaMovements: p.ReplicaMoves(), NumLeaderMovements: p.LeaderMoves(),
		DataToMoveMB: int64(p.DataToMove / mb), RecentWindows: c.Windows,
		MonitoredPartitionsPercentage: round(c.ValidPartitionRatio * 100),
		ExcludedTopics:                nonNil(p.ExcludedTopics),
		ExcludedBrokersForReplicaMove: []int32{}, ExcludedBrokersForLeadership: []int32{},
		ProvisionStatus: "UNDECIDED", DataToMoveBytes: p.DataToMove, LowerBoundBytes: p.LowerBound,
		OptimizationTimeMs: p.Duration.Milliseconds(),
	}
	s.BalancednessBefore, s.BalancednessAfter = balancedness(p.Goals)
	for _, b := range c.Brokers {
		if !b.State.CanLead() {
			s.ExcludedBrokersForLeadership = append(s.ExcludedBrokersForLeadership, b.ID)
		}
	}
	return s
}

// balancedness is Cruise Control's balancedness score: each goal's
// balancedness (0–100) weighted by priority (×1.1 per step up,
// goal.balancedness.priority.weight) and strictness (×1.5 for hard goals,
// goal.balancedness.strictness.weight).
func balancedness(goals []model.GoalResult) (before, after float64) {
	var total float64
	w := 1.0
	for i := len(goals) - 1; i >= 0; i-- {
		g := goals[i]
		weight := w
		if g.Hard {
			weight *= 1.5
		}
		before += weight * g.Before
		after += weight * g.After
		total += weight
		w *= 1.1
	}
	if total == 0 {
		return 100, 100
	}
	return round(before / total), round(after / total)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Text is Cruise Control's plain-text summary.
func (r *optimizationResult) Text() string {
	var sb strings.Builder
	s := r.Summary
	fmt.Fprintf(&sb, "Optimization has %d inter-broker replica(%d MB) moves, 0 intra-broker replica(0 MB) moves and %d leadership moves with a cluster model of %d recent windows and %.3f%% of the partitions covered.\n",
		s.NumReplicaMovements, s.DataToMoveMB, s.NumLeaderMovements, s.RecentWindows, s.MonitoredPartitionsPercentage)
	fmt.Fprintf(&sb, "Data to move %.1f MB; the least any plan reaching the disk targets moves: %.1f MB. Balancedness score before %.3f, after %.3f.\nExcluded Topics: %v.\n\n",
		s.DataToMoveBytes/mb,
		s.LowerBoundBytes/mb, s.BalancednessBefore, s.BalancednessAfter, s.ExcludedTopics)
	for _, g := range r.GoalSummary {
		fmt.Fprintf(&sb, "%-40s %s\n", g.Goal, g.Status)
	}
	for _, p := range r.Proposals {
		fmt.Fprintf(&sb, "%s: %v -> %v\n", p.TopicPartition, p.OldReplicas, p.NewReplicas)
	}
	sb.WriteString("\n" + r.LoadAfter.Text())
	return sb.String()
}
