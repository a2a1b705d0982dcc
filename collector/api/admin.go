package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirhq/weir/collector/anomaly"
)

// admin (POST): Cruise Control's admin endpoint, its self-healing part:
// enable_self_healing_for and disable_self_healing_for (comma-separated
// anomaly types, any case) turn self-healing on and off per type while
// the collector runs. The answer is each type's setting before and
// after. Cruise Control's other admin parameters (concurrency changes,
// dropping recently removed brokers) are not supported: a 400 names them.
func (s *Server) adminEndpoint() endpoint {
	return endpoint{name: "admin", method: "POST", params: []string{"enable_self_healing_for", "disable_self_healing_for"},
		handle: func(ctx context.Context, p *params, _ *userTask) (any, error) {
			if s.o.Anomalies == nil {
				return nil, userErr("admin: this collector runs no anomaly detector")
			}
			enable, err := anomalyTypes(p, "enable_self_healing_for")
			if err != nil {
				return nil, err
			}
			disable, err := anomalyTypes(p, "disable_self_healing_for")
			if err != nil {
				return nil, err
			}
			if len(enable)+len(disable) == 0 {
				return nil, userErr("admin: give enable_self_healing_for or disable_self_healing_for (anomaly types: %s)", typeNames())
			}
			before, after := s.o.Anomalies.SetSelfHealing(enable, disable)
			return &adminResult{Before: healingMap(before), After: healingMap(after), Version: 1}, nil
		}}
}

func anomalyTypes(p *params, name string) ([]anomaly.Type, error) {
	var out []anomaly.Type
	for _, v := range p.list(name) {
		t, err := anomaly.ParseType(v)
		if err != nil {
			return nil, userErr("parameter %s: %v", name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func typeNames() string {
	var names []string
	for _, t := range anomaly.Types {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

func healingMap(on [anomaly.NumTypes]bool) map[string]bool {
	m := map[string]bool{}
	for _, t := range anomaly.Types {
		m[t.String()] = on[t]
	}
	return m
}

// adminResult is Cruise Control's AdminResult (its self-healing part).
type adminResult struct {
	Before  map[string]bool `json:"selfHealingEnabledBefore"`
	After   map[string]bool `json:"selfHealingEnabledAfter"`
	Version int             `json:"version"`
}

// Text is Cruise Control's plain-text answer.
func (r *adminResult) Text() string {
	return fmt.Sprintf("{selfHealingEnabledBefore: %v, selfHealingEnabledAfter: %v}\n", r.Before, r.After)
}
