package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/weirhq/weir/collector/ccclient"
)

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

// printMovesPerBroker shows what the proposal moves onto and off each broker.
func printMovesPerBroker(w io.Writer, ps []ccclient.Proposal) {
	per := ccclient.MovesPerBroker(ps)
	ids := make([]int32, 0, len(per))
	for id := range per {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tREPLICAS IN\tREPLICAS OUT\tLEADERS IN\tLEADERS OUT\tDATA IN (MB)\tDATA OUT (MB)")
	for _, id := range ids {
		m := per[id]
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\n", id, m.ReplicasIn, m.ReplicasOut, m.LeadersIn, m.LeadersOut, m.MBIn, m.MBOut)
	}
	if len(ids) == 0 {
		fmt.Fprintln(tw, "(no moves)")
	}
	tw.Flush()
}

// printBalance shows each resource's spread over the brokers before and
// after: max and min against the mean.
func printBalance(w io.Writer, before, after *ccclient.BrokerStats) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tMIN BEFORE\tMEAN\tMAX BEFORE\tMIN AFTER\tMAX AFTER")
	for _, r := range balanceRows {
		bmin, bmean, bmax := before.Spread(r.get)
		amin, _, amax := after.Spread(r.get)
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
