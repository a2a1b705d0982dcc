package api

import (
	"context"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// cachedProposal is the last proposal with the default goals, refreshed
// by the collector's loop (Cruise Control's proposal precomputing), so
// proposals answers at once.
type cachedProposal struct {
	at       time.Time
	cluster  *model.Cluster
	proposal *model.Proposal
}

// proposalCacheTTL is how old a cached proposal may be before proposals
// computes a new one (proposal.expiration.ms).
const proposalCacheTTL = 30 * time.Second

// proposals (GET): a proposal, never executed.
func (s *Server) proposalsEndpoint() endpoint {
	return endpoint{name: "proposals", method: "GET", async: true, params: planParams,
		handle: func(ctx context.Context, p *params, t *userTask) (any, error) {
			req, err := readPlanRequest(p)
			if err != nil {
				return nil, err
			}
			ignore, err := p.boolean("ignore_proposal_cache", false)
			if err != nil {
				return nil, err
			}
			if c := s.cached(); c != nil && !ignore && isDefault(req) {
				return renderOptimization(c.cluster, c.proposal, req.verbose, true)
			}
			prop, c, err := s.plan(ctx, t, req)
			if err != nil {
				return nil, err
			}
			if isDefault(req) {
				s.store(c, prop)
			}
			return renderOptimization(c, prop, req.verbose, true)
		}}
}

func isDefault(r planRequest) bool {
	return len(r.goals) == 0 && r.excluded == nil && len(r.destinations) == 0 && !r.skipHard && len(r.states) == 0
}

func (s *Server) cached() *cachedProposal {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil || s.o.Now().Sub(s.cache.at) > proposalCacheTTL {
		return nil
	}
	return s.cache
}

func (s *Server) store(c *model.Cluster, p *model.Proposal) {
	s.mu.Lock()
	s.cache = &cachedProposal{at: s.o.Now(), cluster: c, proposal: p}
	s.mu.Unlock()
	s.metrics.recordProposal(p)
}

// RefreshProposal computes the default-goal proposal on the current model
// and caches it; the collector calls it periodically. It also updates the
// balancedness metrics.
func (s *Server) RefreshProposal() error {
	prop, c, err := s.plan(context.Background(), nil, planRequest{})
	if err != nil {
		s.metrics.modelReady.Set(0)
		return err
	}
	s.metrics.modelReady.Set(1)
	s.store(c, prop)
	return nil
}

// LatestProposal returns the last default-goal proposal, the model it was
// computed on and when, whatever its age (nils before the first): the
// anomaly detector reads the goals it found violated.
func (s *Server) LatestProposal() (*model.Cluster, *model.Proposal, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		return nil, nil, time.Time{}
	}
	return s.cache.cluster, s.cache.proposal, s.cache.at
}
