// Package otlp pushes the agent's snapshots to an OpenTelemetry collector
// over OTLP, gRPC or HTTP (protobuf), with OpenTelemetry-style names: the
// OTel Collector kafkametricsreceiver's where it has one (kafka.brokers,
// kafka.partition.current_offset, kafka.consumer_group.lag, …), the OTel
// semantic conventions for the host (system.cpu.utilization,
// system.memory.usage, …), and kafka.broker.* / weir.* for the rest
// (docs/AGENT.md lists them per level).
//
// A snapshot is already one collection, so the exporter turns it straight
// into the SDK's metricdata and hands that to the SDK's OTLP exporter
// (go.opentelemetry.io/otel/exporters/otlp/otlpmetric/...): no instruments,
// callbacks or aggregation maps sit between, no cardinality limit folds
// partitions into an overflow series, and every point carries the
// snapshot's time. The SDK exporter reads the standard OTEL_EXPORTER_OTLP_*
// variables (endpoint, protocol, headers, insecure, timeout, compression,
// certificates); the config file's otlp section overrides them.
//
// Export is synchronous and bounded by its context (the pipeline gives it
// one interval): the SDK exporter's own retries of retryable failures stop
// when the context ends, and the failure is counted by the pipeline.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/weirhq/weir/agent/snapshot"
)

// ServiceName is the service.name resource attribute of every export.
const ServiceName = "weir-agent"

// Protocols.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http" // http/protobuf
)

// Options configure an Exporter. Zero fields leave the SDK's value, which
// is the OTEL_EXPORTER_OTLP_* environment's or else OTLP's default.
type Options struct {
	// Endpoint is host:port or a URL (http://host:4318/v1/metrics); empty:
	// OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT or localhost:4317 / 4318.
	Endpoint string
	// Protocol is "grpc" or "http"; empty: OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL,
	// else grpc.
	Protocol string
	Insecure bool              // plaintext; false leaves the environment's choice
	Headers  map[string]string // added to every request
	Timeout  time.Duration     // per export attempt; 0: the SDK's (10 s)
	// Interval exports only snapshots at least this far apart (0: all).
	Interval time.Duration

	Level  snapshot.Level
	Topics func(string) bool // nil: all
	Groups func(string) bool // nil: all
}

// sdkExporter is the part of the SDK's OTLP exporters the agent uses.
type sdkExporter interface {
	Export(context.Context, *metricdata.ResourceMetrics) error
	Shutdown(context.Context) error
}

// Exporter is the OTLP sink.
type Exporter struct {
	opts     Options
	protocol string
	exp      sdkExporter
	start    time.Time // start time of cumulative sums

	mu struct { // touched only by the pipeline's worker, guarded for Close
		sync.Mutex
		last time.Time // time of the last exported snapshot
	}
}

// New builds the SDK exporter; it does not connect (gRPC connects lazily,
// HTTP per request), so an unreachable collector fails exports, not New.
func New(ctx context.Context, opts Options) (*Exporter, error) {
	if opts.Topics == nil {
		opts.Topics = func(string) bool { return true }
	}
	if opts.Groups == nil {
		opts.Groups = func(string) bool { return true }
	}
	protocol, err := resolveProtocol(opts.Protocol)
	if err != nil {
		return nil, err
	}
	e := &Exporter{opts: opts, protocol: protocol, start: time.Now()}
	if protocol == ProtocolGRPC {
		e.exp, err = otlpmetricgrpc.New(ctx, grpcOptions(opts)...)
	} else {
		e.exp, err = otlpmetrichttp.New(ctx, httpOptions(opts)...)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the OTLP %s exporter: %w", protocol, err)
	}
	return e, nil
}

// resolveProtocol picks the configured protocol, else the environment's.
func resolveProtocol(p string) (string, error) {
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
	}
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", ProtocolGRPC:
		return ProtocolGRPC, nil
	case ProtocolHTTP, "http/protobuf":
		return ProtocolHTTP, nil
	}
	return "", fmt.Errorf("OTLP protocol %q: want grpc or http/protobuf", p)
}

func grpcOptions(o Options) []otlpmetricgrpc.Option {
	var out []otlpmetricgrpc.Option
	switch {
	case strings.Contains(o.Endpoint, "://"):
		out = append(out, otlpmetricgrpc.WithEndpointURL(o.Endpoint))
	case o.Endpoint != "":
		out = append(out, otlpmetricgrpc.WithEndpoint(o.Endpoint))
	}
	if o.Insecure {
		out = append(out, otlpmetricgrpc.WithInsecure())
	}
	if len(o.Headers) > 0 {
		out = append(out, otlpmetricgrpc.WithHeaders(o.Headers))
	}
	if o.Timeout > 0 {
		out = append(out, otlpmetricgrpc.WithTimeout(o.Timeout))
	}
	return out
}

func httpOptions(o Options) []otlpmetrichttp.Option {
	var out []otlpmetrichttp.Option
	switch {
	case strings.Contains(o.Endpoint, "://"):
		out = append(out, otlpmetrichttp.WithEndpointURL(withMetricsPath(o.Endpoint)))
	case o.Endpoint != "":
		out = append(out, otlpmetrichttp.WithEndpoint(o.Endpoint))
	}
	if o.Insecure {
		out = append(out, otlpmetrichttp.WithInsecure())
	}
	if len(o.Headers) > 0 {
		out = append(out, otlpmetrichttp.WithHeaders(o.Headers))
	}
	if o.Timeout > 0 {
		out = append(out, otlpmetrichttp.WithTimeout(o.Timeout))
	}
	return out
}

// withMetricsPath adds OTLP/HTTP's /v1/metrics to a URL without a path, as
// OTEL_EXPORTER_OTLP_ENDPOINT is read.
func withMetricsPath(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Path != "" && p.Path != "/") {
		return u
	}
	p.Path = "/v1/metrics"
	return p.String()
}

// Name implements snapshot.Exporter.
func (e *Exporter) Name() string { return "otlp" }

// Protocol is the protocol in use, "grpc" or "http".
func (e *Exporter) Protocol() string { return e.protocol }

// Export implements snapshot.Exporter: one OTLP request per snapshot (at
// most one per Options.Interval).
func (e *Exporter) Export(ctx context.Context, s *snapshot.Snapshot) error {
	if !e.due(s.Time) {
		return nil
	}
	rm := e.Metrics(s)
	if err := e.exp.Export(ctx, rm); err != nil {
		return fmt.Errorf("exporting %d OTLP metrics: %w", len(rm.ScopeMetrics[0].Metrics), err)
	}
	e.mu.Lock()
	e.mu.last = s.Time
	e.mu.Unlock()
	return nil
}

// due reports whether a snapshot taken at t is Interval past the last one.
func (e *Exporter) due(t time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts.Interval <= 0 || e.mu.last.IsZero() || t.Sub(e.mu.last) >= e.opts.Interval
}

// Close shuts the SDK exporter down (closing its gRPC connection).
func (e *Exporter) Close(ctx context.Context) error {
	err := e.exp.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Resource is the resource every export describes: the agent, its cluster
// and its broker.
func Resource(s *snapshot.Snapshot) *resource.Resource {
	attrs := []attribute.KeyValue{
		attribute.String("service.name", ServiceName),
		attribute.String("kafka.cluster.name", s.ClusterName),
	}
	if s.BrokerID >= 0 {
		attrs = append(attrs, attribute.Int("kafka.broker.id", int(s.BrokerID)))
	}
	if s.Cluster != nil && s.Cluster.ClusterID != "" {
		attrs = append(attrs, attribute.String("kafka.cluster.id", s.Cluster.ClusterID))
	}
	return resource.NewSchemaless(attrs...)
}
