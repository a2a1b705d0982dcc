package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/collector/ccclient"
)

// rebalanceFlags are the options every rebalance verb shares.
type rebalanceFlags struct {
	collector   string
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
	c := ccclient.New(rf.collector)
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

// follow draws the execution's progress until the executor is idle: one
// line redrawn on a terminal, a new line at each change elsewhere.
func follow(ctx context.Context, c *ccclient.Client, w io.Writer) error {
	var last ccclient.ExecutorState
	tty, prev := isTerminal(w), ""
	for {
		var st ccclient.State
		if err := c.Do(ctx, "GET", "state", url.Values{"substates": {"executor"}}, &st); err != nil {
			return fmt.Errorf("following the execution: %w", err)
		}
		if st.Executor.Idle() {
			if tty {
				fmt.Fprint(w, "\r")
			}
			fmt.Fprintln(w, progressLine(&last, true))
			if st.Executor != nil && st.Executor.LastResult != "" {
				fmt.Fprintln(w, st.Executor.LastResult)
			}
			if st.Executor != nil && st.Executor.Error != "" {
				return fmt.Errorf("the execution ended with an error: %s", st.Executor.Error)
			}
			return nil
		}
		last = *st.Executor
		if line := progressLine(&last, false); tty {
			fmt.Fprintf(w, "\r%s", line)
		} else if line != prev {
			fmt.Fprintln(w, line)
			prev = line
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "\nstopped following; the execution goes on ('weir rebalance stop' stops it)")
			return nil
		case <-time.After(time.Second):
		}
	}
}

func progressLine(e *ccclient.ExecutorState, done bool) string {
	frac := 1.0
	if e.TotalDataMB > 0 && !done {
		frac = e.FinishedDataMB / e.TotalDataMB
	} else if e.TotalPartitions > 0 && !done {
		frac = float64(e.FinishedPartitions) / float64(e.TotalPartitions)
	}
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("#", n) + strings.Repeat(" ", width-n)
	eta := ""
	if e.ETASeconds > 0 && !done {
		eta = fmt.Sprintf("  ETA %s", (time.Duration(e.ETASeconds) * time.Second).String())
	}
	return fmt.Sprintf("[%s] %3.0f%%  partitions %d/%d  leaders %d/%d  data %.1f/%.1f MB%s   ", bar, frac*100,
		e.FinishedPartitions, e.TotalPartitions, e.FinishedLeaderships, e.TotalLeaderships, e.FinishedDataMB, e.TotalDataMB, eta)
}

// printOptimization prints the proposal as tables.
func printOptimization(w io.Writer, o *ccclient.Optimization, verbose bool) {
	s := o.Summary
	fmt.Fprintf(w, "Proposal: %d replica moves, %d leadership moves; computed in %d ms on %d windows covering %.1f%% of partitions\n",
		s.NumReplicaMovements, s.NumLeaderMovements, s.OptimizationTimeMs, s.RecentWindows, s.MonitoredPartitionsPercentage)
	ratio := ""
	if s.LowerBoundBytes > 0 {
		ratio = fmt.Sprintf(" (%.2fx)", s.DataToMoveBytes/s.LowerBoundBytes)
	}
	fmt.Fprintf(w, "Data to move: %.1f MB; the least any plan reaching the disk targets moves: %.1f MB%s\n", s.DataToMoveBytes/(1<<20), s.LowerBoundBytes/(1<<20), ratio)
	fmt.Fprintf(w, "Balancedness: %.1f -> %.1f\n\n", s.BalancednessBefore, s.BalancednessAfter)
	printMovesPerBroker(w, o.Proposals)
	if o.LoadBefore != nil {
		fmt.Fprintln(w)
		printBalance(w, o.LoadBefore, &o.LoadAfter)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GOAL\tHARD\tSTATUS\tBALANCEDNESS BEFORE\tAFTER")
	for _, g := range o.GoalSummary {
		fmt.Fprintf(tw, "%s\t%t\t%s\t%.1f\t%.1f\n", g.Goal, g.Hard, g.Status, g.BalancednessBefore, g.BalancednessAfter)
	}
	tw.Flush()
	if verbose {
		fmt.Fprintln(w)
		for _, p := range o.Proposals {
			fmt.Fprintf(w, "%s: %v -> %v (%.1f MB)\n", p.TopicPartition, p.OldReplicas, p.NewReplicas, p.DataToMoveMB)
		}
	}
}

type brokerMoves struct {
	replicasIn, replicasOut, leadersIn, leadersOut int
	mbIn, mbOut                                    float64
}

func printMovesPerBroker(w io.Writer, ps []ccclient.Proposal) {
	per := map[int32]*brokerMoves{}
	get := func(id int32) *brokerMoves {
		if per[id] == nil {
			per[id] = &brokerMoves{}
		}
		return per[id]
	}
	for _, p := range ps {
		for _, b := range p.NewReplicas {
			if !slices.Contains(p.OldReplicas, b) {
				get(b).replicasIn++
				get(b).mbIn += p.DataToMoveMB / float64(max(1, countAdded(p)))
			}
		}
		for _, b := range p.OldReplicas {
			if !slices.Contains(p.NewReplicas, b) {
				get(b).replicasOut++
				get(b).mbOut += p.DataToMoveMB / float64(max(1, countAdded(p)))
			}
		}
		if len(p.NewReplicas) > 0 && p.NewReplicas[0] != p.OldLeader {
			get(p.NewReplicas[0]).leadersIn++
			get(p.OldLeader).leadersOut++
		}
	}
	ids := make([]int32, 0, len(per))
	for id := range per {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tREPLICAS IN\tREPLICAS OUT\tLEADERS IN\tLEADERS OUT\tDATA IN (MB)\tDATA OUT (MB)")
	for _, id := range ids {
		m := per[id]
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\n", id, m.replicasIn, m.replicasOut, m.leadersIn, m.leadersOut, m.mbIn, m.mbOut)
	}
	if len(ids) == 0 {
		fmt.Fprintln(tw, "(no moves)")
	}
	tw.Flush()
}

func countAdded(p ccclient.Proposal) int {
	n := 0
	for _, b := range p.NewReplicas {
		if !slices.Contains(p.OldReplicas, b) {
			n++
		}
	}
	return n
}

// printBalance shows each resource's spread over the brokers before and
// after: max and min against the mean.
func printBalance(w io.Writer, before, after *ccclient.BrokerStats) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tMIN BEFORE\tMEAN\tMAX BEFORE\tMIN AFTER\tMAX AFTER")
	for _, r := range balanceRows {
		bmin, bmean, bmax := spreadOf(before, r.get)
		amin, _, amax := spreadOf(after, r.get)
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", r.name, bmin, bmean, bmax, amin, amax)
	}
	tw.Flush()
}

var balanceRows = []struct {
	name string
	get  func(ccclient.BrokerLoad) float64
}{
	{"disk (%)", func(b ccclient.BrokerLoad) float64 { return b.DiskPct }},
	{"cpu (%)", func(b ccclient.BrokerLoad) float64 { return b.CPUPct }},
	{"network in (KB/s)", func(b ccclient.BrokerLoad) float64 { return b.LeaderNwInRate + b.FollowerNwInRate }},
	{"network out (KB/s)", func(b ccclient.BrokerLoad) float64 { return b.NwOutRate }},
	{"replicas", func(b ccclient.BrokerLoad) float64 { return float64(b.Replicas) }},
	{"leaders", func(b ccclient.BrokerLoad) float64 { return float64(b.Leaders) }},
}

func spreadOf(s *ccclient.BrokerStats, get func(ccclient.BrokerLoad) float64) (lo, mean, hi float64) {
	n := 0
	for _, b := range s.Brokers {
		if b.BrokerState == "DEAD" || b.BrokerState == "REMOVING" {
			continue
		}
		v := get(b)
		if n == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
		mean += v
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return lo, mean, hi
}

func (rf *rebalanceFlags) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running execution's progress (or the last one's result)",
		Long: `Show the executor's state: the running execution's partitions and data moved
and left, or the last execution's result.`,
		Example: "  weir rebalance status\n  weir rebalance status -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st ccclient.State
			var raw json.RawMessage
			if err := ccclient.New(rf.collector).Do(cmd.Context(), "GET", "state", url.Values{"substates": {"executor,monitor"}}, &raw); err != nil {
				return fmt.Errorf("%s: %w", cmdName(cmd), err)
			}
			if rf.output == "json" {
				fmt.Fprintln(cmd.OutOrStdout(), string(raw))
				return nil
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				return fmt.Errorf("%s: %w", cmdName(cmd), err)
			}
			e := st.Executor
			fmt.Fprintf(cmd.OutOrStdout(), "executor: %s\n%s\n", e.State, progressLine(e, e.Idle()))
			if e.LastResult != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "last: %s\n", e.LastResult)
			}
			return nil
		},
	}
}

func (rf *rebalanceFlags) stopCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the running execution: cancel in-flight moves, remove throttles",
		Long: `Stop the running execution (Cruise Control's stop_proposal_execution): the
reassignments in flight are cancelled, none is started, and the replication
throttles the execution set are removed.`,
		Example: "  weir rebalance stop",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m struct {
				Message string `json:"message"`
			}
			if err := ccclient.New(rf.collector).Do(cmd.Context(), "POST", "stop_proposal_execution", nil, &m); err != nil {
				return fmt.Errorf("%s: %w", cmdName(cmd), err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), m.Message)
			return nil
		},
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
