// Package pipeline fans snapshots out to the agent's exporters.
//
// Each exporter gets its own bounded queue and its own goroutine. Publish
// never blocks: when an exporter's queue is full, the oldest queued snapshot
// is dropped (and counted), because the newest snapshot is the one worth
// sending. So a sink that hangs or fails costs the agent at most QueueSize
// snapshots of memory and never delays collection or the other sinks.
//
// Lock order: each sink's mu is taken alone; Pipeline itself has no lock
// (its sink list is fixed at New).
package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

// DefaultQueueSize is the number of snapshots an exporter may fall behind by.
const DefaultQueueSize = 4

// Options configure a Pipeline.
type Options struct {
	// QueueSize bounds each exporter's queue (DefaultQueueSize if 0).
	QueueSize int
	// ExportTimeout bounds one Export call (none if 0; the Run context
	// still ends it).
	ExportTimeout time.Duration
	// Logger receives export errors (discarded if nil).
	Logger *slog.Logger
}

// Pipeline owns one queue and one worker per exporter.
type Pipeline struct {
	sinks   []*sink
	timeout time.Duration
	logger  *slog.Logger
}

// New returns a pipeline over exporters. Nothing runs until Run.
func New(exporters []snapshot.Exporter, opts Options) *Pipeline {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{timeout: opts.ExportTimeout, logger: opts.Logger}
	for _, e := range exporters {
		p.sinks = append(p.sinks, newSink(e, opts.QueueSize))
	}
	return p
}

// Publish queues s for every exporter. It never blocks.
func (p *Pipeline) Publish(s *snapshot.Snapshot) {
	for _, k := range p.sinks {
		k.push(s)
	}
}

// Run starts one worker per exporter and returns when ctx ends and every
// worker has returned. Snapshots still queued then are not exported.
func (p *Pipeline) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, k := range p.sinks {
		wg.Add(1)
		go func() { // owned by Run: it waits for wg below
			defer wg.Done()
			p.work(ctx, k)
		}()
	}
	wg.Wait()
}

// Health returns each exporter's counters, in the order of New.
func (p *Pipeline) Health() []snapshot.ExporterHealth {
	out := make([]snapshot.ExporterHealth, len(p.sinks))
	for i, k := range p.sinks {
		out[i] = k.health()
	}
	return out
}

// work exports each queued snapshot in turn until ctx ends.
func (p *Pipeline) work(ctx context.Context, k *sink) {
	for {
		s := k.pop()
		if s == nil {
			select {
			case <-ctx.Done():
				return
			case <-k.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		err := p.export(ctx, k.exp, s)
		k.done(err)
		if err != nil && ctx.Err() == nil {
			p.logger.Warn("export failed", "exporter", k.exp.Name(), "err", err)
		}
	}
}

func (p *Pipeline) export(ctx context.Context, e snapshot.Exporter, s *snapshot.Snapshot) error {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	return e.Export(ctx, s)
}
