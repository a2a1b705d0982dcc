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
)

const agentExampleConfig = `  # agent.yaml (config/agent.yaml has every field, commented)
  cluster_name: local
  broker_id: 1
  brokers: [127.0.0.1:9092]
  broker_admin_url: 127.0.0.1:9644
  broker_config: config/server.properties   # log.dirs are read from it
  interval: 60s
  level: PER_TOPIC_PER_BROKER
  topic_filter: {exclude: "__.*"}
  prometheus: {broker_listen: ":11001", node_listen: ":11002"}`

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
node metrics on :11002.

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
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID("weir-agent"))
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
	for _, name := range notYetExporters(cfg) {
		logger.Warn("exporter configured but not built into this agent yet; its section is ignored", "exporter", name)
	}
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

// notYetExporters names configured exporters that this build does not run.
func notYetExporters(cfg *config.Config) []string {
	var out []string
	if cfg.OTLP != nil {
		out = append(out, "otlp")
	}
	if cfg.CloudWatch != nil {
		out = append(out, "cloudwatch")
	}
	if cfg.Samples != nil {
		out = append(out, "samples")
	}
	return out
}
