package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent"
	"github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/agent/export/prometheus"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/internal/kafkaclient"
)

const agentExampleConfig = `  # agent.yaml (config/agent.yaml has every field, commented)
  cluster_name: local
  broker_id: 1
  brokers: [127.0.0.1:9092]
  client_config: client.properties          # a secure cluster's (weir up --secure writes it)
  broker_admin_url: 127.0.0.1:9644
  broker_config: config/server.properties   # log.dirs are read from it
  interval: 60s
  level: PER_TOPIC_PER_BROKER
  topic_filter: {exclude: "__.*"}
  prometheus: {broker_listen: ":11001", node_listen: ":11002"}
  otlp: {endpoint: "127.0.0.1:4317", insecure: true}     # OTEL_EXPORTER_OTLP_* work too
  cloudwatch: {region: eu-west-1, namespace: Weir/Kafka} # AWS_* work too
  samples: {topic: __weir_metrics}                       # load samples for the collector`

type agentFlags struct {
	configPath string
	logFormat  string
	logLevel   string
}

func newAgentCmd() *cobra.Command {
	var af agentFlags
	cmd := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Run the sidecar agent: cluster, broker, topic, partition and lag metrics",
		Long: `Run Weir's sidecar agent beside a broker. Every interval it reads the broker's
admin /metrics, the host's /proc and the filesystems of the broker's log dirs,
and the cluster over the Kafka protocol (topics, offsets, consumer groups and
their lag), and exports one snapshot to each configured exporter. The Prometheus
exporter serves MSK open monitoring's two endpoints: broker metrics on :11001,
node metrics on :11002. The OTLP exporter pushes to an OpenTelemetry collector,
the CloudWatch exporter puts MSK's metrics, and the samples exporter produces
Avro load samples to __weir_metrics for the collector.

The agent works against any Kafka-protocol cluster: without broker_admin_url it
exports what the Kafka protocol gives. docs/AGENT.md lists every series and
config field. The agent runs until SIGINT or SIGTERM.

Example config:

` + agentExampleConfig,
		Example: `  weir agent --config config/agent.yaml
  weir agent --config agent.yaml --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd.Context(), cmd.ErrOrStderr(), af)
		},
	}
	cmd.Flags().StringVarP(&af.configPath, "config", "c", "", "agent config file, YAML (required)")
	cmd.Flags().StringVar(&af.logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&af.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runAgent(ctx context.Context, stderr io.Writer, af agentFlags) error {
	logger, err := newLogger(stderr, af.logFormat, af.logLevel)
	if err != nil {
		return err
	}
	cfg, err := config.Load(af.configPath)
	if err != nil {
		return err
	}
	sec, err := kafkaclient.Load(cfg.ClientConfig)
	if err != nil {
		return fmt.Errorf("client_config: %w", err)
	}
	cl, err := kgo.NewClient(append(sec, kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID("weir-agent"))...)
	if err != nil {
		return fmt.Errorf("creating the Kafka client: %w", err)
	}
	defer cl.Close()

	var exporters []snapshot.Exporter
	var prom *prometheus.Exporter
	if p := cfg.Prometheus; p != nil {
		prom = prometheus.New(prometheus.Options{BrokerListen: p.BrokerListen, NodeListen: p.NodeListen,
			Level: cfg.Level, Topics: cfg.TopicFilter.Match, Groups: cfg.GroupFilter.Match, Logger: logger})
		if err := prom.Listen(); err != nil {
			return err
		}
		broker, node := prom.Addrs()
		logger.Info("prometheus endpoints listening", "broker", broker.String(), "node", node.String())
		exporters = append(exporters, prom)
	}
	pushers, closeExporters, err := newPushExporters(ctx, cfg, sec, logger)
	if err != nil {
		return err
	}
	defer closeExporters()
	exporters = append(exporters, pushers...)
	a, err := agent.New(cfg, cl, exporters, logger)
	if err != nil {
		return err
	}
	logger.Info("agent started", "cluster", cfg.ClusterName, "broker_id", cfg.BrokerID,
		"interval", cfg.Interval.String(), "level", cfg.Level.String())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var serveErr error
	if prom != nil {
		wg.Add(1)
		go func() { // owned by runAgent: waited for below
			defer wg.Done()
			if serveErr = prom.Serve(ctx); serveErr != nil {
				cancel()
			}
		}()
	}
	a.Run(ctx)
	cancel()
	wg.Wait()
	if serveErr != nil {
		return fmt.Errorf("serving prometheus metrics: %w", serveErr)
	}
	logger.Info("agent stopped")
	return nil
}
