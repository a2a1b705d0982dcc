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
