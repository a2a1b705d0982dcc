package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/collector/ccclient"
)

// rebalanceFlags are the options every rebalance verb shares.
type rebalanceFlags struct {
	collector   string
	dir         string
	goals       []string
	excluded    string
	execute     bool
	output      string
	throttle    int64
	concurrency int
	verbose     bool
}

func defaultCollector() string {
	if env := os.Getenv("WEIR_COLLECTOR"); env != "" {
		return env
	}
	return "127.0.0.1:9090"
}

func newRebalanceCmd() *cobra.Command {
	var rf rebalanceFlags
	cmd := &cobra.Command{
		Use:   "rebalance [--execute] [--goals G,...] [--excluded-topics REGEX] [-o table|json]",
		Short: "Show (or execute) the collector's proposal to balance the cluster",
		Long: `Ask the collector for a proposal that balances the cluster with Cruise
Control's goals and show it: moves per broker, the data it copies beside the
least any plan could copy, the balance of each resource before and after,
and each goal's status. Nothing moves without --execute, which starts the
execution and follows it with a progress bar until it ends (Ctrl-C leaves it
running; 'weir rebalance stop' stops it).

The collector is found with --collector or WEIR_COLLECTOR (default
127.0.0.1:9090, where 'weir up' runs it). Works against Cruise Control too.`,
		Example: `  weir rebalance
  weir rebalance --goals RackAwareGoal,DiskUsageDistributionGoal --execute
  weir rebalance add-broker 4 --execute
  weir rebalance remove-broker 4 --execute --throttle 10485760
  weir rebalance demote-broker 2 --execute
  weir rebalance status
  weir rebalance stop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return rf.run(cmd, "rebalance", nil)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&rf.collector, "collector", defaultCollector(), "collector address, host:port or URL (env WEIR_COLLECTOR)")
	pf.StringVar(&rf.dir, "dir", "./weir-data", "the cluster directory of a weir up --secure whose API token to send (none: no token)")
	pf.StringVarP(&rf.output, "output", "o", "table", "table or json (the collector's answer as is)")
	f := cmd.Flags()
	rf.planFlags(f.StringSliceVar, f.StringVar, f.BoolVar, f.Int64Var, f.IntVar)
	cmd.AddCommand(
		rf.brokerVerb("add-broker", "Move replicas onto new brokers (and only onto them)", "add_broker",
			`Balance the cluster onto brokers that were just added: replicas move only onto
the brokers named (Cruise Control's add_broker), leadership may move anywhere.
Run it after starting the new brokers.`),
		rf.brokerVerb("remove-broker", "Move every replica off brokers, so they can be stopped", "remove_broker",
			`Move every replica off the brokers named (Cruise Control's remove_broker), so
they can be stopped without leaving a partition under-replicated. Partitions
with nowhere to go (rack awareness, capacity) are listed and nothing moves.`),
		rf.brokerVerb("demote-broker", "Move leadership off brokers; their replicas stay", "demote_broker",
			`Move leadership off the brokers named (Cruise Control's demote_broker): each
goes last in every replica list it is in, and the first other in-sync
replica leads. No data moves; use it before maintenance on a broker.`),
		rf.statusCmd(), rf.stopCmd(),
	)
	return cmd
}

// planFlags declares the planning and execution flags on a command.
func (rf *rebalanceFlags) planFlags(sl func(*[]string, string, []string, string), s func(*string, string, string, string),
	b func(*bool, string, bool, string), i64 func(*int64, string, int64, string), i func(*int, string, int, string)) {
	sl(&rf.goals, "goals", nil, "goals in priority order (default: the collector's default.goals)")
	s(&rf.excluded, "excluded-topics", "", "regular expression of topics whose replicas stay where they are")
	b(&rf.execute, "execute", false, "execute the proposal (default: only show it)")
	i64(&rf.throttle, "throttle", 0, "replication throttle in bytes/s during the execution (default: the collector's)")
	i(&rf.concurrency, "concurrency", 0, "partition movements per broker at once (default: the collector's, 5)")
	b(&rf.verbose, "verbose", false, "list every move")
}

func (rf *rebalanceFlags) brokerVerb(use, short, endpoint, long string) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use + " ID[,ID...] [--execute]",
		Short:   short,
		Long:    long,
		Example: fmt.Sprintf("  weir rebalance %s 4\n  weir rebalance %s 4,5 --execute --throttle 10485760", use, use),
		Args:    oneArg("broker ids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range strings.Split(args[0], ",") {
				if _, err := strconv.ParseUint(strings.TrimSpace(id), 10, 31); err != nil {
					return fmt.Errorf("%s: %q is not a broker id", cmdName(cmd), id)
				}
			}
			return rf.run(cmd, endpoint, url.Values{"brokerid": {args[0]}})
		},
	}
	f := cmd.Flags()
	rf.planFlags(f.StringSliceVar, f.StringVar, f.BoolVar, f.Int64Var, f.IntVar)
	return cmd
}

func (rf *rebalanceFlags) client(cmd *cobra.Command) *ccclient.Client {
	c := rf.plainClient()
	c.Progress = func(step string) { fmt.Fprintf(cmd.ErrOrStderr(), "collector: %s\n", step) }
	return c
}

func (rf *rebalanceFlags) params() url.Values {
	q := url.Values{"dryrun": {strconv.FormatBool(!rf.execute)}, "verbose": {"true"}}
	if len(rf.goals) > 0 {
		q.Set("goals", strings.Join(rf.goals, ","))
	}
	if rf.excluded != "" {
		q.Set("excluded_topics", rf.excluded)
	}
	if rf.throttle > 0 {
		q.Set("replication_throttle", strconv.FormatInt(rf.throttle, 10))
	}
	if rf.concurrency > 0 {
		q.Set("concurrent_partition_movements_per_broker", strconv.Itoa(rf.concurrency))
	}
	return q
}

// run asks for the proposal, prints it, and with --execute follows the
// execution to its end.
func (rf *rebalanceFlags) run(cmd *cobra.Command, endpoint string, extra url.Values) error {
	q := rf.params()
	for k, v := range extra {
		q[k] = v
	}
	c := rf.client(cmd)
	var opt ccclient.Optimization
	var raw json.RawMessage
	if err := c.Do(cmd.Context(), "POST", endpoint, q, &raw); err != nil {
		return fmt.Errorf("%s: %w", cmdName(cmd), err)
	}
	if err := json.Unmarshal(raw, &opt); err != nil {
		return fmt.Errorf("%s: decoding the proposal: %w", cmdName(cmd), err)
	}
	out := cmd.OutOrStdout()
	if rf.output == "json" {
		fmt.Fprintln(out, string(raw))
	} else {
		printOptimization(out, &opt, rf.verbose)
	}
	if !rf.execute || len(opt.Proposals) == 0 {
		if !rf.execute && len(opt.Proposals) > 0 && rf.output != "json" {
			fmt.Fprintln(out, "\nDry run: nothing moved. Add --execute to carry it out.")
		}
		return nil
	}
	return follow(cmd.Context(), c, cmd.ErrOrStderr())
}

// plainClient is the collector's client, with the API token of the secure
// cluster running from --dir when there is one (ccclient.Client.HTTP's
// transport sends it to that cluster's services only).
func (rf *rebalanceFlags) plainClient() *ccclient.Client {
	c := ccclient.New(rf.collector)
	if rt, err := clusterTransport(rf.dir); err == nil && rt != nil {
		c.HTTP.Transport = rt
	}
	return c
}
