package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/weirhq/weir/bench"
)

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generators and the Weir-versus-kfake comparison",
		Long: `Generate load against any Kafka cluster and measure it: produce throughput
and per-record acknowledgement latency (from the Produce call to its
callback), and consume throughput. 'weir bench compare' runs the same
workload against a Weir broker and against franz-go's kfake (make bench).`,
		Example: `  weir bench produce --topic bench --records 1000000 --record-size 1024
  weir bench consume --topic bench
  weir bench compare --quick`,
	}
	cmd.AddCommand(newBenchProduceCmd(g), newBenchConsumeCmd(g), newBenchCompareCmd(), newBenchTxnCmd(), newKfakeServerCmd(), newBenchTLSCmd())
	return cmd
}

// clientFlags registers the producer settings shared by `bench produce`
// and `bench compare` onto fs, filling o.
func clientFlags(fs *pflag.FlagSet, o *bench.Options) {
	fs.Int32Var(&o.Partitions, "partitions", 6, "partitions of the topic, if it is created")
	fs.StringVar(&o.Acks, "acks", "all", "acknowledgements: all, 1 or 0")
	fs.BoolVar(&o.Idempotent, "idempotent", true, "idempotent producer (only with --acks all)")
	fs.DurationVar(&o.Linger, "linger", 0, "producer linger: how long a batch may wait to fill")
	fs.Int32Var(&o.BatchMaxBytes, "batch-max-bytes", 0, "largest record batch the producer builds (0: franz-go's default, 1 MB)")
	fs.StringVar(&o.Compression, "compression", "none", "batch compression: none, gzip, snappy, lz4, zstd")
	fs.IntVar(&o.Clients, "clients", 1, "producer clients, each with its own connections")
}

// settleIdempotence turns idempotence off for acks other than all unless
// --idempotent was given explicitly (then bench.Produce reports the clash).
func settleIdempotence(cmd *cobra.Command, o *bench.Options) {
	if o.Acks != "all" && o.Acks != "-1" && !cmd.Flags().Changed("idempotent") {
		o.Idempotent = false
	}
}

func newBenchProduceCmd(g *globals) *cobra.Command {
	var (
		o      bench.Options
		output string
	)
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Produce a synthetic workload and report throughput and latency",
		Long: `Produce fixed-size random records to --topic (created with --partitions if
missing) for --records records or for --duration, and report records/s,
MB/s and the p50/p99/p99.9 acknowledgement latency of each record.`,
		Example: `  weir bench produce --topic bench --records 1000000 --record-size 1024
  weir bench produce -b kafka:9092 --topic bench --duration 30s --clients 4 --linger 5ms --compression lz4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			o.Brokers = g.brokers
			settleIdempotence(cmd, &o)
			res, err := bench.Produce(cmd.Context(), o)
			if err != nil {
				return fmt.Errorf("bench produce: %w", err)
			}
			return report(cmd.OutOrStdout(), output, res)
		},
	}
	cmd.Flags().StringVar(&o.Topic, "topic", "weir-bench", "topic to produce to")
	cmd.Flags().IntVar(&o.RecordSize, "record-size", 1024, "bytes per record value")
	cmd.Flags().Int64Var(&o.Records, "records", 0, "records to produce (0: run for --duration)")
	cmd.Flags().DurationVar(&o.Duration, "duration", 10*time.Second, "how long to produce when --records is 0")
	clientFlags(cmd.Flags(), &o)
	outputFlag(cmd, &output)
	return cmd
}

func newBenchConsumeCmd(g *globals) *cobra.Command {
	var (
		o      bench.ConsumeOptions
		output string
	)
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Drain a topic and report consume throughput",
		Long: `Read every partition of --topic from its start to the end offsets it had when
the run began, and report records/s, MB/s and the time to drain.`,
		Example: "  weir bench consume --topic bench\n  weir bench consume -b kafka:9092 --topic bench -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			o.Brokers = g.brokers
			res, err := bench.Consume(cmd.Context(), o)
			if err != nil {
				return fmt.Errorf("bench consume: %w", err)
			}
			return report(cmd.OutOrStdout(), output, res)
		},
	}
	cmd.Flags().StringVar(&o.Topic, "topic", "weir-bench", "topic to drain")
	cmd.Flags().Int32Var(&o.FetchMaxBytes, "fetch-max-bytes", 0, "largest fetch response (0: franz-go's default)")
	outputFlag(cmd, &output)
	return cmd
}

// report prints a result as its one-line summary or as JSON.
func report(w io.Writer, output string, res fmt.Stringer) error {
	if output == "json" {
		return writeJSON(w, res)
	}
	_, err := fmt.Fprintln(w, res)
	return err
}

// compareFlags are `weir bench compare`'s options beyond the client ones.
type compareFlags struct {
	weirBinary, candidate, baseline string
	records1K, records100B          int64
	memBytes                        int64
	quick                           bool
	cluster                         bool   // run the cluster sections after the single-broker ones
	only                            string // comma-separated sections; overrides cluster
	clusterOpts                     bench.ClusterOptions
	jsonOut, workDir                string
	timeout                         time.Duration
}

func newBenchCompareCmd() *cobra.Command {
	var (
		cf compareFlags
		o  bench.Options
	)
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Run the same workload against a Weir broker and kfake, side by side",
		Long: `Start a Weir broker (this binary's 'broker' command, or --weir-binary) and
franz-go's kfake ('weir bench kfake-server'), each as a child process with
a fresh data directory and free ports, and run identical workloads against
both: 1 KiB and 100 B records, 6 partitions, acks=all, idempotent. Each
workload produces a fixed number of records, then drains the topic. The
table shows records/s, MB/s, produce latency percentiles, consume
records/s, and the Weir/kfake ratio.

Then the memory phase: a fresh Weir broker takes --mem-bytes of 1 KiB
records and its resident memory (VmRSS, VmHWM from /proc) is reported.

Then, with --cluster (the default) and Weir as the candidate, four
sections on replicated clusters of three brokers, each cluster fresh:
  cluster     the 1 KiB workload (--cluster-records), latency runs at 10 %,
              25 % and 50 % of the rate it reached (--latency-duration each;
              produce and produce-to-consume p50/p99, the machine's busy
              CPU share, the servers' cores and CPU per record; the
              targets judge 50 %) and the 100 B workload
              (--cluster-records-100b) on three Weir brokers
              (RF=3, min.insync.replicas=2) and on a three-broker kfake
              (RF=3 in its metadata; kfake keeps one copy of the data);
              the throughput workloads run --cluster-rounds times on each,
              fresh clusters taking turns, and the ratios judged are the
              medians of the rounds' (the latency runs: first round only)
  cpu         one partition at RF=3 (min.insync.replicas=2), --cpu-bytes of
              1 KiB records acks=all after a tenth as warm-up, then one
              consumer reads it all: ms of CPU per MB of the leader, each
              follower and the client (from /proc and getrusage), on Weir
              and on kfake (one process for all nodes)
  failover    a probe sends a record every 5ms to one partition (acks=all);
              its leader is SIGKILLed and the time to the first
              acknowledged record sent after the kill is measured, then
              the broker restarts and rejoins the ISR (--failover-runs)
  partitions  --many-partitions partitions (RF=3) created in batches, one
              record to each, then each broker's VmRSS, VmHWM, open files
Each cluster section also reports the warnings and errors its brokers
logged. --only runs just the named sections.

--candidate and --baseline choose the two systems (weir or kfake); kfake
against kfake checks the harness itself.`,
		Example: `  weir bench compare                      # what make bench runs
  weir bench compare --quick --json-out bench.json
  weir bench compare --candidate kfake --quick   # harness smoke test
  weir bench compare --only failover,partitions --work-dir /tmp/wb   # keep the brokers' logs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			settleIdempotence(cmd, &o)
			if cf.quick {
				applyQuick(cmd, &cf)
			}
			if err := checkCompareSizes(cf); err != nil {
				return err
			}
			sections, err := chooseSections(cf)
			if err != nil {
				return err
			}
			return runCompare(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cf, sections, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cf.weirBinary, "weir-binary", "", "weir binary that runs the broker (default: this one)")
	fs.StringVar(&cf.candidate, "candidate", "weir", "system measured: weir or kfake")
	fs.StringVar(&cf.baseline, "baseline", "kfake", "system compared against: weir or kfake")
	fs.Int64Var(&cf.records1K, "records-1k", 1_000_000, "records in the 1 KiB workload (0: skip it)")
	fs.Int64Var(&cf.records100B, "records-100b", 3_000_000, "records in the 100 B workload (0: skip it)")
	fs.Int64Var(&cf.memBytes, "mem-bytes", 2<<30, "bytes of 1 KiB records for the memory phase (0: skip it)")
	fs.BoolVar(&cf.quick, "quick", false, "a small run: 200,000 x 1 KiB, 1,000,000 x 100 B, 256 MiB memory phase, 200,000 x 1 KiB and 500,000 x 100 B on the clusters, one cluster round, 3s latency runs, 100 MB in the cpu section, one failover, 1,000 partitions (flags given explicitly win)")
	fs.BoolVar(&cf.cluster, "cluster", true, "after the single-broker comparison, run the cluster, cpu, failover and partitions sections (when the candidate is weir)")
	fs.StringVar(&cf.only, "only", "", "run only these sections, comma separated: single, memory, cluster, cpu, failover, partitions")
	fs.Int64Var(&cf.clusterOpts.Records, "cluster-records", 1_000_000, "1 KiB records of the cluster throughput run")
	fs.Int64Var(&cf.clusterOpts.Records100B, "cluster-records-100b", 3_000_000, "100 B records of the cluster's second throughput run (0: skip it)")
	fs.IntVar(&cf.clusterOpts.Rounds, "cluster-rounds", 3, "times the cluster section runs the throughput workloads on each system (fresh clusters, taking turns); its ratios are the medians")
	fs.DurationVar(&cf.clusterOpts.LatencyDuration, "latency-duration", bench.LatencyDuration, "how long each latency run of the cluster section produces")
	fs.Int64Var(&cf.clusterOpts.CPUBytes, "cpu-bytes", bench.DefaultCPUBytes, "bytes of 1 KiB records the cpu section produces and measures")
	fs.IntVar(&cf.clusterOpts.FailoverRuns, "failover-runs", 3, "leader kills in the failover section")
	fs.IntVar(&cf.clusterOpts.Partitions, "many-partitions", 10_000, "partitions the partitions section creates in all")
	fs.IntVar(&cf.clusterOpts.PartitionsPerTopic, "partitions-per-topic", 100, "partitions per topic in the partitions section")
	fs.IntVar(&cf.clusterOpts.TopicsPerRequest, "topics-per-request", 10, "topics per CreateTopics request in the partitions section")
	fs.StringVar(&cf.jsonOut, "json-out", "", "also write the results as JSON to this file")
	fs.StringVar(&cf.workDir, "work-dir", "", "where the children's data and logs go (default: a new temp dir, removed after a successful run)")
	fs.DurationVar(&cf.timeout, "timeout", 10*time.Minute, "bound on each startup, produce and consume run")
	clientFlags(fs, &o)
	return cmd
}

// applyQuick shrinks the defaults the user did not set.
func applyQuick(cmd *cobra.Command, cf *compareFlags) {
	set := func(name string, dst *int64, v int64) {
		if !cmd.Flags().Changed(name) {
			*dst = v
		}
	}
	set("records-1k", &cf.records1K, 200_000)
	set("records-100b", &cf.records100B, 1_000_000)
	set("mem-bytes", &cf.memBytes, 256<<20)
	set("cluster-records", &cf.clusterOpts.Records, 200_000)
	set("cluster-records-100b", &cf.clusterOpts.Records100B, 500_000)
	set("cpu-bytes", &cf.clusterOpts.CPUBytes, 100_000_000)
	if !cmd.Flags().Changed("latency-duration") {
		cf.clusterOpts.LatencyDuration = 3 * time.Second
	}
	if !cmd.Flags().Changed("failover-runs") {
		cf.clusterOpts.FailoverRuns = 1
	}
	if !cmd.Flags().Changed("cluster-rounds") {
		cf.clusterOpts.Rounds = 1
	}
	if !cmd.Flags().Changed("many-partitions") {
		cf.clusterOpts.Partitions = 1_000
	}
}

// checkCompareSizes refuses sizes that the sections would otherwise
// quietly replace with their defaults.
func checkCompareSizes(cf compareFlags) error {
	if cf.clusterOpts.CPUBytes < 1024 {
		return fmt.Errorf("bench compare: --cpu-bytes %d: want at least one 1 KiB record (1024)", cf.clusterOpts.CPUBytes)
	}
	if cf.clusterOpts.LatencyDuration <= 0 {
		return fmt.Errorf("bench compare: --latency-duration %s: want a positive duration", cf.clusterOpts.LatencyDuration)
	}
	if cf.clusterOpts.Rounds < 1 {
		return fmt.Errorf("bench compare: --cluster-rounds %d: want at least 1", cf.clusterOpts.Rounds)
	}
	return nil
}

// chooseSections reads --only, or else runs the single-broker sections and,
// with --cluster and Weir as the candidate, the cluster ones.
func chooseSections(cf compareFlags) (bench.Sections, error) {
	if cf.only != "" {
		s, err := bench.ParseSections(cf.only)
		if err != nil {
			return s, fmt.Errorf("bench compare: --only: %w", err)
		}
		return s, nil
	}
	s := bench.AllSections
	if !cf.cluster || cf.candidate != "weir" {
		s.Cluster, s.CPU, s.Failover, s.Partitions = false, false, false, false
	}
	return s, nil
}

func runCompare(ctx context.Context, stdout, stderr io.Writer, cf compareFlags, sections bench.Sections, client bench.Options) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench compare: finding this binary: %w", err)
	}
	workDir, keep := cf.workDir, cf.workDir != ""
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "weir-bench-"); err != nil {
			return fmt.Errorf("bench compare: creating a work dir: %w", err)
		}
	} else if err := os.MkdirAll(workDir, 0o755); err != nil {
		return fmt.Errorf("bench compare: creating %s: %w", workDir, err)
	}
	opts := bench.CompareOptions{
		Binary: self, WeirBinary: cf.weirBinary, Candidate: cf.candidate, Baseline: cf.baseline,
		Workloads: compareWorkloads(cf), Client: client, MemBytes: cf.memBytes,
		Sections: sections, Cluster: cf.clusterOpts,
		WorkDir: workDir, Timeout: cf.timeout, Progress: stderr,
	}
	rep, err := bench.Compare(ctx, opts)
	if werr := writeCompare(stdout, cf.jsonOut, rep); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("bench compare: %w (logs kept in %s)", err, workDir)
	}
	if !keep {
		os.RemoveAll(workDir)
	}
	return nil
}

func compareWorkloads(cf compareFlags) []bench.Workload {
	var ws []bench.Workload
	if cf.records1K > 0 {
		ws = append(ws, bench.Workload{Name: "1KiB", RecordSize: 1024, Records: cf.records1K})
	}
	if cf.records100B > 0 {
		ws = append(ws, bench.Workload{Name: "100B", RecordSize: 100, Records: cf.records100B})
	}
	return ws
}

// writeCompare prints the table and writes the JSON file, if asked.
func writeCompare(w io.Writer, jsonOut string, rep *bench.CompareReport) error {
	if rep == nil || len(rep.Runs) == 0 && rep.Memory == nil && rep.Cluster == nil && rep.CPU == nil && rep.Failover == nil && rep.ManyPartitions == nil {
		return nil
	}
	fmt.Fprintln(w)
	if err := rep.WriteTable(w); err != nil {
		return err
	}
	if jsonOut == "" {
		return nil
	}
	f, err := os.Create(jsonOut)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if err := writeJSON(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("writing results to %s: %w", jsonOut, err)
	}
	return f.Close()
}

func newKfakeServerCmd() *cobra.Command {
	var port, brokers int
	cmd := &cobra.Command{
		Use:    "kfake-server --port N [--brokers N]",
		Short:  "Run franz-go's kfake cluster until interrupted (for bench compare)",
		Long:   `Run an in-memory kfake cluster on 127.0.0.1, broker i listening on port N+i, until SIGINT or SIGTERM.`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKfake(cmd.Context(), cmd.ErrOrStderr(), port, brokers)
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "first broker's port (0: any free ports)")
	cmd.Flags().IntVar(&brokers, "brokers", 1, "number of brokers")
	return cmd
}

func runKfake(ctx context.Context, stderr io.Writer, port, brokers int) error {
	if brokers < 1 {
		return fmt.Errorf("kfake-server: --brokers %d: want at least 1", brokers)
	}
	ports := make([]int, brokers)
	for i := range ports {
		if port > 0 {
			ports[i] = port + i
		}
	}
	c, err := kfake.NewCluster(kfake.Ports(ports...), kfake.NumBrokers(brokers))
	if err != nil {
		return fmt.Errorf("kfake-server: starting the cluster: %w", err)
	}
	defer c.Close()
	fmt.Fprintf(stderr, "kfake listening on %s\n", strings.Join(c.ListenAddrs(), ","))
	<-ctx.Done()
	return nil
}
