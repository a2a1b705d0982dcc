package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/collector"
	"github.com/weirhq/weir/internal/httpauth"
)

type collectorFlags struct {
	config    string
	sets      []string
	listen    string
	dataDir   string
	logLevel  string
	logFormat string
	// controlPlane and autoscaler are the console's links to weir up's
	// control plane and the autoscaler.
	controlPlane string
	autoscaler   string
}

func newCollectorCmd(g *globals) *cobra.Command {
	var cf collectorFlags
	cmd := &cobra.Command{
		Use:   "collector [--config FILE] [--set key=value]...",
		Short: "Run the collector: the cluster's load model and Cruise-Control-style rebalancing",
		Long: `Run Weir's collector, one per cluster. It reads the agents' load samples from
__weir_metrics, keeps a windowed load model of every broker and partition,
computes proposals with Cruise Control's goals, and executes them as
throttled partition reassignments and leader elections. It serves Cruise
Control's REST API under /kafkacruisecontrol/ (cccli and cruise-control-ui
work against it), the web console under /console/, its own Prometheus
metrics on /metrics, and /healthz. --control-plane and --autoscaler give the
console's operations and autoscaler pages their services.

It talks to the cluster only through the Kafka protocol, so it runs against
Apache Kafka and MSK too, given Weir's agents beside the brokers. The config
is YAML with Cruise Control's property names as keys (config/collector.yaml
has every key, commented; docs/COLLECTOR.md is the reference); --set
overrides one key.`,
		Example: `  weir collector -b localhost:9092
  weir collector --config config/collector.yaml
  weir collector --set partition.metrics.window.ms=30000 --set default.replication.throttle=10485760`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load(cmd, g)
			if err != nil {
				return err
			}
			logger, err := newLogger(cmd.ErrOrStderr(), cf.logFormat, cf.logLevel)
			if err != nil {
				return err
			}
			c, err := collector.New(cfg, logger)
			if err != nil {
				return err
			}
			if hosts := hostsOf(cfg.ControlPlane, cfg.Autoscaler); c.Token() != "" && len(hosts) > 0 {
				// The console calls the control plane and the autoscaler
				// with http.DefaultTransport: they ask for the same token
				// (and only they get it).
				http.DefaultTransport = httpauth.Transport(c.Token(), hosts, http.DefaultTransport)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "collector: Cruise Control API on http://%s/kafkacruisecontrol/, console on http://%s/console/, metrics on http://%s/metrics\n", c.Addr(), c.Addr(), c.Addr())
			return c.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cf.config, "config", "", "collector config, YAML with Cruise Control's keys (default: every default)")
	f.StringArrayVar(&cf.sets, "set", nil, "one config key=value over the file (repeatable)")
	f.StringVar(&cf.listen, "listen", "", "REST API address host:port (webserver.http.address/port; default 127.0.0.1:9090)")
	f.StringVar(&cf.dataDir, "data-dir", "", "where the executor records a running execution, so a restart finishes it, and the anomaly detector keeps its history (data.dir)")
	f.StringVar(&cf.controlPlane, "control-plane", "", "weir up's control plane URL, for the console (e.g. http://127.0.0.1:9099; default: not configured)")
	f.StringVar(&cf.autoscaler, "autoscaler", "", "the autoscaler's URL, for the console (e.g. http://127.0.0.1:9097; default: not configured)")
	f.StringVar(&cf.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&cf.logFormat, "log-format", "text", "text or json")
	return cmd
}

// load builds the config: defaults, the file, --brokers, the flags, --set.
func (cf collectorFlags) load(cmd *cobra.Command, g *globals) (collector.Config, error) {
	cfg := collector.DefaultConfig()
	var err error
	if cf.config != "" {
		if cfg, err = collector.LoadConfig(cf.config); err != nil {
			return cfg, err
		}
	}
	if cmd.Flags().Changed("brokers") || cf.config == "" {
		cfg.BootstrapServers = g.brokers
	}
	if cf.listen != "" {
		cfg.Listen = cf.listen
	}
	if cf.dataDir != "" {
		cfg.DataDir = cf.dataDir
	}
	cfg.ControlPlane, cfg.Autoscaler = cf.controlPlane, cf.autoscaler
	if g.commandConfig != "" {
		cfg.ClientConfig = g.commandConfig
	}
	for _, kv := range cf.sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("collector: --set %q: want key=value", kv)
		}
		if err := cfg.Set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return cfg, fmt.Errorf("collector: --set: %w", err)
		}
	}
	return cfg, nil
}
