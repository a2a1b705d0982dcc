package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// writeClusterTables prints whichever cluster sections ran.
func (r *CompareReport) writeClusterTables(w io.Writer) error {
	if c := r.Cluster; c != nil {
		if err := c.write(w, r); err != nil {
			return err
		}
	}
	if c := r.CPU; c != nil {
		if err := c.write(w); err != nil {
			return err
		}
	}
	if f := r.Failover; f != nil {
		if err := f.write(w); err != nil {
			return err
		}
	}
	if p := r.ManyPartitions; p != nil {
		return p.write(w)
	}
	return nil
}

func (c *ClusterReport) write(w io.Writer, r *CompareReport) error {
	fmt.Fprintf(w, "\ncluster: %d brokers each, RF=%d, min.insync.replicas=%d, %d partitions, acks=%s, idempotent=%v\n",
		c.Brokers, c.ReplicationFactor, c.MinInsyncReplicas, c.Partitions, r.Acks, r.Idempotent)
	candLabel, baseLabel := labels(r.Candidate, r.Baseline)
	for round := 1; round <= max(c.Rounds, 1); round++ {
		runs := c.roundRuns(round)
		if len(runs) == 0 {
			break
		}
		if c.Rounds > 1 {
			first := candLabel
			if round%2 == 0 {
				first = baseLabel
			}
			fmt.Fprintf(w, "round %d of %d (%s first):\n", round, c.Rounds, first)
		}
		if err := writeRuns(w, runs, candLabel+"-cluster", baseLabel+"-cluster"); err != nil {
			return err
		}
	}
	median := ""
	if len(c.ProduceRatios) > 1 {
		median = "median of rounds "
		fmt.Fprintf(w, "ratios by round: produce 1 KiB %s; produce 100 B %s; consume %s\n",
			fmtRatios(c.ProduceRatios), fmtRatios(c.ProduceRatios100B), fmtRatios(c.ConsumeRatios))
	}
	if c.ProduceRatio100B > 0 {
		fmt.Fprintf(w, "100 B produce %s%.2fx (issue 14 wants >= 1.0x)\n", median, c.ProduceRatio100B)
	}
	if len(c.Runs) >= 2 {
		fmt.Fprintf(w, "targets: produce %s%.2fx (want >= %.1fx: %s), consume %s%.2fx (want >= %.1fx: %s)\n",
			median, c.ProduceRatio, TargetClusterProduceRatio, verdict(c.ProduceRatio >= TargetClusterProduceRatio),
			median, c.ConsumeRatio, TargetClusterConsumeRatio, verdict(c.ConsumeRatio >= TargetClusterConsumeRatio))
	}
	if err := c.writeLatency(w); err != nil {
		return err
	}
	return writeSectionEnd(w, c.Err, c.Logs)
}

// fmtRatios prints ratios as "0.71x 1.57x 0.59x", "-" for none.
func fmtRatios(rs []float64) string {
	if len(rs) == 0 {
		return "-"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.2fx", r)
	}
	return strings.Join(parts, " ")
}

// writeLatency prints the latency curve and judges each system's
// half-rate run against the targets.
func (c *ClusterReport) writeLatency(w io.Writer) error {
	if len(c.LatencyCurve) == 0 {
		return nil
	}
	fmt.Fprintf(w, "latency at shares of each system's own produce rate, %s each, 1 KiB records (machine busy: all cores, anything running; server cores: CPU of the system's processes over the run's time, and per record acknowledged):\n",
		c.LatencyDuration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\trate\trecords/s\tproduce p50\tp99\tproduce-to-consume p50\tp99\tnot consumed\tmachine busy\tserver cores\tserver CPU/record\t")
	for _, l := range c.LatencyCurve {
		cores := 0.0
		if l.Achieved > 0 && l.Records > 0 {
			cores = l.ServerCPU.Seconds() / (float64(l.Records) / l.Achieved)
		}
		fmt.Fprintf(tw, "%s\t%.0f%%\t%.0f\t%s\t%s\t%s\t%s\t%d\t%.0f%%\t%.2f\t%s\t\n", l.System, l.Fraction*100, l.Achieved,
			fmtLatency(l.Produce.P50), fmtLatency(l.Produce.P99), fmtLatency(l.EndToEnd.P50), fmtLatency(l.EndToEnd.P99),
			l.Missing, l.MachineBusy*100, cores, l.ServerCPUPerRecord.Round(100*time.Nanosecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(c.Latency) == 0 {
		return nil
	}
	l := c.Latency[0]
	_, err := fmt.Fprintf(w, "targets at 50%%: %s produce p99 %s (want <= %s: %s), produce-to-consume p99 %s (want <= %s: %s)\n", l.System,
		fmtLatency(l.Produce.P99), TargetHalfRateProduceP99, verdict(l.Produce.P99 <= TargetHalfRateProduceP99),
		fmtLatency(l.EndToEnd.P99), TargetHalfRateE2EP99, verdict(l.EndToEnd.P99 <= TargetHalfRateE2EP99))
	return err
}

func (f *FailoverReport) write(w io.Writer) error {
	fmt.Fprintf(w, "\nfailover: %d Weir brokers; SIGKILL the leader of the probe's partition; a record every %s, acks=%s, idempotent=%v, per-record timeout %s\n",
		f.Brokers, f.Interval, f.Acks, f.Idempotent, f.RecordTimeout)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tkilled\twas controller\tnew leader\tkill to first ack\tfailed records\tback in ISR after restart\t")
	for i, run := range f.Runs {
		fmt.Fprintf(tw, "%d\t%d\t%v\t%d\t%s\t%d\t%s\t\n", i+1, run.Killed, run.WasController, run.NewLeader,
			fmtLatency(run.Downtime), run.FailedRecords, fmtLatency(run.Rejoin))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(f.Runs) > 0 {
		target := time.Duration(TargetFailoverMedianSecs * float64(time.Second))
		fmt.Fprintf(w, "median %s (want < %s: %s)\n", fmtLatency(f.Median), target, verdict(f.Median < target))
	}
	for i, run := range f.Runs {
		if run.FirstError != "" {
			fmt.Fprintf(w, "run %d: first failed record: %s\n", i+1, run.FirstError)
		}
	}
	return writeSectionEnd(w, f.Err, f.Logs)
}

func (p *PartitionsReport) write(w io.Writer) error {
	fmt.Fprintf(w, "\npartitions: %d Weir brokers, %d partitions wanted (%d a topic, RF=%d)\n",
		len(p.Brokers), p.Target, p.PartitionsPerTopic, p.ReplicationFactor)
	fmt.Fprintf(w, "created %d in %s (%d CreateTopics requests, slowest %s); %d had leaders %s later; %d records (one a partition) acknowledged in %s\n",
		p.Created, fmtLatency(p.CreateElapsed), p.Requests, fmtLatency(p.SlowestRequest), p.Led, fmtLatency(p.LeadersWait),
		p.Produced, fmtLatency(p.ProduceElapsed))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "broker\tVmRSS at start\tVmRSS created\tVmRSS produced\tVmHWM\topen files\tfile limit\tidle CPU (cores)\t")
	over := false
	for _, b := range p.Brokers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%.2f\t\n", b.Node, byteSize(b.Start.RSSBytes), byteSize(b.Created.RSSBytes),
			byteSize(b.Produced.RSSBytes), byteSize(max(b.Produced.HWMBytes, b.Created.HWMBytes)), b.OpenFiles, b.OpenFileLimit, b.IdleCPU)
		over = over || b.Produced.RSSBytes >= TargetPartitionsRSSBytes
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.Produced > 0 {
		fmt.Fprintf(w, "target: VmRSS < %s on each broker: %s\n", byteSize(TargetPartitionsRSSBytes), verdict(!over))
	}
	return writeSectionEnd(w, p.Err, p.Logs)
}

// writeSectionEnd prints a section's error and what its brokers logged.
func writeSectionEnd(w io.Writer, errText string, logs []LogDigest) error {
	if errText != "" {
		fmt.Fprintf(w, "FAILED: %s\n", errText)
	}
	for _, d := range logs {
		if d.Warnings+d.Errors == 0 {
			continue
		}
		fmt.Fprintf(w, "log %s: %d warnings, %d errors\n", d.Path, d.Warnings, d.Errors)
		for _, s := range d.Samples {
			fmt.Fprintf(w, "  %dx %s\n", s.Count, truncate(s.First, 300))
		}
	}
	_, err := fmt.Fprint(w)
	return err
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
