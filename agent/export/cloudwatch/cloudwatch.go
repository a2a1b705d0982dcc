// Package cloudwatch puts the agent's snapshots into Amazon CloudWatch (or
// a compatible service) under Amazon MSK's metric names, units and
// dimensions, at MSK's monitoring levels, so MSK's dashboards and alarms
// work on a Weir cluster (docs/AGENT.md lists every metric).
//
// Each snapshot becomes PutMetricData calls of at most BatchSize metrics
// (1,000, the API's limit) and at most MaxRequestBytes of payload (the
// API's 1 MB). The SDK (aws-sdk-go-v2) finds the region, credentials and
// endpoint the standard way (AWS_REGION, AWS_ACCESS_KEY_ID, profiles, IMDS,
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDWATCH); the config file's region
// and endpoint override them. Current SDKs speak the Smithy RPC v2 CBOR
// protocol to CloudWatch (POST /service/GraniteServiceVersion20100801/
// operation/PutMetricData, a CBOR body, gzipped above 10 KiB).
//
// Throttling and 5xx answers are retried with capped exponential backoff
// and jitter (the SDK's standard retryer, without its client-side retry
// quota); each call has its own timeout and the whole export is bounded by
// the pipeline's context, so a dead endpoint costs one queue slot, never a
// blocked collection.
package cloudwatch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/weirhq/weir/agent/snapshot"
)

// Limits of PutMetricData.
const (
	MaxBatch        = 1000      // metrics per request
	MaxRequestBytes = 1_000_000 // payload per request (1 MB)
)

// Defaults.
const (
	DefaultNamespace   = "AWS/Kafka"
	DefaultCallTimeout = 10 * time.Second
	DefaultMaxAttempts = 5
	DefaultMaxBackoff  = 5 * time.Second
)

// Options configure an Exporter.
type Options struct {
	Region    string // "" : the SDK's (AWS_REGION, the profile)
	Endpoint  string // "" : the SDK's (AWS_ENDPOINT_URL_CLOUDWATCH, AWS_ENDPOINT_URL, AWS)
	Namespace string // DefaultNamespace if ""
	BatchSize int    // metrics per request, 1–MaxBatch; MaxBatch if 0

	CallTimeout time.Duration // per PutMetricData attempt chain; DefaultCallTimeout if 0
	MaxAttempts int           // per request, first try included; DefaultMaxAttempts if 0
	MaxBackoff  time.Duration // cap of the delay between attempts; DefaultMaxBackoff if 0

	Level  snapshot.Level
	Topics func(string) bool // nil: all
	Groups func(string) bool // nil: all
}

// putter is the one call the exporter makes; *cloudwatch.Client has it.
type putter interface {
	PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Exporter is the CloudWatch sink.
type Exporter struct {
	opts   Options
	client putter
}

// New loads the SDK's configuration and builds the client. It does not
// call AWS: missing credentials fail the first export, not the agent.
func New(ctx context.Context, opts Options) (*Exporter, error) {
	opts = withDefaults(opts)
	if opts.BatchSize < 1 || opts.BatchSize > MaxBatch {
		return nil, fmt.Errorf("cloudwatch batch size %d: want 1 to %d", opts.BatchSize, MaxBatch)
	}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = opts.MaxBackoff
			o.RateLimiter = ratelimit.None // retries are bounded by the call timeout instead
		})
	}
	loads := []func(*awsconfig.LoadOptions) error{awsconfig.WithRetryer(retryer)}
	if opts.Region != "" {
		loads = append(loads, awsconfig.WithRegion(opts.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	client := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	return &Exporter{opts: opts, client: client}, nil
}

func withDefaults(o Options) Options {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.BatchSize == 0 {
		o.BatchSize = MaxBatch
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Topics == nil {
		o.Topics = func(string) bool { return true }
	}
	if o.Groups == nil {
		o.Groups = func(string) bool { return true }
	}
	return o
}

// Name implements snapshot.Exporter.
func (e *Exporter) Name() string { return "cloudwatch" }

// Export implements snapshot.Exporter: the snapshot's metrics in batches.
// It stops at the first batch that fails after its retries, since the
// following batches would meet the same endpoint.
func (e *Exporter) Export(ctx context.Context, s *snapshot.Snapshot) error {
	data := Metrics(s, e.opts)
	batches := Batches(data, e.opts.BatchSize, MaxRequestBytes)
	for i, b := range batches {
		if err := e.put(ctx, b); err != nil {
			return fmt.Errorf("PutMetricData batch %d of %d (%d metrics): %w", i+1, len(batches), len(b), err)
		}
	}
	return nil
}

func (e *Exporter) put(ctx context.Context, batch []types.MetricDatum) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.CallTimeout)
	defer cancel()
	_, err := e.client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(e.opts.Namespace), MetricData: batch})
	return err
}

// Batches splits data into requests of at most size metrics and at most
// maxBytes of estimated payload each.
func Batches(data []types.MetricDatum, size, maxBytes int) [][]types.MetricDatum {
	var out [][]types.MetricDatum
	start, bytes := 0, requestOverhead
	for i := range data {
		n := datumBytes(&data[i])
		if i > start && (i-start == size || bytes+n > maxBytes) {
			out = append(out, data[start:i])
			start, bytes = i, requestOverhead
		}
		bytes += n
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

// requestOverhead bounds the CBOR of a request's envelope (the namespace
// and the keys around MetricData).
const requestOverhead = 512

// datumBytes bounds a datum's CBOR encoding from above: each string with its
// key and length prefixes, the timestamp and value as 9-byte floats, and
// the map headers.
func datumBytes(d *types.MetricDatum) int {
	n := 96 + len(aws.ToString(d.MetricName)) + len(d.Unit)
	for _, dim := range d.Dimensions {
		n += 24 + len(aws.ToString(dim.Name)) + len(aws.ToString(dim.Value))
	}
	return n
}
