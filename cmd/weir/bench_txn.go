package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/bench"
)

func newBenchTxnCmd() *cobra.Command {
	var (
		o       bench.TxnOptions
		workDir string
		jsonOut string
	)
	cmd := &cobra.Command{
		Use:   "txn",
		Short: "Transactional against idempotent produce throughput on a 3-broker cluster",
		Long: `Start three Weir brokers (RF=3, min.insync.replicas=2) as child processes
and produce --records records of --record-size bytes with one producer
(acks=all) three ways, each to a fresh topic: idempotent, then in committed
transactions of 100 records, then of 10,000 (--txn-sizes). Prints records/s,
MB/s and produce latency side by side (make bench).`,
		Example: `  weir bench txn
  weir bench txn --records 50000 --txn-sizes 10,1000 --json-out txn.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench txn: finding this binary: %w", err)
			}
			if workDir == "" {
				if workDir, err = os.MkdirTemp("", "weir-bench-txn-"); err != nil {
					return fmt.Errorf("bench txn: creating a work dir: %w", err)
				}
				defer os.RemoveAll(workDir)
			} else if err := os.MkdirAll(workDir, 0o755); err != nil {
				return fmt.Errorf("bench txn: creating %s: %w", workDir, err)
			}
			o.Compare.Binary, o.Compare.WorkDir, o.Compare.Progress = self, workDir, cmd.ErrOrStderr()
			rep, err := bench.TxnCompare(cmd.Context(), o)
			if rep != nil {
				if werr := rep.WriteTable(cmd.OutOrStdout()); werr != nil && err == nil {
					err = werr
				}
				if jsonOut != "" && err == nil {
					err = writeJSONFile(jsonOut, rep)
				}
			}
			if err != nil {
				return fmt.Errorf("bench txn: %w", err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.Int64Var(&o.Records, "records", 200_000, "records of each run")
	fs.IntVar(&o.RecordSize, "record-size", 1024, "bytes per record value")
	fs.Int64SliceVar(&o.TxnSizes, "txn-sizes", []int64{100, 10_000}, "records per transaction, one run each")
	fs.Int16Var(&o.TransactionVersion, "transaction-version", 0, "finalize transaction.version at this level first (2: KIP-890 part 2); 0 leaves the cluster's default")
	fs.BoolVar(&o.Steps, "steps", false, "also print each transactional run's client-side steps: request round trips per transaction and CONCURRENT_TRANSACTIONS backoffs")
	fs.Int32Var(&o.Compare.Client.Partitions, "partitions", 6, "partitions of each topic")
	fs.DurationVar(&o.Compare.Client.Linger, "linger", 0, "producer linger")
	fs.StringVar(&o.Compare.Client.Compression, "compression", "none", "batch compression: none, gzip, snappy, lz4, zstd")
	fs.StringVar(&o.Compare.WeirBinary, "weir-binary", "", "weir binary that runs the brokers (default: this one)")
	fs.StringVar(&workDir, "work-dir", "", "where the brokers' data and logs go (default: a temp dir, removed after)")
	fs.StringVar(&jsonOut, "json-out", "", "also write the results as JSON to this file")
	fs.DurationVar(&o.Compare.Timeout, "timeout", 10*time.Minute, "bound on each startup and produce run")
	return cmd
}

// writeJSONFile writes v as JSON to path.
func writeJSONFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		return fmt.Errorf("writing results to %s: %w", path, err)
	}
	return f.Close()
}
