package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/agent/export/cloudwatch"
	"github.com/weirhq/weir/agent/export/otlp"
	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/agent/snapshot"
)

// newPushExporters builds the configured exporters that push (OTLP,
// CloudWatch, load samples). closeAll releases what they hold; call it after
// the agent has stopped.
func newPushExporters(ctx context.Context, cfg *config.Config, sec []kgo.Opt, logger *slog.Logger) (_ []snapshot.Exporter, closeAll func(), err error) {
	var out []snapshot.Exporter
	var closers []func()
	closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	if o := cfg.OTLP; o != nil {
		e, err := otlp.New(ctx, otlp.Options{Endpoint: o.Endpoint, Protocol: o.Protocol, Insecure: o.Insecure, Headers: o.Headers,
			Timeout: o.Timeout, Interval: o.Interval, Level: cfg.Level, Topics: cfg.TopicFilter.Match, Groups: cfg.GroupFilter.Match})
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = e.Close(sctx)
		})
		logger.Info("otlp exporter on", "protocol", e.Protocol(), "endpoint", or(o.Endpoint, "from OTEL_EXPORTER_OTLP_*"))
		out = append(out, e)
	}
	if c := cfg.CloudWatch; c != nil {
		e, err := cloudwatch.New(ctx, cloudwatch.Options{Region: c.Region, Endpoint: c.Endpoint, Namespace: c.Namespace,
			BatchSize: c.BatchSize, Level: cfg.Level, Topics: cfg.TopicFilter.Match, Groups: cfg.GroupFilter.Match})
		if err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(c.Namespace, "AWS/") && c.Endpoint == "" && os.Getenv("AWS_ENDPOINT_URL_CLOUDWATCH") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
			logger.Warn("CloudWatch reserves namespaces starting with AWS/ for AWS services and rejects PutMetricData to them; set cloudwatch.namespace (e.g. Weir/Kafka) to publish to AWS", "namespace", c.Namespace)
		}
		logger.Info("cloudwatch exporter on", "namespace", c.Namespace, "region", or(c.Region, "from the AWS configuration"), "endpoint", c.Endpoint)
		out = append(out, e)
	}
	if s := cfg.Samples; s != nil {
		// A client of its own: a stuck samples topic must not hold up the
		// collection's metadata and offset requests. Samples are handed
		// over without waiting (samples.Producer.Export); a delivery
		// timeout of a few intervals (10 s at least) rides out a leader
		// move of the samples topic, and the buffer bound keeps a stuck
		// topic from holding more than a few cycles' records.
		cl, err := kgo.NewClient(append(slices.Clone(sec), kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID("weir-agent-samples"),
			kgo.RecordDeliveryTimeout(max(10*time.Second, 3*cfg.Interval)), kgo.MaxBufferedRecords(100_000))...)
		if err != nil {
			return nil, nil, fmt.Errorf("creating the samples Kafka client: %w", err)
		}
		closers = append(closers, cl.Close)
		logger.Info("samples exporter on", "topic", s.Topic)
		out = append(out, samples.NewProducer(cl, samples.Options{Topic: s.Topic, Interval: cfg.Interval, Retention: s.Retention,
			Topics: cfg.TopicFilter.Match}))
	}
	return out, closeAll, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
