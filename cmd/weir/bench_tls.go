package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/bench"
)

// newBenchTLSCmd is `weir bench tls`: produce and consume throughput over
// PLAINTEXT, SSL and SASL_SSL listeners of one cluster, in one run.
func newBenchTLSCmd() *cobra.Command {
	var (
		o          bench.TLSOptions
		records    int64
		recordSize int
	)
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Produce and consume throughput over TLS and SASL_SSL against PLAINTEXT, same cluster, same run",
		Long: `Start a cluster whose brokers listen on PLAINTEXT (inter-broker), SSL and
SASL_SSL (SCRAM-SHA-512) at once, with certificates from a fresh local CA,
and run the same produce (acks and idempotence as flagged) and consume
through each listener, the listeners taking turns for --rounds rounds.
Prints each listener's median produce and consume throughput, relative to
PLAINTEXT, and its median produce p99 (make bench).`,
		Example: `  weir bench tls
  weir bench tls --records 50000 --rounds 5 --nodes 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench tls: finding this binary: %w", err)
			}
			if o.WeirBinary == "" {
				o.WeirBinary = self
			}
			keep := o.WorkDir != ""
			if !keep {
				if o.WorkDir, err = os.MkdirTemp("", "weir-bench-tls-"); err != nil {
					return fmt.Errorf("bench tls: creating a work dir: %w", err)
				}
			}
			o.Client.Records, o.Client.RecordSize, o.Progress = records, recordSize, cmd.ErrOrStderr()
			settleIdempotence(cmd, &o.Client)
			runs, err := bench.RunTLS(cmd.Context(), o)
			if werr := bench.WriteTLSTable(cmd.OutOrStdout(), runs); werr != nil && err == nil {
				err = werr
			}
			if err != nil {
				return fmt.Errorf("bench tls: %w (logs kept in %s)", err, o.WorkDir)
			}
			if keep {
				return nil
			}
			return os.RemoveAll(o.WorkDir)
		},
	}
	fs := cmd.Flags()
	clientFlags(fs, &o.Client)
	fs.IntVar(&o.Brokers, "nodes", 3, "brokers in the cluster it starts")
	fs.IntVar(&o.Rounds, "rounds", 3, "times every listener runs, taking turns; the table shows medians")
	fs.Int64Var(&records, "records", 200000, "records produced and consumed per listener")
	fs.IntVar(&recordSize, "record-size", 1024, "value bytes per record")
	fs.StringVar(&o.WeirBinary, "weir-binary", "", "weir binary that runs the broker (default: this one)")
	fs.StringVar(&o.WorkDir, "work-dir", "", "where data, logs and certificates go (kept; default: a temporary dir, removed on success)")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "bound on each listener's produce and consume")
	return cmd
}
