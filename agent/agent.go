// Package agent is Weir's sidecar agent: every interval it collects one
// snapshot (agent/snapshot) from its sources (agent/source/...: the broker's
// admin /metrics, the host's /proc and statfs, the cluster over the Kafka
// protocol) and publishes it to its exporters (agent/export/...) through
// agent/pipeline, where each exporter has its own bounded queue.
//
// The agent owns its goroutines: Run returns only after the collection loop
// and every pipeline worker have returned.
package agent

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/agent/pipeline"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/agent/source/brokeradmin"
	"github.com/weirhq/weir/agent/source/host"
	"github.com/weirhq/weir/agent/source/kafka"
)

// Source names, as weir_agent_source_errors_total{source} shows them.
const (
	SourceHost        = "host"
	SourceBrokerAdmin = "broker_admin"
	SourceKafka       = "kafka"
	SourceGroups      = "kafka_groups"
	SourceLogDirs     = "kafka_log_dirs"
)

// Agent collects and publishes snapshots.
type Agent struct {
	cfg    *config.Config
	logger *slog.Logger
	host   *host.Source
	admin  *brokeradmin.Source // nil without broker_admin_url
	kafka  *kafka.Source
	pipe   *pipeline.Pipeline

	// Touched only by the collection loop.
	sourceErrors map[string]uint64
	lastDuration time.Duration
	lastUp       bool
	publisher    bool                    // the last snapshot's agent published the cluster-wide metrics
	listenerIPs  map[string][]netip.Addr // the broker's advertised host, resolved once
}

// New wires an agent. cl is the Kafka client, owned by the caller.
func New(cfg *config.Config, cl *kgo.Client, exporters []snapshot.Exporter, logger *slog.Logger) (*Agent, error) {
	logDirs, err := cfg.ResolveLogDirs()
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:          cfg,
		logger:       logger,
		host:         host.New(cfg.ProcRoot, logDirs),
		kafka:        kafka.New(cl, kafka.Options{Topics: cfg.TopicFilter.Match, Groups: cfg.GroupFilter.Match}),
		pipe:         pipeline.New(exporters, pipeline.Options{ExportTimeout: cfg.Interval, Logger: logger}),
		sourceErrors: map[string]uint64{},
		publisher:    cfg.BrokerID < 0,
	}
	if cfg.BrokerAdminURL != "" {
		a.admin = brokeradmin.New(cfg.BrokerAdminURL, nil)
	}
	a.host.AppLogDir = cfg.AppLogDir
	return a, nil
}

// Run collects at once and then every interval until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by Run: waited for below
		defer wg.Done()
		a.pipe.Run(ctx)
	}()
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		a.pipe.Publish(a.Collect(ctx))
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// Collect runs every source once, within one interval, and returns the
// snapshot. A failed source leaves its section nil and is counted.
func (a *Agent) Collect(ctx context.Context) *snapshot.Snapshot {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Interval)
	defer cancel()
	s := &snapshot.Snapshot{Time: start, ClusterName: a.cfg.ClusterName, BrokerID: a.cfg.BrokerID, Level: a.cfg.Level}
	s.Agent = a.health()
	var wg sync.WaitGroup
	var mu sync.Mutex // guards s.Errors while the sources run
	fail := func(src string, err error) {
		mu.Lock()
		defer mu.Unlock()
		s.Errors = append(s.Errors, snapshot.SourceError{Source: src, Err: err.Error()})
	}
	wg.Add(2)
	go func() { // owned by Collect: waited for below
		defer wg.Done()
		c, groups, cerr, gerr := a.kafka.Collect(ctx, start)
		s.Cluster, s.Groups = c, groups
		if cerr != nil {
			fail(SourceKafka, cerr)
		}
		if gerr != nil {
			fail(SourceGroups, gerr)
		}
		if ids := a.storageBrokers(c); len(ids) > 0 {
			st, err := a.kafka.Storage(ctx, ids)
			s.Storage = st
			if err != nil {
				fail(SourceLogDirs, err)
			}
		}
	}()
	go func() { // owned by Collect: waited for below
		defer wg.Done()
		if a.admin != nil {
			b, err := a.admin.Collect(ctx, start)
			if err != nil {
				fail(SourceBrokerAdmin, err)
			}
			s.Broker = b
		}
	}()
	h, err := a.host.Collect(start)
	if err != nil {
		fail(SourceHost, err)
	}
	s.Host = h
	wg.Wait()
	a.markListeners(ctx, s)
	a.account(s, time.Since(start))
	return s
}

// storageBrokers are the brokers whose log dirs the agent asks for: its
// own, and every broker in the metadata when it published the cluster-wide
// metrics last time (or runs with broker id −1), for the cluster's
// KafkaDataLogsDiskUsed.
func (a *Agent) storageBrokers(c *snapshot.Cluster) []int32 {
	var ids []int32
	if a.cfg.BrokerID >= 0 {
		ids = append(ids, a.cfg.BrokerID)
	}
	if c == nil || !a.publisher {
		return ids
	}
	for _, b := range c.Brokers {
		if b.ID != a.cfg.BrokerID {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

// markListeners flags the host's network devices that carry the broker's
// advertised address, so the load samples can report their link speed as
// the broker's network capacity.
func (a *Agent) markListeners(ctx context.Context, s *snapshot.Snapshot) {
	if s.Host == nil || s.Cluster == nil || s.BrokerID < 0 {
		return
	}
	i, ok := slices.BinarySearchFunc(s.Cluster.Brokers, s.BrokerID, func(b snapshot.BrokerMeta, id int32) int { return int(b.ID - id) })
	if !ok {
		return
	}
	name := s.Cluster.Brokers[i].Host
	addrs, ok := a.listenerIPs[name]
	if !ok {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
		if err != nil {
			a.logger.Debug("resolving the broker's advertised host", "host", name, "err", err)
			return
		}
		for _, ip := range ips {
			addrs = append(addrs, ip.Unmap())
		}
		a.listenerIPs = map[string][]netip.Addr{name: addrs}
	}
	host.MarkListeners(s.Host, addrs)
}

// account counts the cycle's source errors and logs them.
func (a *Agent) account(s *snapshot.Snapshot, took time.Duration) {
	for _, e := range s.Errors {
		a.sourceErrors[e.Source]++
		a.logger.Warn("collection source failed", "source", e.Source, "err", e.Err)
	}
	a.lastDuration = took
	a.lastUp = s.Host != nil || s.Broker != nil || s.Cluster != nil
	a.publisher = s.PublishesClusterMetrics()
}

// health is the agent's state as of the previous cycle.
func (a *Agent) health() snapshot.AgentHealth {
	errs := map[string]uint64{SourceHost: 0, SourceKafka: 0, SourceGroups: 0, SourceLogDirs: 0}
	if a.admin != nil {
		errs[SourceBrokerAdmin] = 0
	}
	maps.Copy(errs, a.sourceErrors)
	return snapshot.AgentHealth{Up: a.lastUp, CollectDuration: a.lastDuration, SourceErrors: errs, Exporters: a.pipe.Health()}
}
