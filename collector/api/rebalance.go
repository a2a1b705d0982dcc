package api

import (
	"context"
	"slices"

	"github.com/weirhq/weir/collector/model"
)

// rebalance (POST): a proposal over the whole cluster with the goals,
// executed unless dryrun (the default).
func (s *Server) rebalanceEndpoint() endpoint {
	return endpoint{name: "rebalance", method: "POST", async: true, params: slices.Concat(planParams, executeParams),
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			return s.planAndExecute(ctx, p, t, nil)
		}}
}

// add_broker (POST): move replicas onto the new brokers only (brokerid),
// Cruise Control's add-broker semantics.
func (s *Server) addBrokerEndpoint() endpoint {
	return s.brokerChange("add_broker", model.New, "throttle_added_broker")
}

// remove_broker (POST): move every replica off the brokers (brokerid),
// optionally only onto destination_broker_ids.
func (s *Server) removeBrokerEndpoint() endpoint {
	return s.brokerChange("remove_broker", model.Removing, "throttle_removed_broker")
}

func (s *Server) brokerChange(name string, state model.BrokerState, extra ...string) endpoint {
	return endpoint{name: name, method: "POST", async: true,
		params: slices.Concat(planParams, executeParams, []string{"brokerid"}, extra),
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			ids, err := requiredBrokers(p)
			if err != nil {
				return nil, err
			}
			states := map[int32]model.BrokerState{}
			for _, id := range ids {
				states[id] = state
			}
			return s.planAndExecute(ctx, p, t, states)
		}}
}

// fix_offline_replicas (POST): move the replicas of dead brokers (those in
// the metadata's assignments but not alive) onto live ones.
func (s *Server) fixOfflineReplicasEndpoint() endpoint {
	return endpoint{name: "fix_offline_replicas", method: "POST", async: true, params: slices.Concat(planParams, executeParams),
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			return s.planAndExecute(ctx, p, t, nil)
		}}
}

func requiredBrokers(p *params) ([]int32, error) {
	ids, err := p.brokerIDs("brokerid")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, userErr("parameter brokerid is required: a comma-separated list of broker ids")
	}
	return ids, nil
}

func (s *Server) planAndExecute(ctx context.Context, p *params, t *userTask, states map[int32]model.BrokerState) (any, error) {
	req, err := readPlanRequest(p)
	if err != nil {
		return nil, err
	}
	for id, st := range states {
		req.states[id] = st
	}
	dry, err := p.boolean("dryrun", true)
	if err != nil {
		return nil, err
	}
	prop, c, err := s.plan(ctx, t, req)
	if err != nil {
		return nil, err
	}
	if err := s.execute(ctx, t, p, prop.Moves); err != nil {
		return nil, err
	}
	return renderOptimization(c, prop, req.verbose, dry)
}
