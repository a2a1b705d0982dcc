package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultAutoscalerPort is the autoscaler's HTTP port (its /metrics and
// plan API) under weir up.
const DefaultAutoscalerPort = 9097

const autoscalerName = "autoscaler"

// Autoscaler returns the autoscaler's HTTP address.
func (s Spec) Autoscaler() string {
	return fmt.Sprintf("%s:%d", s.Host, orDefault(s.AutoscalerPort, DefaultAutoscalerPort))
}

// writeAutoscaler returns the autoscaler's process: `weir autoscaler` with
// the policy file, against this cluster's control plane (which also names
// the agents it reads), its state beside the cluster. Like the collector it
// is optional: the cluster is up without it, and one that fails (a bad
// policy file, say) is restarted with backoff while the cluster serves.
func writeAutoscaler(s Spec, l Layout, exe, policy string) (Process, error) {
	abs, err := filepath.Abs(policy)
	if err != nil {
		return Process{}, err
	}
	if _, err := os.Stat(abs); err != nil {
		return Process{}, fmt.Errorf("the autoscaler's policy: %w", err)
	}
	if err := os.MkdirAll(l.AutoscalerDir(), 0o755); err != nil {
		return Process{}, fmt.Errorf("creating the autoscaler's directory: %w", err)
	}
	return Process{
		Name: autoscalerName,
		Path: exe,
		Args: append([]string{"autoscaler", "--policy", abs, "--control-plane", s.Control(), "--listen", s.Autoscaler(),
			"--state", l.AutoscalerState()}, s.autoscalerSecurity(l)...),
		LogPath:  l.AutoscalerLog(),
		PIDPath:  l.AutoscalerPID(),
		Where:    "serving http://" + s.Autoscaler() + "/v1/plan with policy " + abs,
		Optional: true,
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			return httpOK(ctx, "http://"+s.Autoscaler()+"/healthz")
		},
	}, nil
}

// autoscalerSecurity are the autoscaler's flags on a secure cluster: its
// API and the services it calls share the cluster's token.
func (s Spec) autoscalerSecurity(l Layout) []string {
	if !s.Secure {
		return nil
	}
	return []string{"--token-file", l.TokenPath()}
}
