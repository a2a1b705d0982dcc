package snapshot

import (
	"context"
	"time"
)

// Exporter is a sink for snapshots: Prometheus, OTLP, CloudWatch, samples.
//
// The agent calls Export from one goroutine per exporter, behind a bounded
// queue (agent/pipeline), so a slow or broken sink delays only itself. Export
// should return when ctx ends; an error is counted and logged, and the next
// snapshot is tried as usual (an exporter that wants retries does them
// inside Export, bounded by ctx).
type Exporter interface {
	// Name identifies the exporter in logs and in the agent's health
	// series (weir_agent_exporter_*{exporter="<name>"}).
	Name() string
	// Export sends one snapshot. s is shared and must not be modified.
	Export(ctx context.Context, s *Snapshot) error
}

// ExporterHealth is one exporter's counters as the pipeline keeps them.
type ExporterHealth struct {
	Name        string
	Exported    uint64    // snapshots Export returned nil for
	Errors      uint64    // snapshots Export returned an error for
	Dropped     uint64    // snapshots dropped because the queue was full
	Queued      int       // snapshots waiting now
	LastError   string    // the most recent error, "" if none yet
	LastSuccess time.Time // when Export last returned nil; zero if never
}

// AgentHealth is the agent's view of itself, as of the end of the previous
// cycle (the current cycle's figures are not known until it is published).
type AgentHealth struct {
	// Up is true when the last collection produced a snapshot with at least
	// one source that answered.
	Up bool
	// CollectDuration is how long the last collection took.
	CollectDuration time.Duration
	// SourceErrors counts failed collections per source since start.
	SourceErrors map[string]uint64
	// Exporters holds each exporter's counters.
	Exporters []ExporterHealth
}
