package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirhq/weir/collector/executor"
)

// stop_proposal_execution (POST): cancel the in-flight reassignments, start
// no new ones, remove the throttles. Idle is not an error, as in Cruise
// Control: the answer says there was nothing to stop.
func (s *Server) stopProposalExecutionEndpoint() endpoint {
	return endpoint{name: "stop_proposal_execution", method: "POST", params: []string{"force_stop", "stop_external_agent"},
		handle: func(ctx context.Context, p *params, _ *userTask) (any, error) {
			err := s.o.Executor.Stop()
			switch {
			case errors.Is(err, executor.ErrNotRunning):
				return message("No ongoing execution to stop."), nil
			case err != nil:
				return nil, fmt.Errorf("stopping the execution: %w", err)
			}
			return message("Proposal execution stopped."), nil
		}}
}

// pause_sampling (POST): samples are read but no longer added to windows.
func (s *Server) pauseSamplingEndpoint() endpoint {
	return s.sampling("pause_sampling", func(reason string) error { return s.o.Monitor.Pause(reason) }, "Metric sampling paused.")
}

// resume_sampling (POST).
func (s *Server) resumeSamplingEndpoint() endpoint {
	return s.sampling("resume_sampling", func(reason string) error { return s.o.Monitor.Resume(reason) }, "Metric sampling resumed.")
}

func (s *Server) sampling(name string, act func(string) error, done string) endpoint {
	return endpoint{name: name, method: "POST",
		handle: func(ctx context.Context, p *params, _ *userTask) (any, error) {
			if err := act(p.str("reason", "No reason provided")); err != nil {
				return nil, userErr("%s: %v", name, err)
			}
			return message(done), nil
		}}
}

// messageResult is Cruise Control's answer of the simple endpoints.
type messageResult struct {
	Message string `json:"message"`
	Version int    `json:"version"`
}

func message(m string) messageResult { return messageResult{Message: m, Version: 1} }

// Text is the message.
func (m messageResult) Text() string { return m.Message + "\n" }
