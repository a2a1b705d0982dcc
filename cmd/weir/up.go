package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/internal/bytesize"
)

// upFlags are `weir up`'s options.
type upFlags struct {
	dir           string
	brokers       int
	basePort      int
	adminBasePort int
	agentBasePort int
	agents        bool
	noCollector   bool
	noMonitoring  bool
	promPort      int
	amPort        int
	webhooks      []string
	collectorPort int
	controlPort   int
	overrides     []string
	storage       string
	policy        string
	asPort        int
	readyTimeout  time.Duration
	stopTimeout   time.Duration
	secure        bool
	brokerBase    int
}

func newUpCmd() *cobra.Command {
	var uf upFlags
	cmd := &cobra.Command{
		Use:   "up [--brokers N] [--dir DIR] [--base-port PORT] [--admin-base-port PORT] [--agents] [--config-override KEY=VALUE]...",
		Short: "Run a whole cluster on this machine, supervised",
		Long: `Run a Weir cluster on this machine: N broker processes, each with its own
ports, data directory and generated server.properties, supervised the way
MSK supervises brokers. A broker that exits unexpectedly is restarted on the
same address with the same storage, with backoff (500ms doubling to 30s).

The cluster lives in --dir: cluster.json keeps its identity (brokers, ports,
cluster id), so a second 'weir up --dir DIR' brings back the same cluster.
Flags that would change a saved cluster are refused. Once every broker is
ready, the endpoints are printed and written to DIR/endpoints.json.

Broker N listens for Kafka on base-port+N-1 and for admin HTTP (/metrics,
/readyz) on admin-base-port+N-1, on 127.0.0.1. Its output goes to
DIR/broker-N/broker.log. Ctrl-C (or SIGTERM) stops every broker cleanly.

With --secure, clients connect with SASL_SSL (SCRAM-SHA-512 user admin,
its password in DIR/admin.password) using DIR/client.properties (Java,
--command-config) or DIR/client.librdkafka.conf (kcat -F); brokers talk to
each other on broker-base-port+N-1 with mutual TLS; ACLs are on; the control
plane's, collector's and autoscaler's HTTP APIs need the token in
DIR/api.token, which weir cluster and weir rebalance send by themselves.`,
		Example: `  weir up
  weir up --brokers 1 --dir /tmp/weir-dev
  weir up --dir ./weir-data --config-override num.partitions=6
  weir up --secure --agents --dir ./weir-secure
  weir up status --dir ./weir-data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := uf.request(cmd)
			if err != nil {
				return err
			}
			return runUp(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), uf, req)
		},
	}
	f := cmd.Flags()
	f.StringVar(&uf.dir, "dir", "./weir-data", "cluster directory: spec, configs, data and logs")
	f.IntVar(&uf.brokers, "brokers", cluster.DefaultBrokers, "number of brokers (a new cluster only)")
	f.IntVar(&uf.basePort, "base-port", cluster.DefaultBasePort, "Kafka port of broker 1; broker N uses base+N-1 (a new cluster only)")
	f.IntVar(&uf.adminBasePort, "admin-base-port", cluster.DefaultAdminBasePort, "admin HTTP port of broker 1 (a new cluster only)")
	f.IntVar(&uf.agentBasePort, "agent-base-port", cluster.DefaultAgentBasePort, "agent metrics port beside broker 1, with --agents (a new cluster only)")
	f.BoolVar(&uf.agents, "agents", false, "run `weir agent` beside each broker, the collector, and Prometheus and Alertmanager when installed")
	f.BoolVar(&uf.noCollector, "no-collector", false, "with --agents, leave the collector out")
	f.BoolVar(&uf.noMonitoring, "no-monitoring", false, "with --agents, leave Prometheus and Alertmanager out (run when installed: make deps)")
	f.IntVar(&uf.promPort, "prometheus-port", cluster.DefaultPrometheusPort, "Prometheus's port, with --agents")
	f.IntVar(&uf.amPort, "alertmanager-port", cluster.DefaultAlertmanagerPort, "Alertmanager's port, with --agents")
	f.StringArrayVar(&uf.webhooks, "alert-webhook", nil, "a URL Alertmanager sends alerts to, firing and resolved (repeatable)")
	f.IntVar(&uf.collectorPort, "collector-port", cluster.DefaultCollectorPort, "the collector's REST API port, with --agents (a new cluster only)")
	f.IntVar(&uf.controlPort, "control-plane-port", cluster.DefaultControlPort, "the control plane's REST API port (weir cluster speaks it; a new cluster only)")
	f.StringVar(&uf.storage, "storage", "", "provisioned storage per broker, such as 1GiB: produce is refused (retriably) when a broker's logs reach it; grow it with `weir cluster update-broker-storage` (a new cluster only; default: no limit but the filesystem)")
	f.StringVar(&uf.policy, "autoscaler-policy", "", "with --agents, run `weir autoscaler` with this policy file (autoscaler/policies/ has examples)")
	f.IntVar(&uf.asPort, "autoscaler-port", cluster.DefaultAutoscalerPort, "the autoscaler's HTTP port (its /metrics and plan API), with --autoscaler-policy")
	f.StringArrayVar(&uf.overrides, "config-override", nil, "broker config key=value for every broker (repeatable; replaces the saved set)")
	f.DurationVar(&uf.readyTimeout, "ready-timeout", time.Minute, "how long the brokers have to become ready at start")
	f.DurationVar(&uf.stopTimeout, "stop-timeout", 30*time.Second, "how long a broker has to stop after SIGTERM before SIGKILL")
	f.BoolVar(&uf.secure, "secure", false, "TLS, SASL/SCRAM and ACLs: clients on SASL_SSL with an admin user, brokers on mutual TLS, HTTP APIs behind a token; client configs are written beside endpoints.json (a new cluster only; docs/SECURITY.md)")
	f.IntVar(&uf.brokerBase, "broker-base-port", cluster.DefaultBrokerBasePort, "with --secure, the inter-broker (SSL) port of broker 1 (a new cluster only)")
	cmd.AddCommand(newUpStatusCmd())
	return cmd
}

// request turns the flags the user gave into a cluster.Request; flags left
// at their defaults stay zero, so a saved cluster keeps its own values.
func (uf upFlags) request(cmd *cobra.Command) (cluster.Request, error) {
	var req cluster.Request
	set := func(name string, v int, dst *int) error {
		if !cmd.Flags().Changed(name) {
			return nil
		}
		if v < 1 {
			return fmt.Errorf("up: --%s %d: want a positive number", name, v)
		}
		*dst = v
		return nil
	}
	err := errors.Join(
		set("brokers", uf.brokers, &req.Brokers),
		set("base-port", uf.basePort, &req.BasePort),
		set("admin-base-port", uf.adminBasePort, &req.AdminBasePort),
		set("agent-base-port", uf.agentBasePort, &req.AgentBasePort),
		set("collector-port", uf.collectorPort, &req.CollectorPort),
		set("control-plane-port", uf.controlPort, &req.ControlPort),
		set("autoscaler-port", uf.asPort, &req.AutoscalerPort),
		set("broker-base-port", uf.brokerBase, &req.BrokerBasePort),
	)
	req.Secure = uf.secure
	if err != nil {
		return req, err
	}
	if cmd.Flags().Changed("storage") {
		if req.StorageBytes, err = bytesize.Parse(uf.storage); err != nil {
			return req, fmt.Errorf("up: --storage: %w", err)
		}
		if req.StorageBytes < cluster.MinStorage {
			return req, fmt.Errorf("up: --storage %s: at least 16MiB (room for a segment, its indexes and the metadata log)", uf.storage)
		}
	}
	if cmd.Flags().Changed("config-override") {
		if req.ConfigOverrides, err = parseKV(uf.overrides, "--config-override"); err != nil {
			return req, fmt.Errorf("up: %w", err)
		}
	}
	return req, nil
}

func runUp(ctx context.Context, stdout, stderr io.Writer, uf upFlags, req cluster.Request) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("up: finding the weir binary: %w", err)
	}
	err = cluster.Up(ctx, cluster.UpConfig{
		Dir:              uf.dir,
		Request:          req,
		Agents:           uf.agents,
		Collector:        !uf.noCollector,
		AutoscalerPolicy: uf.policy,
		Monitoring:       uf.monitoring(),
		Version:          version + " (" + commit + ")",
		Executable:       exe,
		ReadyTimeout:     uf.readyTimeout,
		StopTimeout:      uf.stopTimeout,
		Out:              stdout,
		Logger:           log.New(stderr, "weir up: ", log.Ltime|log.Lmsgprefix),
	})
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	return nil
}

func newUpStatusCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "status [--dir DIR]",
		Short: "Show the processes of the cluster `weir up` runs from DIR",
		Long: `Show each broker (and agent) of the cluster that 'weir up' is running from
DIR: its address, state, pid and how many times it has been restarted, as
DIR/endpoints.json records them.`,
		Example: `  weir up status
  weir up status --dir /tmp/weir-dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := cluster.NewLayout(dir)
			if err != nil {
				return err
			}
			e, err := cluster.Current(l)
			if errors.Is(err, cluster.ErrNotUp) {
				return fmt.Errorf("up status: no cluster is up in %s: start one with `weir up --dir %s`", l.Dir, dir)
			}
			if err != nil {
				return fmt.Errorf("up status: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s, bootstrap %s, weir up pid %d, as of %s\n",
				e.ClusterID, e.Bootstrap, e.UpPID, e.Updated.Local().Format(time.TimeOnly))
			cluster.PrintStatus(cmd.OutOrStdout(), e)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "./weir-data", "cluster directory")
	return cmd
}

// monitoring is the stack weir up runs: with --agents, unless --no-monitoring.
func (uf upFlags) monitoring() *cluster.MonitoringConfig {
	if !uf.agents || uf.noMonitoring {
		return nil
	}
	return &cluster.MonitoringConfig{PrometheusPort: uf.promPort, AlertmanagerPort: uf.amPort, Webhooks: uf.webhooks}
}
