package api

import (
	"context"
	"slices"
)

// load (GET): each broker's and host's load in the current model.
func (s *Server) loadEndpoint() endpoint {
	return endpoint{name: "load", method: "GET", async: true,
		params: []string{"time", "start", "end", "allow_capacity_estimation", "populate_disk_info", "capacity_only", "brokerid", "verbose"},
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			ids, err := p.brokerIDs("brokerid")
			if err != nil {
				return nil, err
			}
			s.step(t, "GeneratingClusterModel")
			c, err := s.clusterModel(nil)
			if err != nil {
				return nil, err
			}
			st := renderBrokerStats(c)
			if len(ids) > 0 {
				st.Brokers = slices.DeleteFunc(st.Brokers, func(b singleStats) bool { return !slices.Contains(ids, b.Broker) })
			}
			return st, nil
		}}
}
