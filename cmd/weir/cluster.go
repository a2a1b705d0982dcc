package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/bytesize"
)

// clusterFlags find the control plane: --control-plane, or the
// endpoints.json of --dir.
type clusterFlags struct {
	dir, address, output string
}

// client finds the control plane; on a secure cluster its requests carry
// the cluster's API token.
func (cf *clusterFlags) client() (*cluster.Client, error) {
	c, err := cf.plainClient()
	if err != nil {
		return nil, err
	}
	rt, err := clusterTransport(cf.dir)
	if err != nil {
		return nil, err
	}
	if rt != nil {
		c.HTTP.Transport = rt
	}
	return c, nil
}

func (cf *clusterFlags) plainClient() (*cluster.Client, error) {
	if cf.address != "" {
		return cluster.NewClient(cf.address), nil
	}
	l, err := cluster.NewLayout(cf.dir)
	if err != nil {
		return nil, err
	}
	e, err := cluster.Current(l)
	if errors.Is(err, cluster.ErrNotUp) {
		return nil, fmt.Errorf("no cluster is up in %s: start one with `weir up --dir %s`, or name the control plane with --control-plane", l.Dir, cf.dir)
	}
	if err != nil {
		return nil, err
	}
	if e.ControlPlane == "" {
		return nil, fmt.Errorf("%s names no control plane: restart that weir up with this weir", l.EndpointsPath())
	}
	return cluster.NewClient(e.ControlPlane), nil
}

// describe finds the control plane and describes the cluster; errors are
// prefixed with the command ("cluster delete: ...").
func (cf *clusterFlags) describe(cmd *cobra.Command) (*cluster.Client, cluster.ClusterInfo, error) {
	c, err := cf.client()
	if err != nil {
		return nil, cluster.ClusterInfo{}, err
	}
	info, err := c.Describe(cmd.Context())
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", cmdName(cmd), err)
	}
	return c, info, nil
}

func newClusterCmd() *cobra.Command {
	cf := &clusterFlags{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "The control plane: describe the cluster, its operations, change its shape",
		Long: `Speak to the control plane of a cluster that 'weir up' runs, in MSK's words:
describe shows its state (ACTIVE, UPDATING, REBOOTING_BROKER, ...), brokers and
storage; list-operations and describe-operation show what was done and how it
went; update-broker-count grows or shrinks it (with the collector moving the
replicas), update-broker-storage grows the brokers' provisioned storage, reboot-broker restarts brokers one at a time, waiting until every
partition is back in sync. An update is refused unless the cluster is ACTIVE.`,
		Example: `  weir cluster describe
  weir cluster update-broker-count 4 --wait
  weir cluster update-broker-storage 2GiB --wait
  weir cluster reboot-broker 2 --wait
  weir cluster list-operations`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&cf.dir, "dir", "./weir-data", "the cluster directory of the weir up to talk to")
	pf.StringVar(&cf.address, "control-plane", "", "the control plane's address (default: from DIR/endpoints.json)")
	pf.StringVarP(&cf.output, "output", "o", "table", "table or json")
	cmd.AddCommand(cf.describeCmd(), cf.listOpsCmd(), cf.describeOpCmd(), cf.countCmd(), cf.storageCmd(), cf.rebootCmd(),
		cf.configCmd(), cf.upgradeCmd(), cf.anomaliesCmd(), cf.deleteCmd())
	return cmd
}

func (cf *clusterFlags) describeCmd() *cobra.Command {
	return &cobra.Command{
		Use: "describe", Short: "The cluster's state, brokers and storage",
		Long:    "Describe the cluster (MSK's DescribeCluster): state, version for updates, brokers with their process state and storage used.",
		Example: "  weir cluster describe\n  weir cluster describe -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, info, err := cf.describe(cmd)
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), info)
			}
			printClusterInfo(cmd.OutOrStdout(), info)
			return nil
		},
	}
}

func printClusterInfo(w io.Writer, info cluster.ClusterInfo) {
	fmt.Fprintf(w, "cluster %s (%s)\nstate %s, version %s, %d brokers, weir %s, configuration revision %d\nbootstrap %s\n", info.ClusterName, info.ClusterARN,
		info.State, info.CurrentVersion, info.NumberOfBrokerNodes, info.SoftwareVersion, info.ConfigurationRevision, info.Bootstrap)
	if info.ActiveOperationARN != "" {
		fmt.Fprintf(w, "operation in progress: %s\n", info.ActiveOperationARN)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tENDPOINT\tRACK\tPROCESS\tSTORAGE USED\tPROVISIONED\tUSED %")
	for _, b := range info.Brokers {
		used, prov, pct := "?", "no limit", "-"
		if b.StorageBytes >= 0 {
			used = bytesize.Human(b.StorageBytes)
		}
		if b.ProvisionedBytes > 0 {
			prov = bytesize.Format(b.ProvisionedBytes)
			if b.StorageBytes >= 0 {
				pct = fmt.Sprintf("%.1f", 100*float64(b.StorageBytes)/float64(b.ProvisionedBytes))
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Endpoint, b.Rack, b.State, used, prov, pct)
	}
	tw.Flush()
}

func (cf *clusterFlags) listOpsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "list-operations", Short: "The cluster's operations, newest first",
		Long:    "List the cluster's operations (MSK's ListClusterOperations): type, state, start and end, source and target.",
		Example: "  weir cluster list-operations\n  weir cluster list-operations -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			ops, err := c.Operations(cmd.Context())
			if err != nil {
				return fmt.Errorf("cluster list-operations: %w", err)
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), ops)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "OPERATION\tTYPE\tSTATE\tSTARTED\tTOOK\tBROKERS\tERROR")
			for _, op := range ops {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d -> %d\t%s\n", op.ARN, op.Type, op.State, op.Created.Local().Format(time.DateTime),
					took(op), op.Source.NumberOfBrokerNodes, op.Target.NumberOfBrokerNodes, errString(op))
			}
			return tw.Flush()
		},
	}
}

func took(op cluster.Operation) string {
	if op.End == nil {
		return "running"
	}
	return op.End.Sub(op.Created).Round(100 * time.Millisecond).String()
}

func errString(op cluster.Operation) string {
	if op.Error == nil {
		return ""
	}
	return op.Error.String
}

func (cf *clusterFlags) describeOpCmd() *cobra.Command {
	return &cobra.Command{
		Use: "describe-operation ARN", Short: "One operation with its steps",
		Long:    "Describe one operation (MSK's DescribeClusterOperation): its state, each step with its status and times, the error if it failed.",
		Example: "  weir cluster describe-operation arn:weir:kafka:local::cluster-operation/weir-data/...",
		Args:    oneArg("an operation ARN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			op, err := c.Operation(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("cluster describe-operation: %w", err)
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), op)
			}
			printOperation(cmd.OutOrStdout(), op)
			return nil
		},
	}
}

func printOperation(w io.Writer, op cluster.Operation) {
	fmt.Fprintf(w, "%s %s: %s (%s)\n", op.Type, op.ARN, op.State, took(op))
	for _, s := range op.Steps {
		fmt.Fprintf(w, "  %-9s %s", s.Status, s.Name)
		if s.Detail != "" {
			fmt.Fprintf(w, ": %s", s.Detail)
		}
		fmt.Fprintln(w)
	}
	if op.Error != nil {
		fmt.Fprintf(w, "error: %s\n", op.Error.String)
	}
}

func (cf *clusterFlags) countCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use: "update-broker-count N [--wait]", Short: "Grow or shrink the cluster to N brokers",
		Long: `Grow or shrink the cluster (MSK's UpdateBrokerCount). Growing starts the new
brokers (and agents), then the collector moves replicas onto them; shrinking
has the collector move every replica off the highest-numbered brokers, then
stops them. The metadata quorum's voters (the first min(3, N) brokers of the
cluster as it was created) stay, and a grown cluster keeps its voters: growing
a 1-broker cluster adds brokers, not voters. The cluster cannot shrink below
its voters or below the largest replication factor.`,
		Example: "  weir cluster update-broker-count 4 --wait\n  weir cluster update-broker-count 3",
		Args:    oneArg("the target broker count"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return fmt.Errorf("cluster update-broker-count: %q is not a broker count", args[0])
			}
			return cf.operate(cmd, wait, func(c *cluster.Client, info cluster.ClusterInfo) (string, error) {
				return c.UpdateBrokerCount(cmd.Context(), n, info.CurrentVersion)
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the operation until it ends")
	return cmd
}

func (cf *clusterFlags) storageCmd() *cobra.Command {
	var wait bool
	var brokers string
	cmd := &cobra.Command{
		Use: "update-broker-storage SIZE [--brokers ID,...] [--wait]", Short: "Grow the brokers' provisioned storage",
		Long: `Grow the provisioned storage of every broker, or of --brokers (MSK's
UpdateBrokerStorage). The new size takes effect at once, without restarts: a
broker that refused produce because its storage was full accepts it again.
Storage only grows, as on MSK, and the filesystem must have the room.
SIZE is bytes or a number with KiB, MiB, GiB or TiB.`,
		Example: "  weir cluster update-broker-storage 2GiB --wait\n  weir cluster update-broker-storage 500MiB --brokers 2,3",
		Args:    oneArg("the new storage size"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := bytesize.Parse(args[0])
			if err != nil {
				return fmt.Errorf("cluster update-broker-storage: %w", err)
			}
			var ids []int
			if brokers != "" {
				for _, f := range strings.Split(brokers, ",") {
					id, err := strconv.Atoi(strings.TrimSpace(f))
					if err != nil {
						return fmt.Errorf("cluster update-broker-storage: --brokers %q: %q is not a broker id", brokers, f)
					}
					ids = append(ids, id)
				}
			}
			return cf.operate(cmd, wait, func(c *cluster.Client, info cluster.ClusterInfo) (string, error) {
				return c.UpdateBrokerStorage(cmd.Context(), ids, n, info.CurrentVersion)
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the operation until it ends")
	cmd.Flags().StringVar(&brokers, "brokers", "", "only these brokers (default: all)")
	return cmd
}

func (cf *clusterFlags) deleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use: "delete --yes", Short: "Delete the cluster: stop everything and remove its data",
		Long: `Delete the cluster (MSK's DeleteCluster): it goes DELETING, weir up stops every
process (the brokers with a controlled shutdown, the agents, the collector,
the autoscaler, the monitoring stack), removes every broker's data and the
files it created in the cluster directory, and exits. There is no undo:
--yes is required. Refused while an operation runs.`,
		Example: "  weir cluster delete --yes --dir /tmp/weir-dev",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, info, err := cf.describe(cmd)
			if err != nil {
				return err
			}
			if !yes {
				return fmt.Errorf("cluster delete: this stops cluster %s and removes every broker's data (%d brokers); run again with --yes", info.ClusterName, info.NumberOfBrokerNodes)
			}
			if err := c.Delete(cmd.Context(), info.ClusterARN, info.CurrentVersion); err != nil {
				return fmt.Errorf("cluster delete: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s is DELETING: weir up stops every process, removes the cluster's files and exits\n", info.ClusterARN)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really delete the cluster and its data")
	return cmd
}

func (cf *clusterFlags) rebootCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use: "reboot-broker ID[,ID...] [--wait]", Short: "Restart brokers one at a time, safely",
		Long: `Restart brokers (MSK's RebootBroker), one at a time: a controlled shutdown,
a start on the same address and storage, and the next one only once every
partition is back in sync.`,
		Example: "  weir cluster reboot-broker 2 --wait\n  weir cluster reboot-broker 1,2,3",
		Args:    oneArg("broker ids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cf.operate(cmd, wait, func(c *cluster.Client, _ cluster.ClusterInfo) (string, error) {
				return c.RebootBroker(cmd.Context(), strings.Split(args[0], ","))
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the operation until it ends")
	return cmd
}

func (cf *clusterFlags) configCmd() *cobra.Command {
	var wait bool
	var file string
	var sets []string
	cmd := &cobra.Command{
		Use: "update-configuration (--file server.properties | --set key=value...) [--wait]", Short: "Change the brokers' configuration",
		Long: `Make a configuration the cluster's (MSK's UpdateClusterConfiguration): the
overrides of every broker's server.properties, in server.properties form,
validated against the keys the broker knows. Cluster-wide dynamic keys apply
at once; if a key the broker reads only at start changed, every broker is
restarted, one at a time, waiting until every partition is in sync. The file
(or --set) is the whole configuration: keys left out go back to their
defaults. --set on its own starts from the current configuration.`,
		Example: "  weir cluster update-configuration --set log.retention.hours=24 --wait\n  weir cluster update-configuration --file cluster.properties",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cf.operate(cmd, wait, func(c *cluster.Client, info cluster.ClusterInfo) (string, error) {
				text, err := configText(file, sets, info.Configuration)
				if err != nil {
					return "", err
				}
				return c.UpdateConfiguration(cmd.Context(), text, info.CurrentVersion)
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the operation until it ends")
	cmd.Flags().StringVar(&file, "file", "", "the configuration, server.properties form")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "key=value over the file or the current configuration (repeatable)")
	return cmd
}

// configText is the configuration to send: the file (or the current
// configuration) with the --set values over it.
func configText(file string, sets []string, current map[string]string) (string, error) {
	props := maps.Clone(current)
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		if props, err = cluster.ParseProperties(string(data)); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
	}
	if file == "" && len(sets) == 0 {
		return "", errors.New("give --file or --set")
	}
	if props == nil {
		props = map[string]string{}
	}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return "", fmt.Errorf("--set %q: want key=value", kv)
		}
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return b.String(), nil
}

func (cf *clusterFlags) upgradeCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use: "upgrade BINARY [--wait]", Short: "Restart the cluster onto another weir binary, one broker at a time",
		Long: `Restart every process onto another weir binary (MSK's UpdateClusterKafkaVersion):
the brokers one at a time, the safe way (as reboot-broker), then the agents and
the collector. The binary must run and answer 'version'.`,
		Example: "  weir cluster upgrade ./bin/weir --wait",
		Args:    oneArg("the new weir binary"),
		RunE: func(cmd *cobra.Command, args []string) error {
			bin, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			return cf.operate(cmd, wait, func(c *cluster.Client, info cluster.ClusterInfo) (string, error) {
				return c.Upgrade(cmd.Context(), bin, info.CurrentVersion)
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the operation until it ends")
	return cmd
}

func (cf *clusterFlags) anomaliesCmd() *cobra.Command {
	var collectorAddr string
	return &cobra.Command{
		Use: "anomalies", Short: "What the collector's anomaly detector saw and did",
		Long: `Show the collector's anomaly history (broker failures, disk failures, goal
violations, topic and metric anomalies): when each was detected, its status
(DETECTED, FIX_STARTED, IGNORED, ...), what was done and when, and which types
self-heal. Cruise Control's state?substates=anomaly_detector, as a table.`,
		Example: "  weir cluster anomalies\n  weir cluster anomalies -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr := collectorAddr
			if addr == "" {
				l, err := cluster.NewLayout(cf.dir)
				if err != nil {
					return err
				}
				e, err := cluster.Current(l)
				if err != nil || e.Collector == nil {
					return fmt.Errorf("cluster anomalies: no collector found in %s (is weir up --agents running? or give --collector)", l.Dir)
				}
				addr = strings.TrimSuffix(e.Collector.API, "/kafkacruisecontrol/")
			}
			st, err := ccclient.New(addr).Anomalies(cmd.Context())
			if err != nil {
				return fmt.Errorf("cluster anomalies: %w", err)
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), st)
			}
			printAnomalies(cmd.OutOrStdout(), st)
			return nil
		},
	}
}

func printAnomalies(w io.Writer, st *ccclient.AnomalyState) {
	fmt.Fprintf(w, "self-healing on for %v, off for %v; healing now: %s\n\n", st.SelfHealingEnabled, st.SelfHealingDisabled, st.Ongoing)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tID\tDETECTED\tSTATUS\tFIX\tDESCRIPTION")
	for _, a := range st.All() {
		fix := ""
		if a.FixStartedMs > 0 {
			fix = "started " + time.UnixMilli(a.FixStartedMs).Local().Format(time.TimeOnly)
			if a.FixEndedMs > 0 {
				fix += ", ended " + time.UnixMilli(a.FixEndedMs).Local().Format(time.TimeOnly)
			}
		}
		desc := a.Description
		if a.Note != "" {
			desc += " (" + a.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Type, a.ID, time.UnixMilli(a.DetectionMs).Local().Format(time.TimeOnly), a.Status, fix, desc)
	}
	tw.Flush()
}

// operate describes the cluster (for its currentVersion), starts the
// operation start returns, and prints or follows it.
func (cf *clusterFlags) operate(cmd *cobra.Command, wait bool, start func(c *cluster.Client, info cluster.ClusterInfo) (string, error)) error {
	what := cmdName(cmd)
	c, info, err := cf.describe(cmd)
	if err != nil {
		return err
	}
	arn, err := start(c, info)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return cf.started(cmd, c, arn, wait)
}

// started prints a started operation and, with --wait, follows it.
func (cf *clusterFlags) started(cmd *cobra.Command, c *cluster.Client, arn string, wait bool) error {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "operation %s started\n", arn)
	if !wait {
		fmt.Fprintf(out, "follow it: weir cluster describe-operation %s\n", arn)
		return nil
	}
	seen := 0
	op, err := c.Wait(cmd.Context(), arn, func(op cluster.Operation) {
		for _, s := range op.Steps[seen:] {
			fmt.Fprintf(out, "  %s\n", s.Name)
		}
		seen = len(op.Steps)
	})
	if err != nil {
		return err
	}
	printOperation(out, op)
	if op.State != cluster.OpComplete {
		return fmt.Errorf("the operation ended %s", op.State)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
