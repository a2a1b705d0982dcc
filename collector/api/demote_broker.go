package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// demote_broker (POST): move leadership off the brokers (brokerid), Cruise
// Control's demotion: each demoted broker goes to the end of every replica
// list it is in (so a preferred-leader election never picks it again), and
// partitions it leads get the first in-sync replica not demoted as leader.
// Replicas stay where they are, so no data moves. With
// skip_urp_demotion=true (the default) partitions with no other in-sync
// replica keep their leader.
func (s *Server) demoteBrokerEndpoint() endpoint {
	return endpoint{name: "demote_broker", method: "POST", async: true,
		params: slices.Concat(planParams, executeParams, []string{"brokerid"}),
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			return s.demote(ctx, p, t)
		}}
}

func (s *Server) demote(ctx context.Context, p *params, t *userTask) (any, error) {
	ids, err := requiredBrokers(p)
	if err != nil {
		return nil, err
	}
	states := map[int32]model.BrokerState{}
	for _, id := range ids {
		states[id] = model.Demoted
	}
	s.step(t, "RetrievingMetadata")
	if err := s.o.Monitor.RefreshMetadata(ctx); err != nil {
		return nil, err
	}
	c, err := s.clusterModel(states)
	if err != nil {
		return nil, err
	}
	isr, err := s.inSync(ctx)
	if err != nil {
		return nil, err
	}
	prop := demotion(c, ids, isr)
	prop.Before, prop.After = model.ComputeStats(c), model.ComputeStats(mustApply(c, prop.Moves))
	if err := s.execute(ctx, t, p, prop.Moves); err != nil {
		return nil, err
	}
	dry, _ := p.boolean("dryrun", true)
	verbose, _ := p.boolean("verbose", false)
	return renderOptimization(c, prop, verbose, dry)
}

func mustApply(c *model.Cluster, moves []model.Move) *model.Cluster {
	out, err := model.Apply(c, moves)
	if err != nil {
		return c
	}
	return out
}

// inSync returns each partition's ISR by "topic-partition".
func (s *Server) inSync(ctx context.Context) (map[string][]int32, error) {
	md, err := s.o.Admin.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's metadata: %w", err)
	}
	out := map[string][]int32{}
	for _, td := range md.Topics {
		for _, pd := range td.Partitions {
			out[fmt.Sprintf("%s-%d", td.Topic, pd.Partition)] = pd.ISR
		}
	}
	return out, nil
}

// demotion is the pure part of demote_broker: the moves, no I/O.
func demotion(c *model.Cluster, demoted []int32, isr map[string][]int32) *model.Proposal {
	prop := &model.Proposal{Goals: []model.GoalResult{{Goal: "PreferredLeaderElectionGoal", Status: "NO-ACTION", Before: 100, After: 100}}}
	for i := range c.Partitions {
		pt := &c.Partitions[i]
		if !slices.ContainsFunc(pt.Replicas, func(r int32) bool { return slices.Contains(demoted, r) }) {
			continue
		}
		next := demotedLast(pt.Replicas, demoted, isr[pt.Name()])
		if slices.Equal(next, pt.Replicas) && !slices.Contains(demoted, pt.Leader) {
			continue
		}
		if slices.Contains(demoted, next[0]) {
			continue // no other in-sync replica: keep the leader (skip_urp_demotion)
		}
		prop.Moves = append(prop.Moves, model.Move{Topic: pt.Topic, Partition: pt.Partition,
			OldReplicas: slices.Clone(pt.Replicas), NewReplicas: next, OldLeader: pt.Leader, Size: pt.Load.Size})
		prop.Goals[0].Status = "FIXED"
	}
	return prop
}

// demotedLast orders replicas: in-sync non-demoted first (in their order),
// then other non-demoted, then the demoted ones.
func demotedLast(replicas, demoted, isr []int32) []int32 {
	rank := func(r int32) int {
		switch {
		case slices.Contains(demoted, r):
			return 2
		case isr != nil && !slices.Contains(isr, r):
			return 1
		}
		return 0
	}
	out := slices.Clone(replicas)
	slices.SortStableFunc(out, func(a, b int32) int { return rank(a) - rank(b) })
	return out
}
